"""`audit inspect`: show how a page's forms and fields are read (no submission)."""

from __future__ import annotations

import asyncio
from typing import Any

from audit.models import (
    BrowserSettings,
)


def inspect(targets: list[str], browser: BrowserSettings | None = None) -> list[dict[str, Any]]:
    """The forms on each target page, the one picked and every field's role."""
    from probes.inspect import inspect_targets

    return asyncio.run(inspect_targets(targets, browser or BrowserSettings()))

"""`audit inspect`: show how a page's forms and fields are read (no submission)."""

from __future__ import annotations

import asyncio
from typing import Any

from audit.errors import ConfigError
from audit.models import BrowserSettings, check_browser_endpoint


def inspect(
    targets: list[str],
    browser: BrowserSettings | None = None,
    browser_endpoint: str | None = None,
) -> list[dict[str, Any]]:
    """The forms on each target page, the one picked and every field's role (in a browser
    launched here, or on the browser server at ``browser_endpoint``)."""
    from probes.inspect import inspect_targets

    settings = browser or BrowserSettings()
    if browser_endpoint:
        try:
            endpoint = check_browser_endpoint(browser_endpoint)
        except ValueError as exc:
            raise ConfigError(f"--browser-endpoint: {exc}") from None
        settings = settings.model_copy(update={"endpoint": endpoint})
    return asyncio.run(inspect_targets(targets, settings))

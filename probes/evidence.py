"""Evidence of a probe (a step of probes.runner): screenshots, page.html and the JSON
files (values sent, the submit request, ...) under the company's evidence folder, each
listed in the result's evidence."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

from audit.models import Evidence
from probes.state import Probe

log = logging.getLogger(__name__)


def path_for(p: Probe, kind: str, name: str) -> Path:
    path = p.evidence_dir / name
    rel = Path(path)
    with contextlib.suppress(ValueError):
        rel = path.resolve().relative_to(Path(p.req.workspace).resolve())
    p.result.evidence = [e for e in p.result.evidence if e.kind != kind]
    p.result.evidence.append(Evidence(kind, str(rel)))
    return path


async def screenshot(p: Probe, kind: str, name: str) -> None:
    """PNG evidence at the cost it deserves (bench/bench_evidence.py): the filled form
    itself for ``screenshot_before`` (every field, readable, whatever the page's
    length), else what the visitor sees (the viewport). A full-page shot of a long
    page costs ~9x the CPU and ~15x the bytes; the page's whole text is kept in
    page.html."""
    path = str(path_for(p, kind, name))
    if kind == "screenshot_before" and p.form_shot is not None:
        try:
            await p.form_shot.screenshot(path=path, timeout=5000)
            return
        except Exception as exc:  # gone, hidden, zero-size: the viewport instead
            log.debug("form screenshot failed: %s", exc)
    try:
        await p.page.screenshot(path=path, timeout=15000)
    except Exception as exc:
        log.debug("screenshot %s failed: %s", name, exc)
        p.result.evidence = [e for e in p.result.evidence if e.kind != kind]


async def save_html(p: Probe) -> None:
    try:
        html = await asyncio.wait_for(p.page.content(), 10)
        path_for(p, "page_html", "page.html").write_text(html, encoding="utf-8")
    except Exception as exc:
        log.debug("page.html failed: %s", exc)


def save_json(p: Probe, kind: str, name: str, data: Any) -> None:
    path_for(p, kind, name).write_text(
        json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )


def save_values(p: Probe) -> None:
    save_json(
        p,
        "values",
        "values.json",
        [
            {"name": r.name, "role": r.role, "selector": r.selector, "value_sent": r.value_sent}
            for r in p.result.fields
        ],
    )


def save_request(p: Probe) -> None:
    sub = p.capture.submit_request()
    if sub is None:
        save_json(p, "request", "request.json", {"sent": False, "requests": []})
        return
    p.result.request = {
        "url": sub.url,
        "method": sub.method,
        "status": sub.status,
        "ms": sub.ms,
    }
    save_json(
        p,
        "request",
        "request.json",
        {
            **p.result.request,
            "sent": True,
            "post_data": sub.post_data,
            "response_excerpt": (sub.body or "")[:2000],
            "failure": sub.failure,
            "submitted_at": p.result.submitted_at,
            "others": [
                {"url": x.url, "method": x.method, "status": x.status}
                for x in p.capture.sent
                if x is not sub
            ][:20],
        },
    )

"""The report's HTML pages, rendered with jinja2 from the view models of ``reports.build``.

Every page opens from disk: CSS inline, charts as inline SVG, the leaderboard's one script
inline and pinned by a Content-Security-Policy hash (nothing else can run even if escaping
ever failed). Company content is untrusted: jinja2 autoescape, plus
``safety.neutralise`` (bidi controls) through the environment's ``finalize`` hook; links
to company sites only for http(s) URLs.

Two forms, chosen by the size of the wave:

- up to ``page_rows`` companies (a consultant's survey): the leaderboard lists every row as
  HTML and each company has its own page, ``companies/<id>.html``;
- beyond (research scale): the leaderboard's first ``page_rows`` rows are HTML (it reads
  without scripts) and every row is in a compact JSON data island that the script pages,
  searches and sorts; companies share pages of ``group_size`` in ranking order,
  ``companies/p0001.html#<id>``, linked to each other so every company is reachable
  without scripts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from itertools import islice
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from reports import charts
from reports.build import (
    Leaderboard,
    PageKey,
    View,
    WaveData,
    company_views,
    days,
    group_file,
    leaderboard,
    methodology,
)
from reports.i18n import strings
from reports.safety import neutralise, relative_href
from reports.survival import SurvivalCurve

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
PAGE_ROWS = 500
GROUP_SIZE = 100


def _finalize(value: Any) -> Any:
    """Every value printed by a template: strings lose bidi controls."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return neutralise(value)
    return value


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=False,
        keep_trailing_newline=True,
    )


def ui_strings(lang: str) -> View:
    """The interface strings, escaped once: trusted constants that skip per-use escaping."""
    return View({k: escape(v) for k, v in strings(lang).items()})


def csp(script: str | None) -> str:
    if script is None:
        scripts = "'none'"
    else:
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        scripts = f"'sha256-{digest}'"
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' file: data:; "
        f"script-src {scripts}; base-uri 'none'; form-action 'none'"
    )


def tool_version() -> str:
    try:
        return importlib_metadata.version("contact-audit")
    except importlib_metadata.PackageNotFoundError:
        return "dev"


@dataclass
class Layout:
    """How big the pages are: rows of HTML in the leaderboard, companies per page (0: one
    page each)."""

    page_rows: int = PAGE_ROWS
    group_size: int = 0

    @classmethod
    def for_size(cls, n: int, page_rows: int = PAGE_ROWS, group_size: int = GROUP_SIZE) -> Layout:
        return cls(page_rows, group_size if n > page_rows else 0)

    @property
    def compact(self) -> bool:
        return self.group_size > 0


def render_all(
    data: WaveData,
    out: Path,
    layout: Layout,
    file_of: dict[PageKey, str],
    alongside: Callable[[], None] | None = None,
) -> None:
    """index.html, the company pages and methodology.html into ``out``.

    ``alongside``: other work of this process (the exports); at research scale it runs
    while a forked copy of the process renders most of the company pages.
    """
    env = environment()
    t = ui_strings(data.lang)
    survey = data.workspace.survey
    common = {
        "lang": data.lang,
        "t": t,
        "css": Markup((TEMPLATES / "report.css").read_text("utf-8")),
        "survey_name": survey.survey.name,
        "wave_name": data.wave_name,
        "generated": data.now.astimezone(data.tz).strftime("%Y-%m-%d %H:%M %Z"),
        "tool_version": tool_version(),
        "simulated_banner": t["simulated"].format(days=days(data.offset)) if data.offset else "",
    }
    comp_dir = out / "companies"
    href_of = _evidence_links(data, comp_dir)
    size = layout.group_size
    count = (len(data.results) + size - 1) // size if size else 0

    def groups(first: int, last: int) -> None:
        _write_groups(env, common, data, size, file_of, comp_dir, href_of, first, last)

    split = count
    pid = None
    if layout.compact and len(data.results) >= PARALLEL_MIN_COMPANIES and _fork_helps():
        # A forked copy of this process (the view data shared copy-on-write) renders the
        # pages from ``split`` on while this one does the rest of the report.
        split = round(count * PARENT_SHARE)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's coverage is not collected
            code = 1
            try:
                groups(split, count)
                code = 0
            except BaseException:
                log.exception("rendering company pages %d-%d failed", split + 1, count)
            finally:
                os._exit(code)
    try:
        if alongside is not None:
            alongside()
        board = leaderboard(data, file_of)
        write_index(env, common, data, board, layout, out)
        del board
        if layout.compact:
            groups(0, split)
        else:
            write_pages(env, common, data, file_of, comp_dir, href_of)
        m = methodology(data)
        html = env.get_template("methodology.html.j2").render(**common, root="", csp=csp(None), m=m)
        (out / "methodology.html").write_text(html, "utf-8")
    finally:
        if pid is not None:
            _, status = os.waitpid(pid, 0)
    if pid is not None and os.waitstatus_to_exitcode(status) != 0:
        log.warning("the second renderer failed; rendering its pages here")
        groups(split, count)


PARALLEL_MIN_COMPANIES = 5_000
PARENT_SHARE = 0.4  # of the shared pages: this process also writes the exports and index


def _fork_helps() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1


# ---------------------------------------------------------------------------------------
# Leaderboard
# ---------------------------------------------------------------------------------------
def _charts(data: WaveData) -> dict[str, Any]:
    plain = strings(data.lang)  # charts escape their own text
    results, curves, basis = data.results, data.curves, data.basis
    return {
        "distribution": charts.distribution(
            results, plain["chart_distribution"], plain["no_reply_short"], basis
        ),
        "survival": charts.survival(
            [
                SurvivalCurve(**{**c.__dict__, "group": plain["all_sectors"]}) if i == 0 else c
                for i, c in enumerate(curves)
            ],
            plain["chart_survival"],
            data.lang,
            plain["median_word"],
        ),
        "funnel": charts.funnel(
            [(plain[f"funnel_{s}"], n) for s, n in data.steps], plain["chart_funnel"]
        ),
        "quality": charts.speed_quality(results, plain["chart_quality"], basis),
    }


def _json_in_html(value: Any) -> Markup:
    """JSON for a <script type="application/json"> element: nothing in it can close the
    element or start markup, and no bidi control reorders what the script shows."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(neutralise(text))


def _number(value: str) -> int | float | None:
    if not value:
        return None
    f = float(value)
    return int(f) if f.is_integer() else f


def island(data: WaveData, board: Leaderboard, page_rows: int) -> Markup:
    """Every leaderboard row, compact: labels once, rows as arrays (leaderboard.js)."""
    plain = strings(data.lang)
    tiers: list[list[str]] = []
    tier_index: dict[tuple[str, str, str], int] = {}
    rows = []
    for r in board.rows:
        tkey = (str(r["tier"]), r["tier_sort"], r["tier_class"])
        if tkey not in tier_index:
            tier_index[tkey] = len(tiers)
            tiers.append(list(tkey))
        rows.append(
            [
                r["rank"],
                r["company"],
                r["href"],
                r["sector"],
                r["status"],
                r["business"],
                _number(r["business_sort"]),
                r["wall"],
                _number(r["wall_sort"]),
                r["first"],
                _number(r["first_sort"]),
                tier_index[tkey],
                str(r["promise"]),
                r["change"],
                r["channel"],
            ]
        )
    unreachable = [
        [r["company"], r["href"], r["sector"], r["status"], r["reason"], r["channel"]]
        for r in board.unreachable
    ]
    labels = {
        s: plain[f"status_{s}"] for s in {r["status"] for r in board.rows + board.unreachable}
    }
    return _json_in_html(
        {
            "page": page_rows,
            "t": {
                "rows": plain["rows_of"],
                "prev": plain["prev_page"],
                "next": plain["next_page"],
            },
            "status": labels,
            "channels": {c: plain.get(f"channel_{c}", c) for c in board.channels},
            "tiers": tiers,
            "rows": rows,
            "unreachable": unreachable,
        }
    )


def write_index(
    env: jinja2.Environment,
    common: dict[str, Any],
    data: WaveData,
    board: Leaderboard,
    layout: Layout,
    out: Path,
) -> None:
    script_text = (TEMPLATES / "leaderboard.js").read_text("utf-8")
    plain = strings(data.lang)
    rows, unreachable = board.rows, board.unreachable
    data_island: Markup | None = None
    pager: dict[str, Any] = {}
    n = layout.page_rows
    if len(rows) > n or len(unreachable) > n:
        data_island = island(data, board, n)

        def rows_of(total: int) -> str:
            return plain["rows_of"].format(first=1 if total else 0, last=min(n, total), total=total)

        pager = {
            "rows": rows_of(len(rows)),
            "note": plain["rows_note"].format(n=n, total=len(rows)),
            "unreachable_rows": rows_of(len(unreachable)) if len(unreachable) > n else "",
            "first_group": "companies/" + group_file(0, layout.group_size or GROUP_SIZE),
        }
        rows, unreachable = rows[:n], unreachable[:n]
    html = env.get_template("index.html.j2").render(
        **common,
        root="",
        csp=csp(script_text),
        script=Markup(script_text),
        summary=board.summary,
        sectors=board.sectors,
        channels=board.channels,
        rows=rows,
        unreachable=unreachable,
        has_previous=board.has_previous,
        curves=board.curves,
        charts=_charts(data),
        island=data_island,
        pager=pager,
    )
    (out / "index.html").write_text(html, "utf-8")


# ---------------------------------------------------------------------------------------
# Company pages
# ---------------------------------------------------------------------------------------
def _evidence_links(data: WaveData, comp_dir: Path) -> Any:
    root_rel = os.path.relpath(data.workspace.root, comp_dir)

    def href_of(path: str) -> str:
        rel = os.path.normpath(os.path.join(root_rel, path)).replace(os.sep, "/")
        return relative_href(rel)

    return href_of


def _chunks(it: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(it, size)):
        yield chunk


def write_pages(
    env: jinja2.Environment,
    common: dict[str, Any],
    data: WaveData,
    file_of: dict[PageKey, str],
    comp_dir: Path,
    href_of: Any,
) -> None:
    """One page per company (a consultant's survey)."""
    template = env.get_template("company.html.j2")
    page_csp = csp(None)
    for key, c in company_views(data, href_of):
        html = template.render(**common, root="../", csp=page_csp, c=c)
        (comp_dir / file_of[key]).write_text(html, "utf-8")


def _write_groups(
    env: jinja2.Environment,
    common: dict[str, Any],
    data: WaveData,
    size: int,
    file_of: dict[PageKey, str],
    comp_dir: Path,
    href_of: Any,
    first_group: int,
    last_group: int,
) -> None:
    """Shared company pages number first_group to last_group - 1 (0-based)."""
    template = env.get_template("companies.html.j2")
    plain = strings(data.lang)
    page_csp = csp(None)
    total = len(data.results)
    count = (total + size - 1) // size
    views = company_views(data, href_of, first_group * size, last_group * size)
    for i, group in enumerate(_chunks(views, size), start=first_group):
        for key, c in group:
            c["anchor"] = file_of[key].partition("#")[2]
        first = i * size
        meta = {
            "number": i + 1,
            "count": count,
            "rows": plain["rows_of"].format(first=first + 1, last=first + len(group), total=total),
            "prev": group_file(first - size, size) if i > 0 else "",
            "next": group_file(first + size, size) if i + 1 < count else "",
        }
        html = template.render(
            **common, root="../", csp=page_csp, companies=[c for _, c in group], group=meta
        )
        (comp_dir / group_file(first, size)).write_text(html, "utf-8")

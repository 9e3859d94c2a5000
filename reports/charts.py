"""Charts drawn as inline SVG strings: no plotting library, no network, prints cleanly.

Every piece of text that enters a chart goes through ``_t`` (escaped, bidi controls
removed); the functions return ``markupsafe.Markup`` so the templates insert them as is.
Time axes are logarithmic (1 minute to 14 days) because reply times span four orders of
magnitude.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from reports.i18n import fmt_duration
from reports.safety import neutralise
from reports.survival import SurvivalCurve

PALETTE = ["#1f5fa8", "#d1495b", "#2e933c", "#edae49", "#7b4b94", "#00798c", "#8d6a9f", "#555"]
T_MIN, T_MAX = 60.0, 14 * 86400.0
TICKS = [(60, "1m"), (900, "15m"), (3600, "1h"), (4 * 3600, "4h"), (86400, "1d"), (5 * 86400, "5d")]


def _t(text: object) -> str:
    return str(escape(neutralise(str(text))))


def _x(seconds: float, left: float, width: float) -> float:
    s = min(max(seconds, T_MIN), T_MAX)
    return left + width * (math.log(s / T_MIN) / math.log(T_MAX / T_MIN))


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{_t(title)}" class="chart" direction="ltr">'
        f"<title>{_t(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _time_axis(left: float, width: float, top: float, bottom: float) -> list[str]:
    out = []
    for sec, label in TICKS:
        x = _x(sec, left, width)
        out.append(
            f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" class="grid"/>'
            f'<text x="{x:.1f}" y="{bottom + 14:.1f}" text-anchor="middle" class="tick">'
            f"{label}</text>"
        )
    return out


def distribution(results: pd.DataFrame, title: str, no_reply: str, basis: str) -> Markup:
    """Per sector: a histogram strip of reply times (log bins) and the no-reply count."""
    col = "business_seconds" if basis == "business" else "response_seconds"
    sent = results[results["submitted_at"].notna()]
    counts = sent["sector"].value_counts()
    sectors = sorted(counts.index, key=lambda s: (-counts[s], str(s)))[:12]
    left, width, row_h = 120.0, 400.0, 34.0
    height = int(30 + row_h * max(1, len(sectors)) + 30)
    edges = np.geomspace(T_MIN, T_MAX, 29)
    body: list[str] = _time_axis(left, width, 20, height - 30)
    for i, sector in enumerate(sectors):
        part = sent[sent["sector"] == sector]
        y = 24 + i * row_h
        vals = part.loc[part["status"] == "answered", col].to_numpy(dtype=float)
        hist, _ = np.histogram(np.clip(vals, T_MIN, T_MAX), bins=edges)
        peak = max(1, int(hist.max()) if len(hist) else 1)
        body.append(
            f'<text x="{left - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" '
            f'class="label">{_t(str(sector)[:16])}</text>'
        )
        for j, c in enumerate(hist):
            if c == 0:
                continue
            x0, x1 = _x(edges[j], left, width), _x(edges[j + 1], left, width)
            h = (row_h - 8) * c / peak
            body.append(
                f'<rect x="{x0:.1f}" y="{y + row_h - 4 - h:.1f}" width="{max(1.0, x1 - x0 - 1):.1f}"'
                f' height="{h:.1f}" fill="{PALETTE[0]}"><title>{int(c)}</title></rect>'
            )
        missing = int((part["status"] != "answered").sum())
        body.append(
            f'<text x="{left + width + 8}" y="{y + row_h / 2 + 4:.1f}" class="label">'
            f"{_t(no_reply)}: {missing}/{len(part)}</text>"
        )
    return _svg(int(left + width + 120), height, body, title)


def survival(
    curves: Sequence[SurvivalCurve], title: str, lang: str, median_word: str = "median"
) -> Markup:
    """Kaplan-Meier step curves (all + up to 6 sectors), the 95% band of 'all', median line."""
    left, width, top, plot_h = 50.0, 560.0, 16.0, 220.0
    bottom = top + plot_h
    shown = [c for c in curves if c.n > 0][:7]
    height = int(bottom + 36 + 18 * len(shown))
    body = _time_axis(left, width, top, bottom)

    def y(s: float) -> float:
        return top + plot_h * (1 - s)

    for v in (0.0, 0.5, 1.0):
        body.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{left + width}" y2="{y(v):.1f}" '
            f'class="{"median" if v == 0.5 else "grid"}"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" class="tick">'
            f"{int(v * 100)}%</text>"
        )
    for k, c in enumerate(shown):
        colour = PALETTE[k % len(PALETTE)]
        times = [max(T_MIN, t) for t in c.times] + [T_MAX]
        surv = c.survival + [c.survival[-1]]
        pts = []
        for i in range(len(times) - 1):
            x0, x1 = _x(times[i], left, width), _x(times[i + 1], left, width)
            pts.append(f"{x0:.1f},{y(surv[i]):.1f} {x1:.1f},{y(surv[i]):.1f}")
        if k == 0 and c.ci_low:
            lo = c.ci_low + [c.ci_low[-1]]
            hi = c.ci_high + [c.ci_high[-1]]
            upper, lower = [], []
            for i in range(len(times) - 1):
                x0, x1 = _x(times[i], left, width), _x(times[i + 1], left, width)
                upper += [f"{x0:.1f},{y(hi[i]):.1f}", f"{x1:.1f},{y(hi[i]):.1f}"]
                lower += [f"{x0:.1f},{y(lo[i]):.1f}", f"{x1:.1f},{y(lo[i]):.1f}"]
            body.append(
                f'<polygon points="{" ".join(upper + lower[::-1])}" fill="{colour}" '
                f'fill-opacity="0.12" stroke="none"/>'
            )
        body.append(
            f'<polyline points="{" ".join(pts)}" fill="none" stroke="{colour}" '
            f'stroke-width="{2.5 if k == 0 else 1.5}"/>'
        )
        med = fmt_duration(c.median_s, lang)
        body.append(
            f'<rect x="{left}" y="{bottom + 26 + 18 * k:.1f}" width="11" height="11" '
            f'fill="{colour}"/><text x="{left + 16}" y="{bottom + 36 + 18 * k:.1f}" '
            f'class="label">{_t(c.group)[:50]} (n={c.n}, {_t(median_word)} {_t(med)})</text>'
        )
    return _svg(int(left + width + 20), height, body, title)


def funnel(steps: Sequence[tuple[str, int]], title: str) -> Markup:
    """Horizontal bars for listed -> form found -> submitted -> acknowledged -> answered."""
    left, width, row_h = 130.0, 460.0, 28.0
    total = max(1, steps[0][1] if steps else 1)
    body: list[str] = []
    for i, (label, count) in enumerate(steps):
        y = 8 + i * row_h
        w = width * count / total
        body.append(
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end" class="label">{_t(label)}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 17}" class="label">{count} '
            f"({100 * count / total:.0f}%)</text>"
        )
    return _svg(int(left + width + 90), int(16 + row_h * len(steps)), body, title)


def speed_quality(results: pd.DataFrame, title: str, basis: str) -> Markup | None:
    """Scatter of reply time (log) against the analyst's quality score; None without grades."""
    col = "business_seconds" if basis == "business" else "response_seconds"
    pts = results[(results["status"] == "answered") & results["quality_score"].notna()]
    if pts.empty:
        return None
    left, width, top, plot_h = 50.0, 520.0, 14.0, 200.0
    bottom = top + plot_h
    body = _time_axis(left, width, top, bottom)
    for v in (0, 5, 10):
        yy = top + plot_h * (1 - v / 10)
        body.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" class="tick">{v}</text>'
        )
    for row in pts.head(2000).itertuples(index=False):
        x = _x(float(getattr(row, col)), left, width)
        yy = top + plot_h * (1 - min(max(float(row.quality_score), 0), 10) / 10)
        body.append(
            f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="4" fill="{PALETTE[1]}" fill-opacity="0.7">'
            f"<title>{_t(row.company)}</title></circle>"
        )
    return _svg(int(left + width + 20), int(bottom + 24), body, title)


TIER_COLOURS = ("#2e933c", "#7fb800", "#edae49", "#e07a1f")  # t0..t3 (report.css tiers)
NO_REPLY_COLOUR = "#d1495b"


def _shared_prefix(names: Sequence[str]) -> str:
    """What every wave name starts with, up to a separator, leaving 5+ characters
    ('demo-2026-' of 'demo-2026-11-15' and 'demo-2026-11-22'): the chart names the waves
    by the rest (the table beside it gives the full names)."""
    if len(names) < 2:
        return ""
    common = os.path.commonprefix(list(names))
    shortest = min(len(n) for n in names)
    while common:
        cut = max(common[:-1].rfind(ch) for ch in "-_ /.")
        common = common[: cut + 1] if cut >= 0 else ""
        if shortest - len(common) >= 5 or not common:  # leave names of 5+ characters
            return common
    return ""


def trend(
    points: Sequence[dict[str, object]],
    title: str,
    rtl: bool,
    no_reply: str,
    kept_word: str,
    broken_word: str,
) -> Markup:
    """One company across waves (a small multiple): reply time on a log axis (fast at the
    top), each wave's point in its tier's colour with its rank above it; a wave without a
    human reply on the "no reply" band below the axis; the promise kept (✓) or broken (✗)
    and the wave's name under the axis.

    ``points``: per wave, in time order: ``wave``, ``seconds`` (None: no reply), ``rank``
    (text), ``tier_class`` (t0-t3 or none), ``promise`` (kept, broken or ''), ``label``
    (the point's tooltip). In a right-to-left report the first wave is on the right, as
    in the table of waves beside it; the axis labels then stand on the right.
    """
    width, height = 300.0, 150.0
    axis_w = 74.0  # the tick labels and the no-reply band's name
    top, plot_h = 18.0, 76.0
    bottom = top + plot_h
    band = bottom + 16  # the no-reply band
    left = 8.0 if rtl else axis_w
    right = width - (axis_w if rtl else 8.0)
    n = len(points)
    step = (right - left - 48) / max(1, n - 1)

    def x(i: int) -> float:
        offset = 24 + (step * i if n > 1 else (right - left - 48) / 2)
        return right - offset if rtl else left + offset

    def y(seconds: float) -> float:
        s = min(max(seconds, T_MIN), T_MAX)
        return top + plot_h * (math.log(s / T_MIN) / math.log(T_MAX / T_MIN))

    label_x, anchor = (right + 4, "start") if rtl else (left - 4, "end")
    prefix = _shared_prefix([str(p["wave"]) for p in points])
    body: list[str] = []
    for sec, tick in ((60, "1m"), (3600, "1h"), (86400, "1d"), (7 * 86400, "7d")):
        yy = y(sec)
        body.append(
            f'<line x1="{left:.1f}" y1="{yy:.1f}" x2="{right:.1f}" y2="{yy:.1f}" class="grid"/>'
            f'<text x="{label_x:.1f}" y="{yy + 3:.1f}" text-anchor="{anchor}" class="tick">'
            f"{tick}</text>"
        )
    body.append(
        f'<text x="{label_x:.1f}" y="{band + 3:.1f}" text-anchor="{anchor}" class="tick">'
        f"{_t(no_reply)[:12]}</text>"
        f'<line x1="{left:.1f}" y1="{band:.1f}" x2="{right:.1f}" y2="{band:.1f}" '
        f'class="grid" stroke-dasharray="2 3"/>'
    )
    coords = []
    for i, p in enumerate(points):
        seconds = p.get("seconds")
        yy = band if seconds is None else y(float(seconds))  # type: ignore[arg-type]
        coords.append((x(i), yy, seconds is None))
    # the line joins the waves that were answered, in order
    path = [f"{cx:.1f},{cy:.1f}" for cx, cy, missing in coords if not missing]
    if len(path) > 1:
        body.append(
            f'<polyline points="{" ".join(path)}" fill="none" stroke="{PALETTE[0]}" '
            'stroke-width="1.5"/>'
        )
    for i, (p, (cx, cy, missing)) in enumerate(zip(points, coords, strict=True)):
        klass = str(p.get("tier_class") or "none")
        if p.get("unreachable"):  # not sent (form failed, blocked, not yet): a hollow mark
            body.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="none" stroke="#888" '
                f'stroke-width="1.5" class="point unreachable" data-wave="{_t(p["wave"])}" '
                f'data-i="{i}"><title>{_t(p.get("label", ""))}</title></circle>'
            )
        colour = (
            NO_REPLY_COLOUR
            if missing
            else TIER_COLOURS[int(klass[1])]
            if klass[:1] == "t" and klass[1:].isdigit()
            else PALETTE[-1]
        )
        if not p.get("unreachable"):
            body.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="{colour}" class="point" '
                f'data-wave="{_t(p["wave"])}" data-i="{i}"><title>{_t(p.get("label", ""))}'
                "</title></circle>"
            )
        if p.get("rank"):
            body.append(
                f'<text x="{cx:.1f}" y="{cy - 7:.1f}" text-anchor="middle" class="tick">'
                f"#{_t(p['rank'])}</text>"
            )
        promise = p.get("promise")
        if promise in ("kept", "broken"):
            mark, word = ("✓", kept_word) if promise == "kept" else ("✗", broken_word)
            body.append(
                f'<text x="{cx:.1f}" y="{band + 18:.1f}" text-anchor="middle" '
                f'class="label promise-{promise}">{mark}<title>{_t(word)}</title></text>'
            )
        if n <= 6 or i % math.ceil(n / 6) == 0 or i == n - 1:  # names that fit
            short = str(p["wave"])[len(prefix) :][:10]
            edge = "start" if cx < width * 0.25 else "end" if cx > width * 0.75 else "middle"
            tx = cx - 6 if edge == "start" else cx + 6 if edge == "end" else cx
            body.append(
                f'<text x="{tx:.1f}" y="{band + 32:.1f}" text-anchor="{edge}" class="tick">'
                f"{_t(short)}</text>"
            )
    return _svg(int(width), int(height), body, title)

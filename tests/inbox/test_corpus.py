"""The classification catalogue (tests/inbox/corpus): every message classified as an
analyst would, run the way the watcher runs it (match first, then classify with the match,
the values submitted and the thread), with a confusion matrix printed (pytest -s).

Regenerate the catalogue with ``.venv/bin/python tests/inbox/corpus/make_corpus.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from audit.models import MessageKind
from inbox.classify import Classification, classify
from inbox.match import Candidate, Match, match
from inbox.parse import ParsedMessage, parse_message

CORPUS = Path(__file__).parent / "corpus"
SUBMITTED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
KINDS = [k.value for k in MessageKind]
MIN_ACCURACY = 1.0  # every message of the catalogue right
MAX_DOUBT = 0.05  # at most this share of the catalogue sent to review as doubtful


@dataclass(frozen=True)
class Outcome:
    file: str
    expect: str
    company: str | None
    got: Classification
    matched: str | None
    parsed: ParsedMessage


@cache
def run_catalogue() -> list[Outcome]:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    candidates = [
        Candidate(
            i + 1,
            c["token"],
            c["slug"],
            1,
            tuple(c["domains"]),
            SUBMITTED,
            c["reply_address"],
            sent=tuple(c["sent"].values()),
        )
        for i, c in enumerate(manifest["companies"])
    ]
    by_id = {c.submission_id: c for c in candidates}
    items = []
    for e in manifest["messages"]:
        parsed = parse_message((CORPUS / "eml" / e["file"]).read_bytes())
        items.append((parsed.date or SUBMITTED, e["file"], parsed, e))
    items.sort(key=lambda t: (t[0], t[1]))  # arrival order, as the watcher sees them
    stored: dict[str, tuple[int | None, str]] = {}  # Message-ID -> (submission, kind)
    out: list[Outcome] = []
    for when, name, parsed, e in items:

        def lookup(ids: list[str]) -> int | None:
            return next((stored[i][0] for i in ids if i in stored and stored[i][0]), None)

        m: Match | None = match(parsed, candidates, lookup, at=when)
        refs = [i for i in [parsed.in_reply_to, *parsed.references] if i]
        thread = [
            stored[i][1] for i in refs if i in stored and m and stored[i][0] == m.submission_id
        ]
        sent = (*by_id[m.submission_id].sent, by_id[m.submission_id].reply_address) if m else ()
        got = classify(parsed, m, sent=sent, thread=thread)
        if parsed.message_id:
            stored[parsed.message_id] = (m.submission_id if m else None, got.kind.value)
        matched = by_id[m.submission_id].company if m else None
        out.append(Outcome(name, e["expect"], e["company"], got, matched, parsed))
    return out


def confusion(outcomes: list[Outcome]) -> Counter[tuple[str, str]]:
    return Counter((o.expect, o.got.kind.value) for o in outcomes)


def report(outcomes: list[Outcome]) -> str:
    conf = confusion(outcomes)
    width = max(len(k) for k in KINDS) + 2
    lines = [f"{len(outcomes)} messages; rows: expected, columns: classified"]
    lines.append(" " * width + "".join(f"{k:>{width}}" for k in KINDS))
    for k in KINDS:
        lines.append(f"{k:<{width}}" + "".join(f"{conf[(k, g)]:>{width}}" for g in KINDS))
    lines.append("")
    for k in KINDS:
        tp = conf[(k, k)]
        predicted = sum(conf[(x, k)] for x in KINDS)
        actual = sum(conf[(k, x)] for x in KINDS)
        p = f"{tp / predicted:.3f}" if predicted else "  -  "
        r = f"{tp / actual:.3f}" if actual else "  -  "
        lines.append(f"{k:<{width}} precision {p}  recall {r}  (n={actual})")
    right = sum(conf[(k, k)] for k in KINDS)
    doubt = sum(1 for o in outcomes if o.got.doubt)
    lines.append(f"right: {right}/{len(outcomes)} ({right / len(outcomes):.1%}); "
                 f"doubtful (to review): {doubt}")  # fmt: skip
    for o in outcomes:
        if o.got.kind.value != o.expect or o.got.doubt:
            lines.append(f"  {o.file}: expected {o.expect}, got {o.got.kind.value}"
                         f"{' (doubt)' if o.got.doubt else ''}: {o.got.reasons[0]}")  # fmt: skip
    return "\n".join(lines)


def test_catalogue_size_and_languages() -> None:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    files = {p.name for p in (CORPUS / "eml").glob("*.eml")}
    assert files == {e["file"] for e in manifest["messages"]}
    assert len(files) >= 200
    langs = {e["lang"] for e in manifest["messages"] if e["lang"]}
    assert {"en", "he", "ar", "ru", "fr", "de"} <= langs
    sources = {e["source"].split("/")[0] for e in manifest["messages"]}
    for desk in ("zendesk", "freshdesk", "hubspot", "salesforce", "servicenow", "zoho",
                 "intercom", "wordpress", "ooo", "bounce", "newsletter", "webmail"):  # fmt: skip
        assert desk in sources


def test_attribution() -> None:
    wrong = [(o.file, o.matched, o.company) for o in run_catalogue() if o.matched != o.company]
    assert wrong == []


def test_classification_confusion_matrix() -> None:
    outcomes = run_catalogue()
    print("\n" + report(outcomes))
    conf = confusion(outcomes)
    right = sum(conf[(k, k)] for k in KINDS)
    assert right / len(outcomes) >= MIN_ACCURACY, report(outcomes)
    assert sum(1 for o in outcomes if o.got.doubt) <= MAX_DOUBT * len(outcomes)


def test_unmatched_mail_is_never_human() -> None:
    unmatched = [o for o in run_catalogue() if o.matched is None]
    assert unmatched
    assert [o.file for o in unmatched if o.got.kind is MessageKind.HUMAN] == []


@pytest.mark.parametrize("o", run_catalogue(), ids=lambda o: o.file)
def test_reasons_say_what_decided(o: Outcome) -> None:
    reasons = o.got.reasons
    assert reasons and reasons[0].split(":")[0].split(" ")[0] in {*KINDS, "doubt"}
    if o.got.kind in (MessageKind.HUMAN, MessageKind.AUTO_ACK) and not o.got.doubt:
        assert "decided by" in reasons[0]

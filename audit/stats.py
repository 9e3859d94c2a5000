"""One stats object counts what every stage did (STYLE 11; Scrapy's ``StatsCollector``).

Keys are short paths: ``outcome/submitted`` and ``state/uncertain`` for a run's
companies, ``new``, ``duplicates`` and ``kind/human`` for a mailbox sync. A stage
increments them as it works; the command prints a summary line and stores ``as_dict``.

    stats = Stats()
    stats.inc("outcome/submitted")
    stats.section("outcome")        # {"submitted": 1}
    stats.summary("outcome")        # "submitted 1"

``SyncStats`` names the sync's counts as attributes (``stats.new += 1``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, overload


def counts_line(counts: Mapping[str, int]) -> str:
    """``{"submitted": 2, "failed": 1}`` -> ``"failed 1, submitted 2"`` (by name)."""
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


class Stats:
    """Counts by key, in the order the keys were first counted."""

    def __init__(self, counts: Mapping[str, int] | None = None) -> None:
        self._counts: Counter[str] = Counter(counts or {})

    def inc(self, key: str, n: int = 1) -> None:
        self._counts[key] += n

    def get(self, key: str) -> int:
        return self._counts.get(key, 0)

    def set(self, key: str, value: int) -> None:
        self._counts[key] = value

    def merge(self, other: Stats, maxed: Iterable[str] = ()) -> None:
        """Add ``other``'s counts to these; the ``maxed`` keys keep the larger value."""
        keep = set(maxed)
        for key, value in other._counts.items():
            self._counts[key] = max(self.get(key), value) if key in keep else self.get(key) + value

    def section(self, prefix: str) -> dict[str, int]:
        """The counts under ``prefix/``, by the rest of their key."""
        head = prefix + "/"
        return {k[len(head) :]: v for k, v in self._counts.items() if k.startswith(head)}

    def total(self, prefix: str, names: Iterable[str]) -> int:
        """The sum of ``prefix/name`` over ``names``."""
        return sum(self.get(f"{prefix}/{n}") for n in names)

    def summary(self, prefix: str) -> str:
        """The section as one line: ``"failed 1, submitted 2"``."""
        return counts_line(self.section(prefix))

    def line(self, keys: Sequence[str]) -> str:
        """Named counts as one line, in the given order: ``"3 new, 1 duplicates"``."""
        return ", ".join(f"{self.get(k)} {k}" for k in keys)

    def as_dict(self) -> dict[str, Any]:
        return dict(self._counts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._counts)!r})"


class Count:
    """A count of a ``Stats`` read and written as an attribute (``stats.new += 1``)."""

    def __set_name__(self, owner: type[Stats], name: str) -> None:
        self.key = name

    @overload
    def __get__(self, obj: None, owner: type[Stats] | None = None) -> Count: ...
    @overload
    def __get__(self, obj: Stats, owner: type[Stats] | None = None) -> int: ...
    def __get__(self, obj: Stats | None, owner: type[Stats] | None = None) -> int | Count:
        return self if obj is None else obj.get(self.key)

    def __set__(self, obj: Stats, value: int) -> None:
        obj.set(self.key, value)


class SyncStats(Stats):
    """What a mailbox sync did: messages fetched, new, duplicate, matched..., by kind
    (``kind/<kind>``), how many folders and how long. Sums over syncs with ``add``."""

    COUNTS = (
        "fetched",
        "bodies",  # messages whose body was fetched (the others: headers only)
        "new",
        "duplicates",
        "matched",
        "unmatched",
        "unparseable",
        "errors",
        "rescans",
        "folders",
    )
    SUMMARY = ("new", "duplicates", "matched", "unmatched", "unparseable", "errors")

    fetched = Count()
    bodies = Count()
    new = Count()
    duplicates = Count()
    matched = Count()
    unmatched = Count()
    unparseable = Count()
    errors = Count()
    rescans = Count()
    folders = Count()

    def __init__(self) -> None:
        super().__init__({k: 0 for k in self.COUNTS})
        self.seconds = 0.0

    @property
    def kinds(self) -> dict[str, int]:
        return self.section("kind")

    def add(self, other: SyncStats) -> None:
        """Another sync's counts added to these (folders: the most any sync saw)."""
        self.merge(other, maxed=("folders",))
        self.seconds += other.seconds

    def summary_line(self) -> str:
        """``"3 new, 1 duplicates, ...; by kind: {...}"`` (what `audit watch` prints)."""
        kinds = self.kinds
        return self.line(self.SUMMARY) + (f"; by kind: {kinds}" if kinds else "")

    def as_dict(self) -> dict[str, Any]:
        counts = {k: self.get(k) for k in self.COUNTS}
        return {**counts, "seconds": self.seconds, "kinds": self.kinds}

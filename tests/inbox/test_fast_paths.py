"""The sync's fast paths read what the general parsers read (issue 15: a sync of 100,000
messages reads every message's Date and INTERNALDATE). Pure: each fast reader against
the stdlib / IMAPClient reader it stands in for, on the usual forms and on random ones."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imapclient.datetime_util import parse_to_datetime

from inbox.imapio import internaldate
from inbox.parse import date_utc


def _stdlib_date(value: str) -> datetime | str:
    try:
        d = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        return type(exc).__name__
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).astimezone(UTC)


def _fast_date(value: str) -> datetime | str:
    try:
        return date_utc(value)
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        return type(exc).__name__


@pytest.mark.parametrize(
    "value",
    [
        "Wed, 04 Dec 2026 16:36:41 +0200",
        "4 Dec 2026 16:36:41 -0530",
        "Fri, 04 DEC 2026 16:36 +0000",
        "Fri, 04 Dec 2026 16:36:41 -0000",
        "Fri, 04 Dec 2026 16:36:41 +0000 (UTC)",
        "  Thu, 29 Feb 2024 23:59:59 +2359 ",
        "Thu, 30 Feb 2024 23:59:59 +0000",
        "Thu, 29 Feb 2024 24:00:00 +0000",
        "Thu, 29 Feb 2024 23:59:60 +0000",
        "Thu, 29 Feb 2024 23:59:59 +2400",
        "Thu, 29 Feb 2024 23:59:59 +0060",
        "Thu, 29 Foo 2024 23:59:59 +0000",
        "Thu, 29 Feb 2024 23:59:59 GMT",
        "Thu, 29 Feb 24 23:59:59 +0000",
        "29 Feb 2024 23:59:59",
        "yesterday",
        "",
    ],
)
def test_the_date_fast_path_reads_as_the_stdlib(value: str) -> None:
    assert _fast_date(value) == _stdlib_date(value)


_MONTH = st.sampled_from(["Jan", "feb", "MAR", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                          "Nov", "Dec", "Foo"])  # fmt: skip
_DATES = st.builds(
    lambda wd, d, mo, y, h, mi, s, sign, oh, om, tail: (
        f"{wd}{d} {mo} {y} {h:02d}:{mi:02d}{s} {sign}{oh:02d}{om:02d}{tail}"
    ),
    st.sampled_from(["", "Mon, ", "Tue,", "Xyz, "]),
    st.integers(0, 40),
    _MONTH,
    st.integers(1, 9999).map(str) | st.sampled_from(["99", "0001"]),
    st.integers(0, 25),
    st.integers(0, 61),
    st.sampled_from(["", ":00", ":59", ":60"]),
    st.sampled_from(["+", "-"]),
    st.integers(0, 30),
    st.integers(0, 70),
    st.sampled_from(["", " (UTC)", "  ", " EST"]),
)


@settings(max_examples=400, deadline=None)
@given(_DATES)
def test_the_date_fast_path_reads_random_dates_as_the_stdlib(value: str) -> None:
    assert _fast_date(value) == _stdlib_date(value)


def _imapclient(value: bytes) -> datetime | None:
    try:
        return parse_to_datetime(value, normalise=False).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


@settings(max_examples=400, deadline=None)
@given(
    st.builds(
        lambda d, mo, y, h, mi, s, sign, oh, om: (
            f"{d:>2}-{mo}-{y:04d} {h:02d}:{mi:02d}:{s:02d} {sign}{oh:02d}{om:02d}".encode()
        ),
        st.integers(1, 31),
        _MONTH,
        st.integers(1900, 2100),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
        st.sampled_from(["+", "-"]),
        st.integers(0, 14),
        st.sampled_from([0, 30, 45]),
    )
)
def test_the_internaldate_fast_path_reads_as_imapclient(value: bytes) -> None:
    """Where the fast reader answers, IMAPClient's reader gives the same instant; where it
    does not (None), the sync asks IMAPClient's."""
    fast = internaldate(value)
    if fast is not None:
        assert fast == _imapclient(value)
    else:
        assert _imapclient(value) is None or b"Foo" not in value
    assert fast is not None or b"Foo" in value or _imapclient(value) is None

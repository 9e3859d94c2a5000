"""`audit status`: where every submission stands."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa

from audit.app.session import session


def status(root: str | os.PathLike[str], wave: str | None = None) -> list[dict[str, Any]]:
    """One row per submission: state, outcome, submitted, first reply, messages."""
    from audit.store import companies, contact_events, messages, submissions, waves

    with session(root) as s:
        store = s.store
        q = (
            sa.select(
                companies.c.name.label("company"),
                waves.c.name.label("wave"),
                submissions.c.id,
                submissions.c.state,
                submissions.c.outcome,
                submissions.c.reason,
                submissions.c.submitted_at,
                submissions.c.reply_address,
                submissions.c.channel,
            )
            .join(companies, companies.c.id == submissions.c.company_id)
            .join(waves, waves.c.id == submissions.c.wave_id)
            .order_by(waves.c.id, companies.c.name, submissions.c.channel)
        )
        if wave:
            q = q.where(waves.c.name == wave)
        with store.engine.connect() as c:
            rows = [dict(r._mapping) for r in c.execute(q)]
            first = {
                r.submission_id: r
                for r in c.execute(
                    sa.select(
                        contact_events.c.submission_id,
                        sa.func.min(contact_events.c.at).label("first_contact"),
                        sa.func.count().label("events"),
                    ).group_by(contact_events.c.submission_id)
                )
            }
            nmsg: dict[int, int] = dict(
                c.execute(
                    sa.select(messages.c.submission_id, sa.func.count()).group_by(
                        messages.c.submission_id
                    )
                ).all()
            )
        for r in rows:
            f = first.get(r["id"])
            r["first_contact_at"] = f.first_contact if f else None
            r["contact_events"] = f.events if f else 0
            r["messages"] = nmsg.get(r["id"], 0)
        return rows


def worker_status(root: str | os.PathLike[str], wave: str | None = None) -> list[dict[str, Any]]:
    """One row per worker (and wave) that claimed submissions: its claims by state, its
    last heartbeat and claim, and whether it looks alive from here."""
    from audit import lifecycle
    from audit.app.common import process_alive

    with session(root) as s:
        wave_id = None
        if wave:
            row = s.store.wave_row(wave)
            if row is None:
                return []
            wave_id = int(row.id)
        rows = s.store.claims_by_worker(wave_id)
        now = s.clock.now()
        stale_after = lifecycle.DEFAULT_HEARTBEAT_S * lifecycle.STALE_AFTER_BEATS
        for r in rows:
            running = r["states"].get("running", 0)
            seen = process_alive(r["worker"])
            beat = r["last_heartbeat_at"]
            if not running:
                r["looks"] = "idle"
            elif seen is False:
                r["looks"] = "gone"
            elif beat is None or (now - beat).total_seconds() > stale_after:
                r["looks"] = "stale"
            else:
                r["looks"] = "working"
        return rows

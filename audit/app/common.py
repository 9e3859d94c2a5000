"""Shared by the commands: the fault point for drills, hashing, JSON for --json, and the
identity of a process that holds claims (run, work)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import socket
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from audit.stats import Stats

log = logging.getLogger(__name__)


FAULT_ENV = "AUDIT_FAULT"  # fault drills only (tests/drills): the point where a run stalls


def fault_point(name: str) -> None:
    """Stall here until killed when AUDIT_FAULT names this point: a drill forces its race.

    A drill that must kill a run between two writes sets the variable, waits (by reading
    the store) until the run reached the point, and kills it: no timing is hoped for.
    """
    if os.environ.get(FAULT_ENV) == name:
        log.warning("fault point %s reached: stalled until killed (%s)", name, FAULT_ENV)
        threading.Event().wait()


TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _as_dict(obj: Any) -> Any:
    if isinstance(obj, Stats):
        return _as_dict(obj.as_dict())
    if hasattr(obj, "__dataclass_fields__"):
        fields = obj.__dataclass_fields__
        return {
            k: _as_dict(getattr(obj, k))
            for k, f in fields.items()
            if f.metadata.get("json", True)  # metadata={"json": False}: not in the JSON
        }
    if isinstance(obj, dict):
        return {str(k): _as_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_as_dict(v) for v in obj]
    return obj


def to_json(obj: Any) -> str:
    return json.dumps(
        _as_dict(obj),
        default=lambda o: o.isoformat() if isinstance(o, datetime) else str(o),
        ensure_ascii=False,
    )


def new_worker_id() -> str:
    """This process as the holder of claims: host:pid:random (unique across restarts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def process_alive(worker: str) -> bool | None:
    """Whether the process behind a worker id (host:pid:...) is alive: False when it ran
    on this host and its pid is gone, True when that pid is there, None when it cannot be
    told (another host, or an id given with --worker-id that names no pid)."""
    parts = worker.split(":")
    if len(parts) < 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return None
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True

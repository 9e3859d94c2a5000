"""The commands' library API, re-exported from the application layer (``audit.app``).

Kept thin for code written against the earlier single module: every function lives in
its command's module under ``audit/app/``.
"""

from __future__ import annotations

from audit.app.common import FAULT_ENV, TEMPLATES, fault_point, sha256_file, to_json
from audit.app.inspect import inspect
from audit.app.report import report
from audit.app.review import (
    REVIEW_KINDS,
    grade,
    log_contact,
    message_list,
    review_decide,
    review_list,
)
from audit.app.run import (
    CompanyRun,
    Interrupt,
    RunOptions,
    RunSummary,
    _recover,
    company_facts,
    render_message,
    resolved_browser_settings,
    run_survey,
)
from audit.app.status import status, worker_status
from audit.app.watch import watch_mailbox
from audit.app.work import WorkOptions, work
from audit.app.workspace import (
    CheckItem,
    check,
    init_workspace,
    tls_mode_problem,
    tls_mode_verdict,
)

__all__ = [
    "FAULT_ENV",
    "REVIEW_KINDS",
    "TEMPLATES",
    "WorkOptions",
    "CheckItem",
    "CompanyRun",
    "Interrupt",
    "RunOptions",
    "RunSummary",
    "_recover",
    "check",
    "company_facts",
    "fault_point",
    "grade",
    "init_workspace",
    "inspect",
    "log_contact",
    "message_list",
    "render_message",
    "report",
    "resolved_browser_settings",
    "review_decide",
    "review_list",
    "run_survey",
    "sha256_file",
    "status",
    "tls_mode_problem",
    "tls_mode_verdict",
    "to_json",
    "watch_mailbox",
    "work",
    "worker_status",
]

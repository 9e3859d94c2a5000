"""Finding a Chromium and launching it the way a survey needs (quiet, normal user agent).

Search order for the browser executable (first hit wins):

1. the explicit path (``--browser`` flag or ``browser.executable`` in survey.yaml),
2. the ``AUDIT_BROWSER`` environment variable,
3. Playwright's own downloaded Chromium (``playwright install chromium``), if present,
4. a system Chrome / Chromium / Edge in the usual per-OS places or on PATH.

Launch flags: Playwright passes its own ``--disable-features`` list; a second switch would
replace it (the last one wins) and re-enable background calls to Google hosts, so we pass
ONE merged list. See /work/shared/NOTES-browser.md.

A browser server instead (``--browser-endpoint`` or ``browser.endpoint``): ``open_browser``
connects to a Playwright server (``playwright run-server`` or ``launch-server``) with
``chromium.connect`` instead of launching. The server checks the versions: Playwright's
client sends ``User-Agent: Playwright/X.Y.Z ...`` on the WebSocket upgrade, and a server
whose major.minor differs answers ``428 Precondition Required`` with a box naming both
versions; ``connect_problem`` turns that (and an unreachable server) into one line. The
proxy then goes on each context (a launch option would be the server's business), and the
endpoint is shown and stored only redacted (its password, its ``?token=``).
"""

from __future__ import annotations

import glob
import json
import logging
import os
import platform
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.errors import ProbeError
from audit.logs import install_secret_filter, redact_url, url_secrets
from audit.models import BrowserSettings

log = logging.getLogger(__name__)

ENV_VAR = "AUDIT_BROWSER"

# Playwright 1.65's default disabled features (coreBundle.js, chromiumSwitches) plus ours.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
)
EXTRA_DISABLED_FEATURES = (
    "AutofillServerCommunication",
    "Translate",
    # Chromium 156 opens the omnibox's popup as a WebUI page (chrome://omnibox-popup.
    # top-chrome/, and its AI-mode twin) in a renderer of its own for every window, i.e.
    # for every context's first page, even headless: measured 0.3-0.9 CPU-s per context
    # (a context's whole life, new page to close, fell from 0.6-1.3 to 0.36 CPU-s;
    # bench/profile_submit.py, docs/benchmarks.md). A survey never types in the omnibox.
    "WebUIOmniboxPopup",
    "WebUIOmniboxAimPopup",
)
DEAD_URL = "http://127.0.0.1:9"

# A current desktop Chrome on Windows: the most common visitor a company sees.
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/{major}.0.0.0 Safari/537.36"
)

LINUX_CANDIDATES = (
    "/usr/lib/chromium/chromium",  # Debian's real binary (the /usr/bin one is a wrapper)
    "/usr/lib/chromium-browser/chromium-browser",
    "/opt/google/chrome/chrome",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/usr/bin/microsoft-edge",
)
PATH_NAMES = ("google-chrome", "google-chrome-stable", "chromium", "chromium-browser", "chrome")
MAC_CANDIDATES = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
)
WINDOWS_SUFFIXES = (
    r"Google\Chrome\Application\chrome.exe",
    r"Chromium\Application\chrome.exe",
    r"Microsoft\Edge\Application\msedge.exe",
)

INSTALL_HELP = (
    "no Chrome or Chromium found. Install one: Debian/Ubuntu `sudo apt-get install chromium`, "
    "macOS `brew install --cask chromium` (or Google Chrome), or "
    "`python -m playwright install chromium`; or point AUDIT_BROWSER (or --browser) at the "
    "executable."
)


@dataclass
class BrowserInfo:
    path: str | None  # None: let Playwright use its own downloaded build
    source: str


def _playwright_builds() -> list[str]:
    roots: list[Path] = []
    if os.environ.get("PLAYWRIGHT_BROWSERS_PATH") not in (None, "", "0"):
        roots.append(Path(os.environ["PLAYWRIGHT_BROWSERS_PATH"]))
    home = Path.home()
    roots += [
        home / ".cache" / "ms-playwright",
        home / "Library" / "Caches" / "ms-playwright",
        Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local")) / "ms-playwright",
    ]
    patterns = (
        "chromium-*/chrome-linux*/chrome",
        "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
        "chromium-*/chrome-mac*/Google Chrome for Testing.app/Contents/MacOS/"
        "Google Chrome for Testing",
        "chromium-*/chrome-win*/chrome.exe",
    )
    found: list[str] = []
    for root in roots:
        for pat in patterns:
            found += sorted(glob.glob(str(root / pat)), reverse=True)
    return [p for p in found if os.access(p, os.X_OK)]


def _system_candidates() -> list[str]:
    system = platform.system()
    if system == "Darwin":
        return list(MAC_CANDIDATES)
    if system == "Windows":
        bases = [os.environ.get(k) for k in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")]
        return [str(Path(b) / s) for b in bases if b for s in WINDOWS_SUFFIXES]
    out = list(LINUX_CANDIDATES)
    for name in PATH_NAMES:
        hit = shutil.which(name)
        if hit and hit not in out:
            out.append(hit)
    return out


def find_browser(explicit: str | None = None) -> BrowserInfo:
    """Where the Chromium we will drive lives, and how we found it."""
    if explicit:
        if not os.path.isfile(explicit):
            raise ProbeError(f"browser not found at {explicit!r} (given explicitly)")
        return BrowserInfo(explicit, "explicit path")
    env = os.environ.get(ENV_VAR)
    if env:
        if not os.path.isfile(env):
            raise ProbeError(f"browser not found at {env!r} (from the {ENV_VAR} env variable)")
        return BrowserInfo(env, f"{ENV_VAR} env")
    builds = _playwright_builds()
    if builds:
        return BrowserInfo(builds[0], "playwright")
    for cand in _system_candidates():
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            kind = "chrome" if "chrome" in cand.lower() else "chromium"
            return BrowserInfo(cand, f"system {kind} {cand}")
    raise ProbeError(INSTALL_HELP)


def launch_args(block_outside: bool = False) -> list[str]:
    """Chromium switches: one merged --disable-features list, no background calls."""
    features = ",".join(PLAYWRIGHT_DISABLED_FEATURES + EXTRA_DISABLED_FEATURES)
    args = [
        f"--disable-features={features}",
        "--disable-quic",
        f"--component-updater=url-source={DEAD_URL}",
        f"--gaia-url={DEAD_URL}",
        "--no-default-browser-check",
        "--disable-dev-shm-usage",
    ]
    if block_outside:
        args.append("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1")
    return args


def proxy_setting(settings: BrowserSettings) -> dict[str, str] | None:
    """The proxy for Playwright: settings first, then HTTPS_PROXY / HTTP_PROXY."""
    server = settings.proxy
    if not server:
        for key in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
            if os.environ.get(key):
                server = os.environ[key]
                break
    if not server:
        return None
    out = {"server": server}
    no_proxy = os.environ.get("NO_PROXY") or os.environ.get("no_proxy")
    if no_proxy:
        out["bypass"] = no_proxy
    return out


async def launch(
    playwright: Any, settings: BrowserSettings, *, headless: bool, block_outside: bool = False
) -> tuple[Any, BrowserInfo]:
    """Launch one Chromium for a whole run. Raises ProbeError when it cannot start."""
    info = find_browser(settings.executable)
    kwargs: dict[str, Any] = {
        "headless": headless,
        "args": launch_args(block_outside),
        "timeout": max(30_000, settings.timeout_s * 1000),
        # Ctrl-C belongs to the run, not to the browser: the run stops starting companies and
        # lets the ones in flight end by the lifecycle rule, which needs the browser alive.
        # (Chromium runs in its own process group, so the terminal's SIGINT reaches only us.)
        "handle_sigint": False,
        "handle_sigterm": False,
        "handle_sighup": False,
    }
    if info.path:
        kwargs["executable_path"] = info.path
    proxy = proxy_setting(settings)
    if proxy:
        kwargs["proxy"] = proxy
    try:
        browser = await playwright.chromium.launch(**kwargs)
    except Exception as exc:
        raise ProbeError(f"cannot launch the browser ({info.source}): {exc}") from exc
    log.info("browser %s from %s", browser.version, info.source)
    return browser, info


async def open_browser(
    playwright: Any, settings: BrowserSettings, *, headless: bool, block_outside: bool = False
) -> tuple[Any, BrowserInfo]:
    """The run's browser: connected to ``settings.endpoint`` when set, else launched here."""
    if settings.endpoint:
        return await connect(playwright, settings, headless=headless, block_outside=block_outside)
    return await launch(playwright, settings, headless=headless, block_outside=block_outside)


async def connect(
    playwright: Any, settings: BrowserSettings, *, headless: bool, block_outside: bool = False
) -> tuple[Any, BrowserInfo]:
    """Connect to a Playwright browser server. Raises ProbeError with one line (version
    mismatch, unreachable) when it cannot."""
    endpoint = settings.endpoint or ""
    for secret in url_secrets(endpoint):
        install_secret_filter(secret)  # Playwright's own messages quote the URL
    shown = redact_url(endpoint)
    # Honoured by `run-server` (which launches a browser per client: headless always; the
    # switches only with --unsafe); a `launch-server` browser was launched by its owner.
    launch_options = {"headless": headless, "args": launch_args(block_outside)}
    try:
        browser = await playwright.chromium.connect(
            endpoint,
            timeout=max(30_000, settings.timeout_s * 1000),
            headers={"x-playwright-launch-options": json.dumps(launch_options)},
        )
    except Exception as exc:
        raise ProbeError(connect_problem(shown, str(exc), endpoint)) from None
    log.info("browser %s from the browser server at %s", browser.version, shown)
    return browser, BrowserInfo(None, f"browser server at {shown}")


_SERVER_VERSION = re.compile(r"server version: v(\d+\.\d+)")
_CLIENT_VERSION = re.compile(r"client version: v(\d+\.\d+)")


def playwright_version() -> str:
    """This tool's Playwright, major.minor (what a browser server compares)."""
    from importlib.metadata import version

    return ".".join(version("playwright").split(".")[:2])


def connect_problem(shown: str, message: str, endpoint: str = "") -> str:
    """One line for a failed connect, from Playwright's error ``message`` (pure).

    A version mismatch is the server's ``428 Precondition Required`` box; anything else
    means the server cannot be reached or is not a Playwright server.
    """
    server = _SERVER_VERSION.search(message)
    if server or " 428 " in message:
        client = _CLIENT_VERSION.search(message)
        theirs = server.group(1) if server else "another version"
        ours = client.group(1) if client else playwright_version()
        return (
            f"browser server at {shown} runs Playwright {theirs}, this tool has {ours}: "
            "install the same version on both"
        )
    text = message.split("Call log:")[0].strip()
    text = re.sub(r"^\w+\.connect: ", "", text)
    text = text.removeprefix("WebSocket error: ").strip()
    reason = text.splitlines()[0].strip() if text else "no answer"
    for raw in sorted(filter(None, {endpoint, endpoint.split("?")[0]}), key=len, reverse=True):
        reason = reason.replace(raw, "").strip()
    reason = _redact_urls_in(reason)
    timeout = re.fullmatch(r"Timeout (\d+)ms exceeded\.?", reason)
    if timeout:
        reason = f"no answer within {int(timeout.group(1)) / 1000:.0f} s"
    elif re.fullmatch(r"\d{3} .*", reason):
        reason = f"HTTP {reason} (not a Playwright browser server, or a wrong path?)"
    return f"cannot reach browser server at {shown}: {reason}"


def _redact_urls_in(text: str) -> str:
    return re.sub(r"\b[a-z][\w+.-]*://\S+", lambda m: redact_url(m.group(0)), text)


def user_agent_for(settings: BrowserSettings, browser_version: str) -> str:
    if settings.user_agent:
        return settings.user_agent
    major = (browser_version or "130").split(".")[0]
    return DEFAULT_USER_AGENT.format(major=major)


def context_options(settings: BrowserSettings, browser_version: str) -> dict[str, Any]:
    """Options for a fresh context per company: a normal visitor, the survey's locale."""
    options: dict[str, Any] = {
        "user_agent": user_agent_for(settings, browser_version),
        "locale": settings.locale,
        "ignore_https_errors": settings.ignore_https_errors,
        "viewport": {"width": 1366, "height": 900},
        "extra_http_headers": {"Accept-Language": f"{settings.locale},en;q=0.8"},
    }
    if settings.endpoint:  # a server's browser was launched without our proxy: per context
        proxy = proxy_setting(settings)
        if proxy:
            options["proxy"] = proxy
    return options

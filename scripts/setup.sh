#!/usr/bin/env bash
# Set up everything contact-audit needs on this machine, idempotently:
#   system packages (Chromium, Dovecot, PostgreSQL for the store tests, fonts, faketime for the clock guard) through apt when missing, a venv in .venv
#   with the project and its dev tools. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
APT_PACKAGES=(chromium dovecot-imapd dovecot-lmtpd openssl fonts-noto-core fonts-dejavu-core faketime postgresql)

need_apt=()
if command -v dpkg >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p")
  done
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: missing system packages (${need_apt[*]}) and no root/sudo to install them" >&2
    exit 1
  fi
  echo "setup: installing ${need_apt[*]} with apt-get" >&2
  # The packaged services must not start system-wide: contact-audit runs its own Dovecot
  # (and the tests their own PostgreSQL cluster).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    remove_policy=1
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  if [ "${remove_policy:-0}" = 1 ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
elif ! command -v dpkg >/dev/null 2>&1; then
  echo "setup: not a Debian/Ubuntu system; install Chrome or Chromium, Dovecot and PostgreSQL yourself" >&2
  echo "       (macOS: brew install dovecot postgresql; Google Chrome from google.com/chrome)" >&2
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -e "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1
  if ! .venv/bin/python -m pip install -q -e ".[dev]" >.venv/pip-install.log 2>&1; then
    cat .venv/pip-install.log >&2
    echo "setup: pip install failed (log above)" >&2
    exit 1
  fi
  rm -f .venv/.installed-* && touch "$stamp"
fi
echo "setup: ready ($(.venv/bin/python --version), $(.venv/bin/audit --version 2>/dev/null || echo '?'))" >&2

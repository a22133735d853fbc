#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine, then runs them.
# Usage: bash scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt

# Debian packages the tests need and the machine lacks: Chromium for the browser tests (Playwright
# must not download its own), PostgreSQL for the classroom store's tests (its programs live in
# /usr/lib/postgresql/*/bin) and nginx for the deploy/ cluster test.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
if [ ${#missing[@]} -gt 0 ]; then
  sudo_=""
  [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  # The tests start their own PostgreSQL and nginx in temporary folders: keep the packages from
  # starting their system services (port 5432, port 80) during the install, as Docker images do.
  blocker=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    blocker=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo_ tee "$blocker" >/dev/null && $sudo_ chmod +x "$blocker"
  fi
  status=0
  $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || status=$?
  [ -z "$blocker" ] || $sudo_ rm -f "$blocker"
  [ "$status" = 0 ] || exit "$status"
fi

python3 -m ruff check .
python3 -m pyright
python3 -m pytest --durations=15 "$@"

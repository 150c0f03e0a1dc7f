#!/usr/bin/env bash
# Runs every Canopy test: store, app, jobs and server tests on SQLite and on
# a throwaway PostgreSQL cluster, page tests in headless Chromium. Installs
# what the tests need when it is missing and we are root (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have_initdb() {
  command -v initdb >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}
if [ -z "${CANOPY_TEST_POSTGRES:-}" ] && ! have_initdb; then need+=(postgresql); fi
if [ -z "${CANOPY_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then need+=(chromium); fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "test.sh: missing ${need[*]}: install them (Debian: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

# Every package's tests; -count=1 so cached results never stand in for a run.
go test -count=1 -p 2 "$@" ./...

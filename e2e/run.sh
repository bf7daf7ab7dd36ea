#!/usr/bin/env bash
# Browser suite: Playwright (playwright-core) driving Debian's chromium against a fresh
# `portal serve`. Installs chromium with apt when missing; never downloads Playwright browsers.
# Expects target/debug/portal (cargo build --bin portal) unless PORTAL_BIN names a binary.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: /usr/bin/chromium missing; installing Debian's chromium" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
npm ci --no-audit --no-fund
npx playwright test "$@"

#!/usr/bin/env bash
# Make sure a Chromium the browser tests can drive is installed (Debian/Ubuntu package).
#
# The tests use the distribution's Chromium through Playwright's bundled driver: Playwright's own
# browser download (`playwright install`) needs internet access that CI machines often lack.
# Exit status is 0 whenever the tests can decide for themselves: without Chromium they skip with
# a reason. Only a failed install as root exits non-zero.
#
# Usage: tools/ensure_chromium.sh        (CHROMIUM=/path/to/chromium overrides the default)
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "ensure_chromium: found $CHROMIUM ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if [ "$CHROMIUM" != /usr/bin/chromium ]; then
    echo "ensure_chromium: CHROMIUM=$CHROMIUM does not exist; only /usr/bin/chromium can be installed"
    echo "ensure_chromium: here (unset CHROMIUM to do that). The browser tests will skip until then."
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "ensure_chromium: $CHROMIUM is missing and this is not root, so it cannot be installed here."
    echo "ensure_chromium: install it with 'sudo apt-get install chromium' (Debian) or point"
    echo "ensure_chromium: CHROMIUM at an existing binary; the browser tests will skip until then."
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: $CHROMIUM is missing and apt-get is not available (not Debian/Ubuntu);"
    echo "ensure_chromium: install Chromium with the system package manager; browser tests will skip."
    exit 0
fi

echo "ensure_chromium: installing chromium with apt-get (takes a few minutes) ..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# fonts-liberation: metric-compatible fonts so screenshots show readable text, not boxes.
apt-get install -y -qq chromium fonts-liberation >/dev/null
if [ ! -x "$CHROMIUM" ]; then
    echo "ensure_chromium: apt-get finished but $CHROMIUM is still missing" >&2
    exit 1
fi
echo "ensure_chromium: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

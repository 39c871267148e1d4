#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed at /usr/bin/chromium for the browser tests (the
# studio's), from the Debian package repositories: no browser download by a test library.
# Exits 0 when it is there (a no-op after the first run), non-zero with a message saying what
# to do when it cannot be installed (not root and no password-less sudo, no apt-get, no network).
# About 22 s on this project's machines when the package lists are current (115 packages, 113 MB).
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: $CHROMIUM is missing and apt-get is not available; install Chromium so that $CHROMIUM exists" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "ensure-chromium: $CHROMIUM is missing; run 'sudo apt-get install -y chromium' once" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "ensure-chromium: installing Debian's chromium package" >&2
# The package lists may be stale on a fresh machine: update them only when the install fails.
if ! "${as_root[@]}" apt-get install -y chromium >&2; then
  "${as_root[@]}" apt-get update >&2
  "${as_root[@]}" apt-get install -y chromium >&2
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: the chromium package did not install $CHROMIUM" >&2
  exit 1
fi

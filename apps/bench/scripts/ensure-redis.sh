#!/usr/bin/env bash
# Makes sure `redis-server` is on PATH for the CACHE benchmark: installs Debian's redis-server
# package when it is missing (root, or sudo without a password). The bench starts and stops its
# own server on 127.0.0.1; the package's system service is stopped so it holds no port.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "redis-server is not installed and apt-get is not available: install Redis 7 and put redis-server on PATH" >&2
  exit 1
fi
run() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}
echo "installing Debian's redis-server package for the CACHE benchmark" >&2
run apt-get update -qq
DEBIAN_FRONTEND=noninteractive run apt-get install -y -qq redis-server >/dev/null
# The package may start a system service; the bench runs its own server.
if command -v service >/dev/null 2>&1; then run service redis-server stop >/dev/null 2>&1 || true; fi
command -v redis-server >/dev/null

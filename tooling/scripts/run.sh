#!/usr/bin/env bash
# Bootstraps a fresh machine (the pinned pnpm, dependencies, native builds) and runs a task.
#   bash tooling/scripts/run.sh demo    # the main job
#   bash tooling/scripts/run.sh test    # every check CI runs
#   bash tooling/scripts/run.sh bench [args]
set -euo pipefail
cd "$(dirname "$0")/../.."

# Native addons (better-sqlite3) build with node-gyp against the installed Node headers instead
# of downloading them; turbo must not phone home.
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 COREPACK_INTEGRITY_KEYS=0

want="$(node -p "require('./package.json').packageManager.split('@')[1]")"
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm -v 2>/dev/null)" != "$want" ]; then
  echo "[run] installing pnpm@$want" >&2
  npm install -g "pnpm@$want" --no-fund --no-audit --loglevel=error >&2
fi
pnpm install --frozen-lockfile --reporter=append-only >&2

task="${1:-}"
shift || true
case "$task" in
  demo) exec pnpm --silent demo "$@" ;;
  test) exec pnpm --silent test "$@" ;;
  bench) exec pnpm --silent bench "$@" ;;
  *) echo "usage: bash tooling/scripts/run.sh demo|test|bench" >&2; exit 2 ;;
esac

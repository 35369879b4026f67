#!/usr/bin/env bash
# The contract check: schemathesis against a live stack (npm start's embedded PostgreSQL and Temporal
# dev server, a fresh data dir), generating requests from /api/openapi.json. Fails on any failure.
# Usage: scripts/contract-check.sh [max examples per operation, default 5]
# See the README's "Contract" section for the checks it leaves out and why.
set -euo pipefail
cd "$(dirname "$0")/.."

examples="${1:-${GRIDFLOW_CONTRACT_EXAMPLES:-5}}"
cache="${GRIDFLOW_CACHE_DIR:-$HOME/.cache/gridflow}"
venv="$cache/venv"
t0=$SECONDS
say() { printf '[contract %3ds] %s\n' "$((SECONDS - t0))" "$*"; }

if [ ! -x "$venv/bin/st" ]; then
  say "installing schemathesis into $venv (first run only)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q schemathesis
fi
say "$("$venv/bin/st" --version)"

data="$(mktemp -d "${TMPDIR:-/tmp}/gridflow-contract.XXXXXX")"
log="$data/start.log"
group=""
cleanup() {
  if [ -n "$group" ] && kill -0 "$group" 2>/dev/null; then
    kill -INT -- "-$group" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$group" 2>/dev/null || break; sleep 0.5; done
  fi
  local pg
  pg="$(readlink "$data/postgres" 2>/dev/null || true)"
  case "$pg" in /var/lib/gridflow/postgres-*) rm -rf "$pg" ;; esac
  rm -rf "$data"
}
trap cleanup EXIT

# Embedded servers in a data dir of their own, a known admin token, and rate limits no test run reaches
# (the limits themselves are tested in test/integration/authorization.test.ts).
unset DATABASE_URL TEMPORAL_ADDRESS TEMPORAL_UI_URL GRIDFLOW_DATA_KEY GRIDFLOW_WORKER_METRICS
token="$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
export GRIDFLOW_DATA_DIR="$data" GRIDFLOW_ADMIN_TOKEN="$token" PORT=0 GRIDFLOW_LOG_LEVEL=warn
export GRIDFLOW_RATE_LIMIT_ADMIN=1000000 GRIDFLOW_RATE_LIMIT_UNAUTHENTICATED=1000000

say "building and starting the stack (data in $data)"
npm run build --silent >"$data/build.log" 2>&1 || { tail -40 "$data/build.log"; exit 1; }
set -m
node dist/scripts/start.js >"$log" 2>&1 &
group=$!
set +m
api=""
for _ in $(seq 480); do
  api="$(sed -n 's/^\[gridflow\]   API *\(http[^ ]*\)\/api .*/\1/p' "$log" | head -1)"
  [ -n "$api" ] && grep -q 'Ctrl-C stops everything' "$log" && break
  kill -0 "$group" 2>/dev/null || { tail -40 "$log"; say "FAILED: npm start exited"; exit 1; }
  sleep 0.25
done
[ -n "$api" ] || { tail -40 "$log"; say "FAILED: the API did not come up within 120 s"; exit 1; }
say "API at $api"

# What is configured and why: scripts/contract-check.toml and the README's "Contract" section.
# Its lines are prefixed, so a CI log's last summary line is never mistaken for a test runner's.
set +e
"$venv/bin/st" --config-file scripts/contract-check.toml run "$api/api/openapi.json" \
  --header "Authorization: Bearer $token" \
  --phases examples,coverage,fuzzing \
  --max-examples "$examples" \
  --seed 17 \
  --workers 1 \
  --suppress-health-check filter_too_much \
  --request-timeout 15 \
  --generation-database none \
  --no-color \
  --report junit --report-dir "${GRIDFLOW_CONTRACT_REPORT_DIR:-$data/report}" 2>&1 | sed -u 's/^/[schemathesis] /'
status=${PIPESTATUS[0]}
set -e
say "schemathesis finished with status $status"
exit "$status"

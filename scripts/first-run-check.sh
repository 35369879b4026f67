#!/usr/bin/env bash
# The README's first run, checked from a fresh clone in a mode-700 directory under $HOME (as root in
# CI, where PostgreSQL must then run as the postgres OS user that cannot enter it):
#   1. npm ci and npm start: /readyz answers 200 and the URLs and tokens are printed;
#   2. kill -9 of the worker: npm start starts it again and stays up;
#   3. Ctrl-C (SIGINT to the process group, as a terminal sends it): everything stops;
#   4. a second start on the same data: nothing seeded again, the process and tokens of 1 are there.
# Usage: scripts/first-run-check.sh [repo]   (default: this clone's committed HEAD)
set -euo pipefail

repo="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
t0=$SECONDS
say() { printf '[first-run %3ds] %s\n' "$((SECONDS - t0))" "$*"; }
fail() {
  say "FAILED: $*"
  if [ -f "${log:-}" ]; then echo "--- last lines of $log"; tail -40 "$log"; fi
  exit 1
}

base="$(mktemp -d "${HOME:-/root}/gridflow-first-run.XXXXXX")"
chmod 700 "$base"
clone="$base/gridflow"
group=""
cleanup() {
  # Only on failure is something still running: Ctrl-C it as a terminal would.
  if [ -n "$group" ] && pgrep -g "$group" >/dev/null; then
    kill -INT -- "-$group" 2>/dev/null || true
    for _ in $(seq 60); do pgrep -g "$group" >/dev/null || break; sleep 0.5; done
  fi
  # As root the PostgreSQL data lives where .data/postgres points (under /var/lib/gridflow).
  local data
  data="$(readlink "$clone/.data/postgres" 2>/dev/null || true)"
  case "$data" in /var/lib/gridflow/postgres-*) rm -rf "$data" ;; esac
  rm -rf "$base"
}
trap cleanup EXIT

# Embedded servers only, whatever the caller's environment points at.
unset DATABASE_URL TEMPORAL_ADDRESS TEMPORAL_UI_URL GRIDFLOW_ADMIN_TOKEN GRIDFLOW_DATA_KEY GRIDFLOW_DATA_DIR GRIDFLOW_WORKER_METRICS
# A free API port, read back from the printed URLs: a developer's own npm start may hold 3000.
export PORT=0

say "cloning $repo into $clone ($(stat -c %a "$base") $(id -un))"
git clone -q "$repo" "$clone"
cd "$clone"
say "npm ci"
npm ci --no-audit --no-fund --prefer-offline --loglevel=error >"$base/npm-ci.log" 2>&1 || { log="$base/npm-ci.log"; fail "npm ci"; }

# Runs a command in its own process group (job control), output to $log; sets $group.
launch() {
  log="$1"; shift
  set -m
  "$@" >"$log" 2>&1 &
  group=$!
  set +m
}
wait_for() { # wait_for <seconds> <what> <command...>
  local secs="$1" what="$2"; shift 2
  for _ in $(seq $((secs * 4))); do
    if "$@"; then return 0; fi
    pgrep -g "$group" >/dev/null || fail "npm start exited while waiting for $what"
    sleep 0.25
  done
  fail "no $what within ${secs}s"
}
printed() { grep -q -- "$1" "$log"; }
readyz() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$api/readyz")" = 200 ]; }
stopped() { ! pgrep -g "$group" >/dev/null; }
api_url() { sed -n 's/^\[gridflow\]   API *\(http[^ ]*\)\/api .*/\1/p' "$log" | head -1; }
ctrl_c() { # SIGINT to the group, as a terminal's Ctrl-C; npm start must say it stopped and leave nothing
  local started=$SECONDS
  kill -INT -- "-$group"
  for _ in $(seq 120); do stopped && break; sleep 0.5; done
  stopped || fail "npm start still running 60s after Ctrl-C"
  printed '^\[gridflow\] stopped$' || fail "npm start did not say it stopped"
  [ ! -e .data/postgres/postmaster.pid ] || fail "PostgreSQL did not shut down cleanly (postmaster.pid left)"
  for p in $(sed -n 's/^\[gridflow\] \(worker\|api\) .*pid \([0-9]*\)$/\2/p' "$log"); do
    ! kill -0 "$p" 2>/dev/null || fail "process $p (worker or API) still running after Ctrl-C"
  done
  say "Ctrl-C: everything stopped in $((SECONDS - started))s"
}

say "npm start"
launch "$base/start-1.log" npm start
wait_for 300 "'Ctrl-C stops everything.'" printed '^\[gridflow\] Ctrl-C stops everything\.$'
api="$(api_url)"
[ -n "$api" ] || fail "no API URL printed"
for line in 'Console' 'API' 'Temporal' 'Metrics' 'PostgreSQL' 'Admin token' 'Demo token   grid-worker'; do
  printed "^\[gridflow\]   $line " || fail "the start-up summary lacks '$line'"
done
wait_for 60 "200 from $api/readyz" readyz
say "up: $api/readyz answers 200"

token="$(cat .data/admin-token)"
created="$(curl -s -X POST "$api/api/processes" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"definition":"daily-patrol","grid":"grid-01"}' || true)"
id="$(printf '%s' "$created" | sed -n 's/.*"workflowId":"\([^"]*\)".*/\1/p')"
[ -n "$id" ] || fail "could not start a process: $created"
say "started process $id"

worker="$(sed -n 's/^\[gridflow\] worker started, pid \([0-9]*\)$/\1/p' "$log" | head -1)"
[ -n "$worker" ] || fail "no worker pid printed"
workers_running() { [ "$(grep -c '"msg":"worker running"' "$log")" -ge "$1" ]; }
wait_for 60 "the worker to run" workers_running 1
kill -9 "$worker"
wait_for 30 "worker restart after kill -9" printed '^\[gridflow\] worker started again (restart 1), pid [0-9]*$'
wait_for 60 "the restarted worker to run" workers_running 2
wait_for 30 "200 from $api/readyz after the worker restart" readyz
say "kill -9 of the worker ($worker): $(grep -m1 '^\[gridflow\] worker exited' "$log" | cut -c12-)"
ctrl_c

say "second start on the same data (node dist/scripts/start.js)"
launch "$base/start-2.log" node dist/scripts/start.js
wait_for 120 "'Ctrl-C stops everything.'" printed '^\[gridflow\] Ctrl-C stops everything\.$'
api="$(api_url)"
wait_for 60 "200 from $api/readyz" readyz
! printed 'seeded the community' || fail "the second start seeded the community again"
! printed 'published built-in definition' || fail "the second start published the built-in definitions again"
enc="$(node -p 'encodeURIComponent(process.argv[1])' "$id")"
# The start may have been stopped before its first workflow task was projected (a worker killed at
# once on a loaded machine); the restarted worker takes it up, so the process appears, but not at once.
until_found=$((SECONDS + 90))
until code="$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$api/api/processes/$enc" -H "Authorization: Bearer $token")"; [ "$code" = 200 ]; do
  [ "$SECONDS" -lt "$until_found" ] || fail "process $id not found within 90 s of the restart (HTTP $code)"
  sleep 1
done
# Tokens live only in PostgreSQL (as hashes): the demo manager's token from the first start must still work.
manager="$(node -p 'require("./.data/demo-tokens.json").manager')"
code="$(curl -s -o /dev/null -w '%{http_code}' "$api/api/processes" -H "Authorization: Bearer $manager")"
[ "$code" = 200 ] || fail "the first start's demo manager token is refused after the restart (HTTP $code)"
say "second start: process $id is still there, and the first start's tokens still work"
ctrl_c
say "passed in $((SECONDS - t0))s"

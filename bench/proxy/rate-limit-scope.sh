#!/usr/bin/env bash
# Cost of rate_limit.scope: the in-process token bucket (default) against the shared limit counted
# in a cache store (sqlite, redis). One proxy worker, one `respond` route whose limit is never hit,
# wrk -t1 -c16 for SECONDS per scope after a 2 s warm-up. Needs wrk (and redis-server for redis).
# Usage: bench/proxy/rate-limit-scope.sh [SECONDS]
set -euo pipefail
SECS=${1:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUN="$ROOT/node_modules/.bin/bun"
TMP=$(mktemp -d)
PORT=18099
RPORT=16399
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

scopes=(process sqlite)
if command -v redis-server >/dev/null; then
  redis-server --port $RPORT --bind 127.0.0.1 --save "" --appendonly no >"$TMP/redis.log" 2>&1 &
  pids+=($!)
  scopes+=(redis)
  sleep 0.5
fi

declare -A rps
for scope in "${scopes[@]}"; do
  case $scope in
    process) rl="rate: 1000000000" ;;
    *) rl="rate: 1000000000, scope: shared, store: $scope" ;;
  esac
  cat >"$TMP/$scope.yaml" <<YAML
store: { path: $TMP/$scope.db }
pid_file: $TMP/$scope.pid
upgrade_sock: $TMP/$scope.sock
metrics: { enabled: false }
cache: { redis: { url: "redis://127.0.0.1:$RPORT" } }
proxy:
  listen: ["127.0.0.1:$PORT"]
  routes:
    - { name: r, respond: { status: 200, body: ok }, rate_limit: { $rl, key: any } }
YAML
  SECURELY_CONF="$TMP/$scope.yaml" "$BUN" "$ROOT/src/main.ts" proxy:serve >"$TMP/$scope.out" 2>&1 &
  sp=$!
  pids+=($sp)
  for _ in $(seq 50); do grep -q "securely ready" "$TMP/$scope.out" && break; sleep 0.1; done
  wrk -t1 -c16 -d2s "http://127.0.0.1:$PORT/" >/dev/null
  out=$(wrk -t1 -c16 -d"${SECS}s" "http://127.0.0.1:$PORT/")
  rps[$scope]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '/Latency/ {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf "%-8s %10s req/s  mean latency %s%s\n" "$scope" "${rps[$scope]}" "$p99" "${non2xx:+  non-2xx $non2xx}"
  kill -INT $sp
  wait $sp 2>/dev/null || true
done
for scope in "${scopes[@]}"; do
  [ "$scope" = process ] || printf "%s/process %.2f\n" "$scope" "$(echo "${rps[$scope]} / ${rps[process]}" | bc -l)"
done

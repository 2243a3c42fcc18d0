#!/usr/bin/env bash
# Starts a throwaway graft (its embedded PostgreSQL in a temporary data directory, an admin
# secret, a short live-query refetch interval) and runs the Node subscription test against it
# with both GraphQL WebSocket client libraries, then the graphql-js schema validation test. Needs Node.js and `npm ci` done in this folder;
# GRAFT_BIN defaults to target/release/graft. The graft log is printed when the test fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
graft_bin="${GRAFT_BIN:-$root/target/release/graft}"
if [ ! -x "$graft_bin" ]; then
  echo "graft binary not found at $graft_bin: build it with cargo build --release -p graft" >&2
  exit 2
fi
if [ ! -d "$here/node_modules" ]; then
  echo "run npm ci in $here first" >&2
  exit 2
fi

work="$(mktemp -d)"
# When graft runs as root its database runs as the postgres user, which must reach the data dir.
chmod 755 "$work"
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
secret="node-test-$(node -e "console.log(require('crypto').randomBytes(12).toString('hex'))")"

HASURA_GRAPHQL_ADMIN_SECRET="$secret" \
HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL=100 \
  "$graft_bin" serve --server-host 127.0.0.1 --server-port "$port" --dev-data-dir "$work/data" \
  >"$work/graft.log" 2>&1 &
graft_pid=$!

cleanup() {
  if kill -0 "$graft_pid" 2>/dev/null; then
    kill -TERM "$graft_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$graft_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$graft_pid" 2>/dev/null || true
  fi
  wait "$graft_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

url="http://127.0.0.1:$port"
for _ in $(seq 1 450); do
  if ! kill -0 "$graft_pid" 2>/dev/null; then
    echo "graft exited before it was healthy; its log:" >&2
    cat "$work/graft.log" >&2
    exit 1
  fi
  if node -e "fetch('$url/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
    break
  fi
  sleep 0.2
done

status=0
for test_file in "$here"/subscriptions.test.mjs "$here"/schema.test.mjs; do
  GRAFT_URL="$url" GRAFT_ADMIN_SECRET="$secret" node "$test_file" || status=$?
done
if [ "$status" -ne 0 ]; then
  echo "== graft log (last 40 lines)" >&2
  tail -n 40 "$work/graft.log" >&2
fi
exit "$status"

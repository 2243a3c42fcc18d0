#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit + end-to-end tests (each starts its own
# PostgreSQL from the machine's server binaries), and the Hasura conformance cases checked
# against the known-failures list, and the Node client tests (tests/node). Needs Rust, the
# PostgreSQL server binaries, and Node.js with npm (packages come from the npm registry).
set -euo pipefail
cd "$(dirname "$0")/.."

DATA="${GRAFT_CONFORMANCE_DATA:-../shared/hasura-conformance}"

echo "== optional test extras (PostGIS, en_US.UTF-8)"
./scripts/test-extras.sh

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets -- -D warnings

echo "== build"
cargo build --release -p graft -p graft-conformance

echo "== conformance (Hasura's own cases; known failures in tests/conformance/known_failures.tsv)"
cargo run --release -q -p graft-conformance -- \
  --data "$DATA" \
  --known-failures tests/conformance/known_failures.tsv \
  --json target/conformance-results.json

echo "== conformance over WebSockets (GraphQL cases whose pytest class lists them, subscription scenarios)"
cargo run --release -q -p graft-conformance -- \
  --data "$DATA" \
  --transport websocket,graphql-transport-ws,subscription \
  --known-failures tests/conformance/known_failures.tsv \
  --json target/conformance-ws-results.json

echo "== conformance in webhook mode (permission folders; role headers through the runner's auth webhook)"
cargo run --release -q -p graft-conformance -- \
  --data "$DATA" \
  --auth-mode webhook \
  --known-failures tests/conformance/known_failures.tsv \
  --json target/conformance-webhook-results.json

echo "== Node clients against graft: graphql-ws, subscriptions-transport-ws, graphql-js schema validation"
(cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
GRAFT_BIN=target/release/graft tests/node/run.sh

echo "== unit and end-to-end tests"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --release --workspace 2>&1 | tee "$log"
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"

#!/usr/bin/env bash
# The API contract test: schemathesis (pinned, in a git-ignored virtual environment) with every
# check, against the demo server, as an administrator and as a citizen. 0 failures expected.
# CONTRACT_MOTCUA_BIN: the binary to test (default target/debug/motcua). CONTRACT_EXAMPLES: test cases
# per operation and phase (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."

ST_VERSION=4.32.5
VENV="${CARGO_TARGET_DIR:-target}/contract-venv"
BIN="${CONTRACT_MOTCUA_BIN:-${CARGO_TARGET_DIR:-target}/debug/motcua}"
EXAMPLES="${CONTRACT_EXAMPLES:-25}"

if ! "$VENV/bin/st" --version 2>/dev/null | grep -q "$ST_VERSION"; then
  echo "installing schemathesis $ST_VERSION into $VENV…"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$ST_VERSION"
fi

DATA="$(mktemp -d /tmp/motcua-contract.XXXXXX)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
# The contract run sends thousands of requests from one address: no anonymous rate limit here
# (the limit has its own tests).
MOTCUA_HTTP__ANONYMOUS_REQUESTS_PER_SECOND=0 RUST_LOG=warn "$BIN" serve --demo --listen "127.0.0.1:$PORT" --data-dir "$DATA" >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 240); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 $SERVER 2>/dev/null || break
  sleep 0.5
done
if ! curl -fsS "$BASE/healthz" >/dev/null 2>&1; then
  echo "error: the demo server did not start; its log:" >&2
  cat "$DATA/server.log" >&2
  exit 1
fi

token() {
  curl -fsS -X POST "$BASE/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"motcua-demo\"}" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

status=0
for who in admin congdan; do
  echo "== schemathesis as $who"
  T="$(token "$who")"
  "$VENV/bin/st" --config-file schemathesis.toml run "$BASE/api/v1/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $T" \
    --phases examples,coverage,fuzzing \
    --max-examples "$EXAMPLES" \
    --seed 20250128 \
    --workers 2 \
    --no-color \
    --suppress-health-check all \
    --warnings off || status=1
done
if grep -q "panicked" "$DATA/server.log"; then
  echo "error: the server panicked:" >&2
  grep -A5 "panicked" "$DATA/server.log" >&2
  status=1
fi
exit $status

#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test — storage tests on SQLite and on
# PostgreSQL (MOTCUA_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test).
set -euo pipefail
cd "$(dirname "$0")/.."

PGHOST_ADDR=127.0.0.1
if ! pg_isready -h "$PGHOST_ADDR" -p 5432 -q 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "starting PostgreSQL…"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h "$PGHOST_ADDR" -p 5432 -q && break; sleep 1; done
  fi
fi
if [ -z "${MOTCUA_TEST_DATABASE_URL:-}" ]; then
  if ! pg_isready -h "$PGHOST_ADDR" -p 5432; then
    echo "error: PostgreSQL is not reachable at $PGHOST_ADDR:5432; the storage tests need it" >&2
    exit 1
  fi
  # The default test database must exist.
  psql -h "$PGHOST_ADDR" -U postgres -tAc "SELECT 1" test >/dev/null 2>&1 \
    || createdb -h "$PGHOST_ADDR" -U postgres test
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

# The web application end to end, in Debian's headless Chromium (playwright-core from npm,
# no browser download), with axe-core and the page-weight budget. Screenshots go to
# target/e2e-artifacts/.
cargo build -p motcua --locked
(cd e2e && npm ci --no-audit --no-fund --silent)
E2E_MOTCUA_BIN="${CARGO_TARGET_DIR:-target}/debug/motcua" \
  E2E_ARTIFACTS="${CARGO_TARGET_DIR:-target}/e2e-artifacts" node e2e/run.mjs

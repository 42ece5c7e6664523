#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test — storage tests on SQLite and on
# PostgreSQL (MOTCUA_TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) — then
# the API contract test (schemathesis) and the end-to-end test in headless Chromium.
#
# On a fresh Debian machine with only the Rust toolchain it sets up what it needs:
# - missing Debian packages (a C compiler, PostgreSQL, Chromium, zbar (reads QR codes), poppler
#   and qpdf (read and rewrite PDFs), Node.js and npm, Python's venv)
#   are installed with apt-get when run as root (otherwise it names them and stops);
# - PostgreSQL: the local cluster is started if it is installed but down; when there is none,
#   an ephemeral cluster is made with initdb in a temporary folder and removed at the end;
# - the test database is created if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# --- Debian packages -------------------------------------------------------------------------
need=()
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v curl >/dev/null 2>&1 || need+=(curl ca-certificates)
command -v pg_isready >/dev/null 2>&1 || need+=(postgresql-client)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ -z "${MOTCUA_TEST_DATABASE_URL:-}" ]; then
  need+=(postgresql)
fi
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
command -v pdfinfo >/dev/null 2>&1 || need+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
[ -f /usr/share/tesseract-ocr/5/tessdata/vie.traineddata ] || ls /usr/share/tesseract-ocr/*/tessdata/vie.traineddata >/dev/null 2>&1 || need+=(tesseract-ocr-vie)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${need[@]}"
  else
    echo "error: missing packages: ${need[*]} (run as root to install them, or install them yourself)" >&2
    exit 1
  fi
fi

# --- PostgreSQL ------------------------------------------------------------------------------
PG_ADDR=127.0.0.1
EPHEMERAL_PG=""
cleanup() {
  if [ -n "$EPHEMERAL_PG" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$EPHEMERAL_PG/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$EPHEMERAL_PG"
  fi
}
trap cleanup EXIT

if [ -z "${MOTCUA_TEST_DATABASE_URL:-}" ]; then
  PG_PORT=5432
  # MOTCUA_EPHEMERAL_PG=1 skips the running cluster (to test the ephemeral path).
  if [ "${MOTCUA_EPHEMERAL_PG:-0}" = 1 ]; then PG_PORT=55432; fi
  if [ "${MOTCUA_EPHEMERAL_PG:-0}" != 1 ] && ! pg_isready -h "$PG_ADDR" -p "$PG_PORT" -q 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
      echo "starting the local PostgreSQL cluster…"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
      for _ in $(seq 1 30); do pg_isready -h "$PG_ADDR" -p "$PG_PORT" -q && break; sleep 1; done
    fi
  fi
  if ! pg_isready -h "$PG_ADDR" -p "$PG_PORT" -q 2>/dev/null; then
    PG_BIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"
    PG_PORT=55432
    EPHEMERAL_PG="$(mktemp -d /tmp/motcua-pg.XXXXXX)"
    chmod 755 "$EPHEMERAL_PG"
    echo "no PostgreSQL running: starting an ephemeral cluster in $EPHEMERAL_PG on port $PG_PORT…"
    as_pg=()
    [ "$(id -u)" = 0 ] && { chown postgres "$EPHEMERAL_PG"; as_pg=(runuser -u postgres --); }
    "${as_pg[@]}" "$PG_BIN/initdb" -D "$EPHEMERAL_PG/data" -U postgres -A trust >/dev/null
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$EPHEMERAL_PG/data" -l "$EPHEMERAL_PG/log" -w \
      -o "-h $PG_ADDR -p $PG_PORT -k $EPHEMERAL_PG -c fsync=off -c max_connections=300" start >/dev/null
  fi
  if ! pg_isready -h "$PG_ADDR" -p "$PG_PORT" -q; then
    echo "error: PostgreSQL is not reachable at $PG_ADDR:$PG_PORT; the storage tests need it" >&2
    exit 1
  fi
  psql -h "$PG_ADDR" -p "$PG_PORT" -U postgres -tAc "SELECT 1" test >/dev/null 2>&1 \
    || createdb -h "$PG_ADDR" -p "$PG_PORT" -U postgres test
  export MOTCUA_TEST_DATABASE_URL="postgres://postgres@$PG_ADDR:$PG_PORT/test"
fi
echo "PostgreSQL for tests: $MOTCUA_TEST_DATABASE_URL"

if [ "${MOTCUA_SETUP_ONLY:-0}" = 1 ]; then
  psql "$MOTCUA_TEST_DATABASE_URL" -tAc "SELECT 'test database ready: ' || version()"
  exit 0
fi

# --- A local S3-protocol server (moto, pinned, in a git-ignored virtual environment) for the
# file tests' S3 path; set MOTCUA_TEST_S3_ENDPOINT to use another S3-compatible server.
MOTO_VERSION=5.2.6
if [ -z "${MOTCUA_TEST_S3_ENDPOINT:-}" ]; then
  MOTO_VENV="${CARGO_TARGET_DIR:-target}/moto-venv"
  if ! "$MOTO_VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
    echo "installing moto $MOTO_VERSION into $MOTO_VENV…"
    python3 -m venv "$MOTO_VENV"
    "$MOTO_VENV/bin/pip" install -q "moto[server]==$MOTO_VERSION"
  fi
  MOTO_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  MOTO_LOG="$(mktemp /tmp/motcua-moto.XXXXXX)"
  "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >"$MOTO_LOG" 2>&1 &
  MOTO_PID=$!
  trap 'kill $MOTO_PID 2>/dev/null || true; rm -f "$MOTO_LOG"; cleanup' EXIT
  for _ in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$MOTO_PORT/" >/dev/null 2>&1 && break
    sleep 0.5
  done
  export MOTCUA_TEST_S3_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
fi
echo "S3-protocol server for tests: $MOTCUA_TEST_S3_ENDPOINT"

# --- pyHanko (pinned, in a git-ignored virtual environment): the second, independent verifier
# of the PDF signatures beside poppler's pdfsig.
PYHANKO_VERSION=0.38.0
if [ -z "${MOTCUA_TEST_PYHANKO:-}" ]; then
  PYHANKO_VENV="${CARGO_TARGET_DIR:-target}/pyhanko-venv"
  if ! "$PYHANKO_VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('pyhanko') != '$PYHANKO_VERSION')" 2>/dev/null; then
    echo "installing pyHanko $PYHANKO_VERSION into $PYHANKO_VENV…"
    python3 -m venv "$PYHANKO_VENV"
    "$PYHANKO_VENV/bin/pip" install -q "pyhanko==$PYHANKO_VERSION"
  fi
  MOTCUA_TEST_PYHANKO="$(cd "$PYHANKO_VENV/bin" && pwd)/python"
  export MOTCUA_TEST_PYHANKO
fi

# --- Rust ------------------------------------------------------------------------------------
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

cargo build -p motcua --locked
BIN="${CARGO_TARGET_DIR:-target}/debug/motcua"

# --- API contract: schemathesis against the demo server ---------------------------------------
if [ -x scripts/contract.sh ]; then
  CONTRACT_MOTCUA_BIN="$BIN" scripts/contract.sh
fi

# --- The web application end to end, in Debian's headless Chromium (playwright-core from npm,
# no browser download), with axe-core and the page-weight budget. Screenshots go to
# target/e2e-artifacts/.
(cd e2e && npm ci --no-audit --no-fund --silent)
E2E_MOTCUA_BIN="$BIN" \
  E2E_ARTIFACTS="${CARGO_TARGET_DIR:-target}/e2e-artifacts" node e2e/run.mjs

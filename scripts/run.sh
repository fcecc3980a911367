#!/usr/bin/env bash
# One entry point for a fresh Debian/Ubuntu machine: it installs what dn-docs
# needs (system libraries, fonts, a virtualenv, compiled catalogs) and then
# runs the requested job. Every step is idempotent, so running it again is cheap.
#
#   bash scripts/run.sh demo    install, then render the demo documents into out/demo
#   bash scripts/run.sh test    install, then run lint, type checks and the test suite
#   bash scripts/run.sh bench   install, then run the benchmarks (batches, then the HTTP service)
#   bash scripts/run.sh serve   install, migrate the SQLite database, make a demo clinic and
#                               its web app user (once) and an API key, then run the HTTP
#                               API and the web app
#   bash scripts/run.sh setup   install only
#   bash scripts/run.sh lock    refresh requirements.lock from pyproject.toml
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${DN_DOCS_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

# WeasyPrint's own libraries, HarfBuzz subsetting (much faster font embedding),
# fonts for every shipped script, Redis for the batch tests, poppler for humans,
# Chromium for the browser tests (Playwright drives it; its own download is not used),
# npm for axe-core (tests/browser).
APT_PACKAGES=(
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0
  fontconfig fonts-noto-core fonts-noto-cjk
  redis-server poppler-utils
  chromium
)

# The resolver that writes requirements.lock (bash scripts/run.sh lock).
UV_VERSION=0.13.9

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_system_packages() {
  local missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    say "installing system packages: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

install_python() {
  if [[ ! -x "$PY" ]]; then
    say "creating virtualenv in $VENV"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.dn-docs-installed"
  if [[ ! -f "$stamp" || requirements.lock -nt "$stamp" || pyproject.toml -nt "$stamp" ]]; then
    say "installing the locked dependencies (requirements.lock)"
    # Exactly the locked versions, each checked against its hash; nothing resolved here.
    "$PY" -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
      -r requirements.lock
    "$PY" -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
    "$PY" -m dn_docs.installation --remove-unlocked
    touch "$stamp"
  fi
}

# Re-resolves requirements.lock from pyproject.toml with a pinned uv (the only command that
# changes the lock). Pass --upgrade to move every pin to the newest allowed release, or
# --upgrade-package NAME for one; otherwise existing pins are kept.
lock() {
  local tools="${TMPDIR:-/tmp}/dn-docs-lock-tools"
  [[ -x "$tools/bin/uv" ]] || { python3 -m venv "$tools" && "$tools/bin/pip" install -q "uv==$UV_VERSION"; }
  "$tools/bin/uv" pip compile pyproject.toml --extra dev --group pyproject.toml:build \
    --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "bash scripts/run.sh lock" -o requirements.lock "$@"
}

# axe-core for the browser tests, exactly as tests/browser/package-lock.json pins it.
install_axe() {
  if ! command -v npm >/dev/null; then
    say "installing npm (Debian's, for axe-core)"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  local stamp=tests/browser/node_modules/.dn-docs-installed
  if [[ ! -f "$stamp" || tests/browser/package-lock.json -nt "$stamp" ]]; then
    say "installing axe-core (npm ci in tests/browser)"
    (cd tests/browser && npm ci --silent --no-audit --no-fund >/dev/null)
    touch "$stamp"
  fi
}

compile_catalogs() {
  say "compiling translation catalogs"
  local out
  out=$("$VENV/bin/pybabel" compile -d locales -D messages 2>&1) || { echo "$out" >&2; exit 1; }
  # The web app's own interface texts (English and Spanish): the `web` domain.
  out=$("$VENV/bin/pybabel" compile -d locales -D web 2>&1) || { echo "$out" >&2; exit 1; }
}

ensure_redis() {
  if ! "$PY" -c 'import redis,sys; redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping()' 2>/dev/null; then
    if command -v redis-server >/dev/null; then
      say "starting redis-server on 127.0.0.1:6379"
      mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir "${TMPDIR:-/tmp}" --logfile "${TMPDIR:-/tmp}/dn-docs-redis.log"
      for _ in $(seq 50); do
        "$PY" -c 'import redis; redis.Redis(host="127.0.0.1", port=6379).ping()' 2>/dev/null && break
        sleep 0.1
      done
    else
      say "redis-server is not installed; the broker tests will be skipped"
    fi
  fi
}

build_fonts() {
  say "building compact CJK font copies (once)"
  "$VENV/bin/dn-docs" fonts build
}

setup() {
  install_system_packages
  install_python
  compile_catalogs
  build_fonts
}

cmd="${1:-demo}"
shift || true
case "$cmd" in
  setup) setup ;;
  lock) lock "$@" ;;
  demo)
    setup
    "$VENV/bin/dn-docs" demo --out "${DN_DOCS_DEMO_OUT:-out/demo}" "$@"
    ;;
  test)
    setup
    ensure_redis
    install_axe
    say "ruff"
    "$VENV/bin/ruff" check src worker tests benchmarks
    "$VENV/bin/ruff" format --check src worker tests benchmarks
    say "mypy --strict"
    "$VENV/bin/mypy" src worker
    say "translation catalogs"
    "$VENV/bin/dn-docs" locales check
    say "pytest"
    "$VENV/bin/pytest" "$@"
    ;;
  serve)
    setup
    "$VENV/bin/dn-docs" db upgrade
    clinic=$("$VENV/bin/dn-docs" clinics list | awk '$3 == "Demo" && $4 == "Physio" {print $1; exit}')
    if [[ -z "$clinic" ]]; then
      clinic=$("$VENV/bin/dn-docs" clinics create --name "Demo Physio" --country GB \
        --language en --phone "+44 20 7946 0000" --address "1 Quay Street, Bristol")
      say "created the demo clinic $clinic"
    fi
    key=$("$VENV/bin/dn-docs" keys create --clinic "$clinic" --label "run.sh serve" 2>/dev/null)
    say "API key for the demo clinic (shown once): $key"
    host="${DN_DOCS_HOST:-127.0.0.1}" port="${DN_DOCS_PORT:-8000}"
    if [[ -z $("$VENV/bin/dn-docs" users list --clinic "$clinic") ]]; then
      password=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(12))')
      printf '%s\n' "$password" | "$VENV/bin/dn-docs" users create --clinic "$clinic" \
        --email demo@example.org --name "Demo Admin" --role admin --password-stdin >/dev/null
      say "web app: sign in at http://$host:$port/login as demo@example.org, password $password (shown once)"
    else
      say "web app: http://$host:$port/login (demo@example.org, the password shown when it was made)"
    fi
    say "serving on http://$host:$port (try: curl http://$host:$port/health)"
    exec "$VENV/bin/dn-docs" serve --host "$host" --port "$port"
    ;;
  bench)
    setup
    ensure_redis
    "$PY" benchmarks/bench.py "$@"
    # The HTTP service under load, written beside the batch figures.
    "$PY" benchmarks/serve_bench.py
    ;;
  *)
    echo "usage: bash scripts/run.sh {demo|test|serve|bench|setup|lock} [args...]" >&2
    exit 2
    ;;
esac

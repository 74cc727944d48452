#!/usr/bin/env bash
# Installs the package managers the dependency tests drive, pinned, into .tools/:
#   .tools/pkg-venv              a Python venv with uv, Poetry (with its export
#                                plugin) and a pip recent enough for pylock.toml
#   .tools/bin/{uv,poetry,pip-latest}
#                                links to them
#   .tools/wheels/               build backends (hatchling, uv_build) and their
#                                own dependencies, as wheels, so a test can build
#                                a `src/` project's own package with no network
#   .tools/node/node_modules/.bin/{pnpm,yarn,esbuild,tsc}
#                                pnpm, Yarn 4, esbuild and TypeScript from the npm
#                                registry (installed with the machine's npm; no
#                                corepack download)
# Idempotent: when the pins in the stamp file match, it does nothing.
# EVENTPIPE_TOOLS_DIR overrides the location (default: <repo>/.tools).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${EVENTPIPE_TOOLS_DIR:-$ROOT/.tools}"
VENV="$TOOLS/pkg-venv"
BIN="$TOOLS/bin"
WHEELS="$TOOLS/wheels"
NODE_DIR="$TOOLS/node"
STAMP="$TOOLS/.package-tools-pins"
PYTHON="${PYTHON:-python3}"

PY_PINS=(
  "uv==0.13.9"
  "poetry==2.5.1"
  "poetry-plugin-export==1.10.1"
  "pip==26.3"
)
# Build backends a `src/` layout project names in [build-system].
WHEEL_PINS=(
  "hatchling==1.33.0"
  "uv-build==0.13.6"
  "setuptools==80.9.0"
  "wheel==0.45.1"
)
NODE_PINS=(
  "pnpm@10.34.8"
  "@yarnpkg/cli-dist@4.18.1"
  "esbuild@0.28.2"
  "typescript@5.9.3"
)

log() { printf 'setup-package-tools: %s\n' "$*"; }
die() { printf 'setup-package-tools: error: %s\n' "$*" >&2; exit 1; }

pins_text() { printf '%s\n' "${PY_PINS[@]}" "${WHEEL_PINS[@]}" "${NODE_PINS[@]}"; }

ready() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(pins_text)" ]] \
    && [[ -x "$BIN/uv" && -x "$BIN/poetry" && -x "$NODE_DIR/node_modules/.bin/pnpm" ]]
}

install_python_tools() {
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  log "installing ${PY_PINS[*]}"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PINS[@]}" \
    || die "pip install failed"
  mkdir -p "$BIN"
  ln -sfn "$VENV/bin/uv" "$BIN/uv"
  ln -sfn "$VENV/bin/poetry" "$BIN/poetry"
  ln -sfn "$VENV/bin/pip" "$BIN/pip-latest"
}

fetch_wheels() {
  rm -rf "$WHEELS"
  mkdir -p "$WHEELS"
  log "fetching build backends ${WHEEL_PINS[*]} into $WHEELS"
  "$VENV/bin/python" -m pip download --quiet --disable-pip-version-check \
    --only-binary=:all: --dest "$WHEELS" "${WHEEL_PINS[@]}" || die "pip download failed"
}

install_node_tools() {
  command -v npm >/dev/null || die "npm not found (on Debian: apt-get install npm)"
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  printf '{"name":"eventpipe-tools","private":true}\n' >"$NODE_DIR/package.json"
  log "installing ${NODE_PINS[*]} into $NODE_DIR"
  (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund --save-exact "${NODE_PINS[@]}") \
    || die "npm install failed"
}

main() {
  mkdir -p "$TOOLS"
  exec 9>"$TOOLS/.setup-package-tools.lock"
  if command -v flock >/dev/null; then flock 9; fi
  if ready; then
    log "package tools up to date in $TOOLS"
    return
  fi
  local started=$SECONDS
  install_python_tools
  fetch_wheels
  install_node_tools
  pins_text >"$STAMP"
  log "ready in $((SECONDS - started)) s: uv $("$BIN/uv" --version | cut -d' ' -f2)," \
    "poetry, pnpm $("$NODE_DIR/node_modules/.bin/pnpm" --version)," \
    "yarn $("$NODE_DIR/node_modules/.bin/yarn" --version)," \
    "esbuild $("$NODE_DIR/node_modules/.bin/esbuild" --version)"
}

main "$@"

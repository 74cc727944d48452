#!/usr/bin/env bash
# Installs the system packages the image tests need, with apt-get, when they
# are missing:
#   docker-registry   the CNCF distribution registry (`docker-registry serve CONFIG`),
#                     started per test on 127.0.0.1 by tests/src/registry.rs
#   skopeo            the independent registry client the tests push and inspect with
#   pigz              parallel gzip, the baseline of the image layer build (figure 13 of the bench)
#   time              GNU time: the bench reads a command's own peak RSS with it (figure 14)
#   gcc               the C compiler (`cc`) the function.slim tests build an unstripped
#                     shared object with
# Idempotent: when every command is on PATH it only prints their versions.
# Needs Debian/Ubuntu and root (or password-less sudo); CI runs as root.
# Tested with Debian 12's docker-registry 2.8.2+ds1-1 and skopeo 1.9.3+ds1-1+b10.
set -euo pipefail

PACKAGES=(docker-registry skopeo pigz gcc time)
# The command each package provides, in the same order.
COMMANDS=(docker-registry skopeo pigz cc /usr/bin/time)

log() { printf 'setup-system-tools: %s\n' "$*"; }
die() { printf 'setup-system-tools: error: %s\n' "$*" >&2; exit 1; }

missing_packages() {
  local i
  for i in "${!COMMANDS[@]}"; do
    command -v "${COMMANDS[$i]}" >/dev/null || printf '%s\n' "${PACKAGES[$i]}"
  done
}

# Runs apt-get as root: directly, or through password-less sudo.
apt_get() {
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
  else
    die "not root and no password-less sudo: run 'apt-get install ${PACKAGES[*]}' as root, then 'make tools' again"
  fi
}

install_packages() {
  command -v apt-get >/dev/null \
    || die "no apt-get: install the CNCF distribution registry (docker-registry), skopeo, pigz and a C compiler (cc) by hand"
  local wanted=("$@")
  log "installing ${wanted[*]} with apt-get"
  # A fresh machine may have no package lists yet: update once, then retry.
  if ! apt_get install -y -q --no-install-recommends "${wanted[@]}"; then
    log "apt-get install failed; running apt-get update and trying again"
    apt_get update -q || die "apt-get update failed"
    apt_get install -y -q --no-install-recommends "${wanted[@]}" || die "apt-get install ${wanted[*]} failed"
  fi
}

package_version() {
  dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "not from a package"
}

report_versions() {
  local i
  for i in "${!PACKAGES[@]}"; do
    log "${PACKAGES[$i]} $(package_version "${PACKAGES[$i]}") at $(command -v "${COMMANDS[$i]}")"
  done
}

main() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} > 0)); then
    install_packages "${missing[@]}"
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) || die "still missing after apt-get: ${missing[*]}"
  fi
  report_versions
}

main "$@"

#!/usr/bin/env bash
# Installs everything beyond the Rust toolchain, Python and apt. Idempotent, and quick
# when already done: each step checks before it installs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

# The pinned toolchain (rust-toolchain.toml) and the arm64 target.
installed_targets=$(rustup target list --installed 2>/dev/null || true)
if ! grep -qx aarch64-unknown-linux-gnu <<<"$installed_targets"; then
  say "adding the aarch64-unknown-linux-gnu target"
  rustup target add aarch64-unknown-linux-gnu
fi
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

# qemu and the arm64 C library, for the arm64 boot check.
if ! dpkg -s qemu-user-static libc6-arm64-cross >/dev/null 2>&1; then
  say "installing qemu-user-static and libc6-arm64-cross"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq qemu-user-static libc6-arm64-cross >/dev/null
fi

# Python virtual environments, rebuilt only when their pinned requirements change.
venv() { # dir requirements
  local dir=$1 req=$2 stamp
  stamp=$(sha256sum "$req" | cut -d' ' -f1)
  if [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$stamp" ]; then
    say "installing $(basename "$req") into $(basename "$dir")"
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check --upgrade pip
    "$dir/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$stamp" > "$dir/.stamp"
  fi
}
venv "$VENV" scripts/requirements.txt
venv "$SCAN_VENV" scripts/requirements-scan.txt

for tool in moto_server cargo-lambda sam cfn-lint; do
  command -v "$tool" >/dev/null || die "$tool is missing after set-up"
done
command -v qemu-aarch64-static >/dev/null || die "qemu-aarch64-static is missing after set-up"
"$SCAN_VENV/bin/checkov" --version >/dev/null || die "checkov is missing after set-up"
echo "set-up: done"

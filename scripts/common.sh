# Shared set-up for scripts/dev.sh and scripts/test.sh (sourced, not run).
# Installs only what is missing, so the second run is fast. Debian 12 / Ubuntu 22.04+.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export DEBIAN_FRONTEND=noninteractive CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# Build output and caches live outside the clone so a fresh clone (CI) starts warm.
export LIVETRIGGER_CACHE=${LIVETRIGGER_CACHE:-$HOME/.cache/livetrigger}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$LIVETRIGGER_CACHE/target}
export npm_config_cache=${npm_config_cache:-$LIVETRIGGER_CACHE/npm}
export PATH="$HOME/.cargo/bin:$PATH"
JOBS=${JOBS:-$(nproc)}
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
T0=$SECONDS
step() { echo "=== [$((SECONDS - T0))s] $*"; }

# System packages: build (webkit, gtk, alsa), then the real-window test tools.
BUILD_PKGS=(libwebkit2gtk-4.1-dev libasound2-dev build-essential pkg-config file curl ca-certificates)
# dbus: the single-instance test gives the app a private session bus (dbus-daemon).
TEST_PKGS=(xvfb xauth webkit2gtk-driver dbus)

apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  if ((${#missing[@]})); then
    step "apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

need_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    step "installing Rust (rustup)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
}

need_node() {
  local v
  v=$(node --version 2>/dev/null | sed 's/^v//') || true
  if [ -z "$v" ] || [ "$(printf '%s\n' "20.19.0" "$v" | sort -V | head -n1)" != "20.19.0" ]; then
    echo "Node.js 20.19 or newer is needed (found: ${v:-none})." >&2
    echo "Install it from your distribution's backports or nodesource, then run this again." >&2
    exit 1
  fi
}

# Node packages for ui/ (and e2e/ when asked). `npm ci` only when the lock file changed.
npm_install() {
  local dir
  for dir in "$@"; do
    if [ ! -f "$dir/node_modules/.package-lock.json" ] || ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.livetrigger-lock"; then
      step "npm ci ($dir)"
      npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
      cp "$dir/package-lock.json" "$dir/node_modules/.livetrigger-lock"
    fi
  done
}

need_tauri_driver() {
  if ! command -v tauri-driver >/dev/null 2>&1; then
    step "cargo install tauri-driver"
    cargo install tauri-driver --version '^2' --locked -j"$JOBS"
  fi
}

#!/usr/bin/env bash
# Set up what is missing, build, and run every test: lints, Rust unit + integration tests,
# UI unit tests, and the real-window end-to-end tests under Xvfb.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
apt_install "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
need_rust
need_node
npm_install ui e2e
need_tauri_driver

FEATURES=(--features livetrigger/custom-protocol)

step "rustfmt"
cargo fmt --all -- --check

step "core crates must not depend on tauri"
for crate in tiktok-live webcast-sim livetrigger-engine livetrigger-cli; do
  if cargo tree -p "$crate" -e normal,build --prefix none --format '{p}' | grep -E '^tauri(-[a-z-]+)? ' ; then
    echo "$crate depends on tauri; the core must build without it" >&2
    exit 1
  fi
done

step "ui: lint, types, unit tests"
npm --prefix ui run --silent lint
npm --prefix ui run --silent typecheck
npm --prefix ui test

step "ui: build (embedded into the app binary)"
npm --prefix ui run --silent build

step "clippy"
cargo clippy -j"$JOBS" --locked --workspace --all-targets "${FEATURES[@]}" -- -D warnings

step "cargo build"
cargo build -j"$JOBS" --locked --workspace --bins "${FEATURES[@]}"

step "cargo test"
# rodio needs an ALSA device; the null PCM gives it one on machines without a sound card.
ALSA_CONFIG_PATH="$ROOT/.ci/asound-null.conf" \
  cargo test -j"$JOBS" --locked --workspace "${FEATURES[@]}" -- --include-ignored

step "e2e: the real window under Xvfb"
xvfb-run -a -s "-screen 0 1280x800x24" npm --prefix e2e test

# --- installers (issue 12): package the debug build just made as a .deb (no compiling), install
# it (dpkg -i as root, else dpkg -x), check it, start the installed app under Xvfb, remove it.
step "installer: .deb of the debug build, installed, started, removed"
bash scripts/installer-test.sh --debug --bundle-only

step "fuzz smoke (every cargo-fuzz target for a few seconds over its corpus)"
bash scripts/fuzz-smoke.sh

step "all green"

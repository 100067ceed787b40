#!/usr/bin/env bash
# Set up what is missing, build, and run the app (Tauri dev mode with hot reload).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
apt_install "${BUILD_PKGS[@]}"
need_rust
need_node
npm_install ui
step "tauri dev"
exec ui/node_modules/.bin/tauri dev "$@"

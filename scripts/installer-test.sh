#!/usr/bin/env bash
# Builds the Linux installers with the Tauri bundler, installs the .deb the way a user would,
# checks what it put on disk, starts the INSTALLED app under Xvfb (from its desktop entry, and
# through WebDriver to see the Connect view render), then uninstalls it.
#
#   scripts/installer-test.sh [--debug] [--bundle-only | --no-build] [--mode system|extract] [--appimage]
#
#   (default)    `tauri build`: build the UI and the optimised release binary, then bundle.
#   --debug      use the debug build instead of the release build.
#   --bundle-only  `tauri bundle`: package the binary that is already built, compile nothing.
#                `--debug --bundle-only` is what CI runs, right after scripts/test.sh has built
#                the debug binary with the same features.
#   --no-build   test the bundles already in $CARGO_TARGET_DIR/{release,debug}/bundle/.
#   --mode system   `dpkg -i` + `apt-get -f install`, then `dpkg -r` (needs root; the default
#                   as root, and what CI runs).
#   --mode extract  `dpkg -x` into a temporary root (no root needed; the default otherwise).
#   --appimage   also build and start the AppImage. The Tauri bundler downloads linuxdeploy and
#                AppRun from GitHub into ~/.cache/tauri unless they are already there; see
#                docs/performance.md "Installers and sizes".
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PROFILE=release
BUILD=build
MODE=
APPIMAGE=0
while (($#)); do
  case "$1" in
    --debug) PROFILE=debug ;;
    --bundle-only) BUILD=bundle ;;
    --no-build) BUILD=none ;;
    --mode) MODE=${2:?--mode needs system or extract}; shift ;;
    --appimage) APPIMAGE=1 ;;
    *) echo "unknown option: $1 (see the top of $0)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$MODE" ]; then
  if [ "$(id -u)" -eq 0 ]; then MODE=system; else MODE=extract; fi
fi
case "$MODE" in system | extract) ;; *) echo "--mode is system or extract" >&2; exit 2 ;; esac

fail() { echo "installer-test: $*" >&2; exit 1; }

# desktop-file-validate checks the desktop entry; install it where we may (root, as on CI).
if ! command -v desktop-file-validate >/dev/null && [ "$(id -u)" -eq 0 ]; then
  apt_install desktop-file-utils
fi

VERSION=$(node -p 'require("./tauri.conf.json").version')
PRODUCT=$(node -p 'require("./tauri.conf.json").productName')
PACKAGE=live-trigger        # the bundler names the package after productName, kebab-cased
BIN=livetrigger             # the [[bin]] in Cargo.toml
BUNDLE_DIR="$CARGO_TARGET_DIR/$PROFILE/bundle"
DEB="$BUNDLE_DIR/deb/${PRODUCT}_${VERSION}_amd64.deb"
APPIMAGE_FILE="$BUNDLE_DIR/appimage/${PRODUCT}_${VERSION}_amd64.AppImage"

if [ "$BUILD" != none ]; then
  bundles=deb
  ((APPIMAGE)) && bundles=deb,appimage
  # The app's own feature on top of the tauri/custom-protocol the CLI adds: the feature set
  # of scripts/test.sh's `--features livetrigger/custom-protocol`.
  flags=(--bundles "$bundles" --ci --features custom-protocol)
  [ "$PROFILE" = debug ] && flags+=(--debug)
  if [ "$BUILD" = bundle ]; then
    [ -x "$CARGO_TARGET_DIR/$PROFILE/$BIN" ] || fail "no $CARGO_TARGET_DIR/$PROFILE/$BIN to bundle (build it first)"
  fi
  step "tauri $BUILD ${flags[*]}"
  CARGO_BUILD_JOBS=$JOBS ui/node_modules/.bin/tauri "$BUILD" "${flags[@]}"
fi
[ -f "$DEB" ] || fail "no $DEB (build it, or drop --no-build)"
# The bundler's unpacked staging copy (a second copy of the binary: 370 MiB for debug).
rm -rf "${DEB%.deb}"

step "package metadata ($DEB)"
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = "$PACKAGE" ] || fail "Package is '$(field Package)', not $PACKAGE"
[ "$(field Version)" = "$VERSION" ] || fail "Version is '$(field Version)', not $VERSION"
[ "$(field Architecture)" = amd64 ] || fail "Architecture is '$(field Architecture)'"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
DEPENDS=$(field Depends)
echo "Depends: $DEPENDS"
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 libasound2; do
  grep -Eq "(^|, )$dep( |,|$)" <<<"$DEPENDS" || fail "Depends lacks $dep"
done

# The Debian package that holds PATH (merged /usr: dpkg may list it with or without /usr).
owner_of() {
  local p
  for p in "$1" "$(realpath "$1")" "${1#/usr}" "/usr${1#/usr}"; do
    dpkg -S "$p" 2>/dev/null | head -n1 | cut -d: -f1 && return 0
  done
  return 1
}

# Every library the binary links directly must come from a package that Depends pulls in
# (directly or through its own dependencies), or the app will not start on a clean system.
check_linked_libs() {
  local exe=$1 closure lib path pkg n=0 missing=()
  # `apt-cache depends --recurse` prints every package of the closure on a line of its own.
  closure=$(apt-cache depends --recurse --important \
    $(tr ',' '\n' <<<"$DEPENDS" | awk '{print $1}') 2>/dev/null | grep -E '^[a-z0-9]' | sort -u)
  [ -n "$closure" ] || fail "apt-cache knows none of: $DEPENDS (run apt-get update)"
  while read -r lib; do
    n=$((n + 1))
    # "name => path (addr)", or "path (addr)" for the dynamic loader itself.
    path=$(ldd "$exe" | awk -v l="$lib" '
      $2 == "=>" { if ($1 == l) print $3; next }
      { n = $1; sub(".*/", "", n); if (n == l) print $1 }')
    [ -n "$path" ] && [ "$path" != "not" ] || fail "$exe: $lib is not found on this system"
    pkg=$(owner_of "$path") || fail "$lib ($path) belongs to no Debian package"
    grep -qx "$pkg" <<<"$closure" || missing+=("$lib ($pkg)")
  done < <(readelf -d "$exe" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
  ((${#missing[@]} == 0)) || fail "Depends does not cover: ${missing[*]}"
  echo "each of the $n libraries $(basename "$exe") links comes with Depends"
}

# What the package installed below ROOT (/ for a real install).
check_installed_files() {
  local root=${1%/} desktop icon size dims exe
  exe="$root/usr/bin/$BIN"
  [ -x "$exe" ] || fail "$exe is missing or not executable"
  file -L "$exe" | grep -q 'ELF 64-bit LSB pie executable' || fail "$exe is not an x86-64 program"
  if ldd "$exe" | grep -q 'not found'; then ldd "$exe" | grep 'not found'; fail "$exe misses libraries"; fi
  check_linked_libs "$exe"

  desktop="$root/usr/share/applications/$PRODUCT.desktop"
  [ -f "$desktop" ] || fail "no desktop entry at $desktop"
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$desktop" || fail "$desktop is not a valid desktop entry"
    echo "desktop-file-validate: $desktop is valid"
  else
    echo "desktop-file-validate not installed (apt-get install desktop-file-utils): skipped"
  fi
  grep -qx "Exec=$BIN" "$desktop" || fail "$desktop: Exec is not '$BIN'"
  grep -qx "Icon=$BIN" "$desktop" || fail "$desktop: Icon is not '$BIN'"
  grep -qx "Name=$PRODUCT" "$desktop" || fail "$desktop: Name is not '$PRODUCT'"

  # One PNG per size in tauri.conf.json's bundle.icon, each really that size.
  for size in 32x32 128x128 256x256@2; do
    icon="$root/usr/share/icons/hicolor/$size/apps/$BIN.png"
    [ -f "$icon" ] || fail "no icon $icon"
    dims=${size%@2}
    file "$icon" | grep -q "PNG image data, ${dims/x/ x }," || fail "$icon is not a ${dims} PNG: $(file -b "$icon")"
  done
  echo "binary, desktop entry and icons (32, 128, 256) are in place"
}

# The two real-window tests of e2e/installer/ against the installed app.
run_window_tests() {
  local exe=$1 desktop=$2 path_dir=$3
  step "start the installed app under Xvfb ($exe)"
  env -u DBUS_SESSION_BUS_ADDRESS PATH="$path_dir:$PATH" \
    LIVETRIGGER_BIN="$exe" LIVETRIGGER_DESKTOP_FILE="$desktop" LIVETRIGGER_EXPECT_VERSION="$VERSION" \
    xvfb-run -a -s "-screen 0 1280x800x24" \
    node --test --test-concurrency=1 e2e/installer/
}

if [ "$MODE" = system ]; then
  [ "$(id -u)" -eq 0 ] || fail "--mode system needs root (or use --mode extract)"
  if dpkg-query -W -f='${db:Status-Status}' "$PACKAGE" 2>/dev/null | grep -qx installed; then
    # On CI it can only be what an interrupted run left behind; elsewhere it may be the
    # user's own copy, which this test must not replace and then remove.
    [ "${CI:-}" = true ] || fail "$PACKAGE is already installed here; this test would replace and then remove it. Use --mode extract."
    step "CI: removing the $PACKAGE an interrupted run left installed"
    dpkg -r "$PACKAGE"
  fi
  step "install: dpkg -i $(basename "$DEB")"
  trap 'dpkg -r "$PACKAGE" >/dev/null 2>&1 || true' EXIT
  if ! dpkg -i "$DEB"; then
    step "install: apt-get -f install (missing dependencies)"
    apt-get install -f -y -qq --no-install-recommends
  fi
  dpkg-query -W -f='${db:Status-Status}' "$PACKAGE" | grep -qx installed || fail "$PACKAGE did not install"
  check_installed_files /
  [ "$(command -v "$BIN")" = "/usr/bin/$BIN" ] || fail "'$BIN' on PATH is $(command -v "$BIN"), not /usr/bin/$BIN"
  run_window_tests "/usr/bin/$BIN" "/usr/share/applications/$PRODUCT.desktop" /usr/bin
  step "uninstall: dpkg -r $PACKAGE"
  dpkg -r "$PACKAGE"
  trap - EXIT
  [ ! -e "/usr/bin/$BIN" ] || fail "/usr/bin/$BIN is still there after dpkg -r"
  [ ! -e "/usr/share/applications/$PRODUCT.desktop" ] || fail "the desktop entry is still there after dpkg -r"
  echo "removed: /usr/bin/$BIN and the desktop entry are gone"
else
  INSTALL_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/livetrigger-deb-XXXXXX")
  trap 'rm -rf "$INSTALL_ROOT"' EXIT
  step "install: dpkg -x into $INSTALL_ROOT"
  dpkg -x "$DEB" "$INSTALL_ROOT"
  check_installed_files "$INSTALL_ROOT"
  run_window_tests "$INSTALL_ROOT/usr/bin/$BIN" "$INSTALL_ROOT/usr/share/applications/$PRODUCT.desktop" \
    "$INSTALL_ROOT/usr/bin"
  rm -rf "$INSTALL_ROOT"
  trap - EXIT
fi

if ((APPIMAGE)); then
  [ -f "$APPIMAGE_FILE" ] || fail "no $APPIMAGE_FILE"
  chmod +x "$APPIMAGE_FILE"
  step "AppImage: start it with --appimage-extract-and-run (no FUSE needed)"
  APPIMAGE_EXTRACT_AND_RUN=1 env -u DBUS_SESSION_BUS_ADDRESS LIVETRIGGER_BIN="$APPIMAGE_FILE" LIVETRIGGER_EXPECT_VERSION="$VERSION" \
    xvfb-run -a -s "-screen 0 1280x800x24" \
    node --test --test-concurrency=1 e2e/installer/installed-app.test.mjs
fi

step "sizes"
sizes=("$DEB" "$CARGO_TARGET_DIR/$PROFILE/$BIN" "$CARGO_TARGET_DIR/$PROFILE/livetrigger-cli")
[ -f "$APPIMAGE_FILE" ] && sizes+=("$APPIMAGE_FILE")
for f in "${sizes[@]}"; do
  if [ -f "$f" ]; then
    stat -c '%s %n' "$f" | awk '{ printf "%8.1f MiB  %s\n", $1 / 1048576, $2 }'
  fi
done
step "installer test passed ($MODE, $PROFILE)"

#!/usr/bin/env bash
# Fuzz smoke run: every cargo-fuzz target for a few seconds over its committed corpus.
# Fails on any finding (crash, panic, failed assertion, timeout, out-of-memory).
# The long runs are manual; see docs/reliability.md ("Fuzzing").
#   FUZZ_SECONDS=3 (per target)   FUZZ_SKIP_INSTALL=1 (skip when nightly is missing)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SECS=${FUZZ_SECONDS:-3}
need_rust
if ! cargo +nightly --version >/dev/null 2>&1; then
  if [ -n "${FUZZ_SKIP_INSTALL:-}" ]; then
    echo "fuzz smoke: no nightly toolchain, skipped"
    exit 0
  fi
  step "rustup toolchain install nightly (minimal)"
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  step "cargo install cargo-fuzz"
  cargo install cargo-fuzz --locked -j"$JOBS"
fi

# The smoke run must not grow the committed corpora: new inputs go to a scratch dir that is
# listed first (libFuzzer writes to the first corpus dir only).
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

for dir in src-tauri/crates/tiktok-live/fuzz src-tauri/crates/engine/fuzz; do
  step "cargo fuzz build ($dir)"
  (cd "$dir" && CARGO_BUILD_JOBS=$JOBS cargo +nightly fuzz build)
  for target in $(cd "$dir" && cargo +nightly fuzz list); do
    step "fuzz $target for ${SECS}s"
    mkdir -p "$SCRATCH/$target"
    dict=()
    [ -f "$dir/dicts/$target.dict" ] && dict=(-dict="dicts/$target.dict")
    log="$SCRATCH/$target.log"
    if (cd "$dir" && cargo +nightly fuzz run "$target" "$SCRATCH/$target" "corpus/$target" -- \
      -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      "${dict[@]}") >"$log" 2>&1; then
      grep -E '^stat::number_of_executed_units' "$log" || true
    else
      tail -n 40 "$log" >&2
      echo "fuzz smoke: $target found a problem; the input is in $dir/artifacts/$target/" >&2
      exit 1
    fi
  done
done
step "fuzz smoke passed"

#!/usr/bin/env bash
# A short, bounded libFuzzer run of every decoder's fuzz target (one per decoder, see
# tests/fuzz/*_fuzz.cc), seeded with the real kubectl transcripts and the test data.
# Needs the clang fuzz build (tests/run-all.sh makes it in build-fuzz and exports
# KPROXY_FUZZ_BUILD_DIR). Seconds per target: KPROXY_FUZZ_SECONDS (default 5).
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
fuzz_dir="${KPROXY_FUZZ_BUILD_DIR:-}"
if [ -z "$fuzz_dir" ] || [ ! -d "$fuzz_dir/tests" ]; then
  echo "fuzz: no fuzz build (clang not installed?): set KPROXY_FUZZ_BUILD_DIR; nothing run"
  exit 0
fi
seconds="${KPROXY_FUZZ_SECONDS:-5}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds"
for f in "$src"/../shared/vectors/* "$src"/tests/data/kubeconfig/*.yaml "$src"/tests/data/sim/*; do
  [ -f "$f" ] && cp "$f" "$work/seeds/" 2>/dev/null || true
done
failed=0
ran=0
for target in "$src"/tests/fuzz/*_fuzz.cc; do
  name=$(basename "$target" .cc)
  bin="$fuzz_dir/tests/$name"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $name was not built"; failed=1; continue
  fi
  mkdir -p "$work/$name"
  if (cd "$work" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=0 "$work/$name" "$work/seeds" >"$work/$name.log" 2>&1); then
    runs=$(grep -o 'Done [0-9]* runs' "$work/$name.log" | grep -o '[0-9]*' || echo "?")
    echo "fuzz: $name ok ($runs runs in ${seconds}s)"
  else
    echo "fuzz: $name FAILED"; tail -40 "$work/$name.log"; failed=1
  fi
  ran=$((ran + 1))
done
echo "fuzz: $ran targets run"
exit $failed

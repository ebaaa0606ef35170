#!/usr/bin/env bash
# Startup cost, side by side: `kproxy version` vs `kubectl version --client`, N runs each
# (interleaved so both see the same machine load). Prints mean/median wall time, mean peak RSS
# (GNU time's %M) and the kproxy/kubectl ratios (mission.md aims at <= 1/5 for both).
# Usage: tests/bench/startup_bench.sh [N] [path/to/kproxy] [path/to/kubectl]
set -euo pipefail
N=${1:-20}
KPROXY=${2:-$(dirname "$0")/../../build/kproxy}
KUBECTL=${3:-$(command -v kubectl || true)}
TIME=/usr/bin/time
[ -x "$KPROXY" ] || { echo "startup_bench: no kproxy at $KPROXY (build first)" >&2; exit 1; }
[ -n "$KUBECTL" ] && [ -x "$KUBECTL" ] || { echo "startup_bench: kubectl not found" >&2; exit 1; }
[ -x "$TIME" ] || { echo "startup_bench: $TIME missing (Debian package time)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One run: wall time in microseconds from date +%s%N, peak RSS in KiB from GNU time.
run() {
  local out=$1; shift
  local t0 t1
  t0=$(date +%s%N)
  "$TIME" -f %M -o "$tmp/rss" "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 )) $(cat "$tmp/rss")" >>"$out"
}

# Warm the page cache once so the first sample is not a cold-disk outlier.
"$KPROXY" version >/dev/null 2>&1
"$KUBECTL" version --client >/dev/null 2>&1
for _ in $(seq "$N"); do
  run "$tmp/kproxy" "$KPROXY" version
  run "$tmp/kubectl" "$KUBECTL" version --client
done

# mean_us median_us mean_rss_kib
stats() {
  sort -n -k1 "$1" | awk '{w[NR]=$1; s+=$1; r+=$2} END {
    m = (NR % 2) ? w[(NR+1)/2] : (w[NR/2] + w[NR/2+1]) / 2;
    printf "%d %d %d\n", s/NR, m, r/NR }'
}
read -r kp_mean kp_med kp_rss < <(stats "$tmp/kproxy")
read -r kc_mean kc_med kc_rss < <(stats "$tmp/kubectl")

# awk does the arithmetic (no bc dependency).
awk -v n="$N" -v kpm="$kp_mean" -v kpd="$kp_med" -v kpr="$kp_rss" \
    -v kcm="$kc_mean" -v kcd="$kc_med" -v kcr="$kc_rss" 'BEGIN {
  printf "%-28s %10s %10s %14s\n", "command (" n " runs each)", "mean ms", "median ms", "peak RSS MiB"
  printf "%-28s %10.2f %10.2f %14.1f\n", "kproxy version", kpm/1000, kpd/1000, kpr/1024
  printf "%-28s %10.2f %10.2f %14.1f\n", "kubectl version --client", kcm/1000, kcd/1000, kcr/1024
  printf "ratio kproxy/kubectl: wall (median) %.3f, peak RSS %.3f\n", kpd/kcd, kpr/kcr
}'

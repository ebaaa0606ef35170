#!/usr/bin/env bash
# exec, side by side against ONE simulator: kproxy vs kubectl 1.33 (WebSocket v5) and kubectl
# 1.28 (SPDY). Measures, per client:
#   - `exec POD -- true`: median wall time and mean peak RSS over N runs (interleaved);
#   - 100 MB through stdout (`cat FILE`) and 100 MB through stdin (`-i … -- sha256sum`):
#     throughput and client CPU (user+sys) per byte, from GNU time; every transfer is checked
#     by SHA-256 so a fast wrong answer does not count.
# kproxy runs with its default protocol choice (WebSocket) and with --protocol=spdy, so each
# kubectl has a same-protocol counterpart. Prints the ratios mission.md aims at:
#   wall and RSS of `exec -- true` <= 1/5 of kubectl's; throughput >= kubectl's; CPU/byte <= 1/3.
# Everything runs on 127.0.0.1; the simulator is stopped on exit.
# Usage: tests/bench/exec_bench.sh [N] [build dir]
set -euo pipefail
N=${1:-10}
BUILD=${2:-$(dirname "$0")/../../build}
KPROXY=$BUILD/kproxy
SIM=$BUILD/kproxy-sim
KDIR=${KPROXY_KUBECTL_DIR:-/usr/lib/google-cloud-sdk/bin}
K133=$KDIR/kubectl.1.33
K128=$KDIR/kubectl.1.28
TIME=/usr/bin/time
PROBE=$BUILD/tests/spawn_probe_bench  # wall fork→wait4 and the child's own peak RSS
SIZE=$((100 * 1024 * 1024))
POD=web-7d9f5c6b8-abcde
for f in "$KPROXY" "$SIM" "$K133" "$K128" "$TIME" "$PROBE"; do
  [ -x "$f" ] || { echo "exec_bench: missing $f" >&2; exit 1; }
done

tmp=$(mktemp -d)
sim_pid=
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$SIM" up --dir "$tmp/sim" --fixture "$(dirname "$0")/../data/sim/default.yaml" \
  >"$tmp/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 200); do [ -f "$tmp/sim/ready" ] && break; sleep 0.05; done
[ -f "$tmp/sim/ready" ] || { echo "exec_bench: simulator did not start" >&2; cat "$tmp/sim.log" >&2; exit 1; }
export KUBECONFIG=$tmp/sim/kubeconfig
unset KUBECTL_REMOTE_COMMAND_WEBSOCKETS

# The "container" runs on this machine: a 100 MB file both sides can read.
head -c "$SIZE" /dev/urandom >"$tmp/big.bin"
want=$(sha256sum <"$tmp/big.bin" | cut -d' ' -f1)

# Clients, and the command line up to the exec arguments (exec's flags go after the verb).
names=(kproxy kproxy-spdy kubectl.1.33 kubectl.1.28)
# Each client gets its own HOME and cache: kproxy's protocol memory (and kubectl's discovery
# cache) must not leak from one row to another — a shared memory made the "kproxy" row run
# SPDY after the kproxy-spdy warm-up.
exec_argv() {  # name → sets EXEC=(binary exec [flags]) and exports that client's HOME
  export HOME=$tmp/home.$1 XDG_CACHE_HOME=$tmp/home.$1/cache
  mkdir -p "$HOME"
  case $1 in
    kproxy) EXEC=("$KPROXY" exec) ;;
    kproxy-spdy) EXEC=("$KPROXY" exec --protocol=spdy) ;;
    kubectl.1.33) EXEC=("$K133" exec) ;;
    kubectl.1.28) EXEC=("$K128" exec) ;;
  esac
}

# Warm up every client once (page cache, kubectl's discovery cache, kproxy's protocol memory).
for n in "${names[@]}"; do
  exec_argv "$n"
  if ! "${EXEC[@]}" "$POD" -- true >/dev/null 2>"$tmp/warm.err"; then
    echo "exec_bench: $n exec failed:" >&2; cat "$tmp/warm.err" >&2; exit 1
  fi
done

# 1) exec -- true: wall (us, fork→wait4) and peak RSS (KiB, wait4 rusage) per run, interleaved.
for _ in $(seq "$N"); do
  for n in "${names[@]}"; do
    exec_argv "$n"
    "$PROBE" "${EXEC[@]}" "$POD" -- true >>"$tmp/true.$n"
  done
done
for n in "${names[@]}"; do  # → median_us mean_rss_kib
  sort -n -k1 "$tmp/true.$n" | awk '{w[NR]=$1; r+=$2} END {
    m = (NR % 2) ? w[(NR+1)/2] : (w[NR/2] + w[NR/2+1]) / 2; printf "%d %d\n", m, r/NR }' \
    >"$tmp/true.stats.$n"
done

# Which protocol each kproxy row used (the timed runs start from the same protocol memory).
for n in kproxy kproxy-spdy; do
  exec_argv "$n"
  proto=$("${EXEC[@]}" -v 1 "$POD" -- true 2>&1 >/dev/null |
    sed -n 's/.*connected over \([a-z]*\) with.*/\1/p' | tail -1)
  echo "${proto:-unknown}" >"$tmp/proto.$n"
done

# 2) 100 MB stdout and 3) 100 MB stdin: wall seconds, client user+sys seconds, SHA-256 check.
transfer() {  # name, direction → "wall cpu ok"
  local n=$1 dir=$2 t0 t1 got
  exec_argv "$n"
  t0=$(date +%s%N)
  if [ "$dir" = out ]; then
    "$TIME" -f "%U %S" -o "$tmp/cpu" "${EXEC[@]}" "$POD" -- cat "$tmp/big.bin" 2>/dev/null |
      sha256sum >"$tmp/sum"
  else
    "$TIME" -f "%U %S" -o "$tmp/cpu" "${EXEC[@]}" -i "$POD" -- sha256sum <"$tmp/big.bin" \
      >"$tmp/sum" 2>/dev/null
  fi
  t1=$(date +%s%N)
  got=$(cut -d' ' -f1 "$tmp/sum")
  tail -1 "$tmp/cpu" | awk -v w="$(( (t1 - t0) / 1000 ))" \
    -v ok="$([ "$got" = "$want" ] && echo 1 || echo 0)" '{ printf "%.3f %.3f %d\n", w/1e6, $1+$2, ok }'
}
for n in "${names[@]}"; do
  transfer "$n" out >"$tmp/out.$n"
  transfer "$n" in >"$tmp/in.$n"
done

awk -v size="$SIZE" -v tmp="$tmp" '
function load(f,   line) { getline line < f; close(f); return line }
BEGIN {
  split("kproxy kproxy-spdy kubectl.1.33 kubectl.1.28", names, " ")
  printf "exec against one kproxy-sim, 100 MB transfers\n"
  printf "%-14s %12s %10s | %10s %10s %4s | %10s %10s %4s\n", "client", "true ms(med)", "RSS MiB",
         "out MB/s", "out ns/B", "sha", "in MB/s", "in ns/B", "sha"
  for (i = 1; i <= 4; i++) {
    c = names[i]
    split(load(tmp "/true.stats." c), t, " ")
    split(load(tmp "/out." c), o, " ")
    split(load(tmp "/in." c), p, " ")
    ms[c] = t[1] / 1000; rss[c] = t[2] / 1024
    omb[c] = size / 1048576 / o[1]; ons[c] = o[2] * 1e9 / size
    imb[c] = size / 1048576 / p[1]; ins[c] = p[2] * 1e9 / size
    printf "%-14s %12.1f %10.1f | %10.1f %10.2f %4s | %10.1f %10.2f %4s\n", c, ms[c], rss[c],
           omb[c], ons[c], o[3] ? "ok" : "BAD", imb[c], ins[c], p[3] ? "ok" : "BAD"
  }
  printf "\nprotocol used: kproxy %s, kproxy-spdy %s\n", load(tmp "/proto.kproxy"), load(tmp "/proto.kproxy-spdy")
  printf "\nratios (kproxy / kubectl; targets: wall <= 0.2, RSS <= 0.2, throughput >= 1, CPU/B <= 0.33)\n"
  pairs[1] = "kproxy kubectl.1.33"; pairs[2] = "kproxy-spdy kubectl.1.28"
  for (j = 1; j <= 2; j++) {
    split(pairs[j], q, " "); a = q[1]; b = q[2]
    printf "%-12s vs %-13s wall %.3f  RSS %.3f  out-throughput %.2f  in-throughput %.2f  out-CPU/B %.3f  in-CPU/B %.3f\n",
           a, b, ms[a] / ms[b], rss[a] / rss[b], omb[a] / omb[b], imb[a] / imb[b],
           (ons[b] > 0 ? ons[a] / ons[b] : 0), (ins[b] > 0 ? ins[a] / ins[b] : 0)
  }
}' </dev/null

#!/usr/bin/env bash
# Port-forward benchmark: kproxy, kubectl 1.33 (WebSocket tunnel) and kubectl 1.28 (SPDY)
# against the same kproxy-sim in one run. For each client: bulk throughput (MB each direction,
# checked by SHA-256), client CPU seconds per GB moved (utime+stime of the port-forward
# process), and peak RSS (VmHWM) after CONNS concurrent connections. Prints ratios vs kubectl.
#
# usage: tests/bench/portforward_bench.sh [BUILD_DIR]   env: MB=100 CONNS=200 POD=... PORT=8080
# Loopback only; every process it starts is stopped on exit.
set -euo pipefail

BUILD=${1:-build}
MB=${MB:-100}
CONNS=${CONNS:-200}
POD=${POD:-pod/web-7d9f5c6b8-abcde}
REMOTE=${PORT:-8080}
BACKEND_PORT=${BACKEND_PORT:-18080}  # the fixture's portMap for $REMOTE
KUBECTL_DIR=${KUBECTL_DIR:-/usr/lib/google-cloud-sdk/bin}
KPROXY=$BUILD/kproxy
SIM=$BUILD/kproxy-sim

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

for b in "$KPROXY" "$SIM" "$KUBECTL_DIR/kubectl.1.33" "$KUBECTL_DIR/kubectl.1.28"; do
  [[ -x $b ]] || { echo "missing $b" >&2; exit 2; }
done

# --- the simulator and the "container" behind the forwarded port -----------------------------
"$SIM" up --dir "$WORK/sim" >"$WORK/sim.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do [[ -f $WORK/sim/ready ]] && break; sleep 0.1; done
[[ -f $WORK/sim/ready ]] || { echo "simulator did not start" >&2; cat "$WORK/sim.log" >&2; exit 1; }
KUBECONFIG_FILE=$WORK/sim/kubeconfig

cat >"$WORK/pfbench.py" <<'PY'
import hashlib, os, socket, sys, threading, time

def serve(port):
    # "GET n\n" → n pseudo-random bytes; "PUT n\n" + n bytes → sha256 hex; "HOLD\n" → "ok"
    # then wait for EOF.
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(1024)
    def handle(c):
        try:
            f = c.makefile("rb")
            line = f.readline().decode().split()
            if line[0] == "GET":
                n = int(line[1]); block = os.urandom(1 << 20); h = hashlib.sha256(); sent = 0
                while sent < n:
                    b = block[: min(len(block), n - sent)]; c.sendall(b); h.update(b); sent += len(b)
                c.sendall(b"")  # the client checks the hash it prints against ours via stderr
                sys.stderr.write("GET %s\n" % h.hexdigest()); sys.stderr.flush()
            elif line[0] == "PUT":
                n = int(line[1]); h = hashlib.sha256(); got = 0
                while got < n:
                    b = f.read1(min(1 << 20, n - got))
                    if not b: break
                    h.update(b); got += len(b)
                c.sendall(h.hexdigest().encode())
            elif line[0] == "HOLD":
                c.sendall(b"ok"); f.read()
        except Exception:
            pass
        finally:
            c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()

def bulk(port, mb):
    n = mb << 20
    t0 = time.time()
    c = socket.create_connection(("127.0.0.1", port)); c.sendall(b"GET %d\n" % n)
    h = hashlib.sha256(); got = 0
    while got < n:
        b = c.recv(1 << 20)
        if not b: break
        h.update(b); got += len(b)
    c.close(); t1 = time.time()
    if got != n: raise SystemExit("download short: %d of %d" % (got, n))
    down = h.hexdigest()
    block = os.urandom(1 << 20); h = hashlib.sha256()
    c = socket.create_connection(("127.0.0.1", port)); c.sendall(b"PUT %d\n" % n); sent = 0
    while sent < n:
        b = block[: min(len(block), n - sent)]; c.sendall(b); h.update(b); sent += len(b)
    answer = b""
    while len(answer) < 64:
        b = c.recv(64)
        if not b: break
        answer += b
    c.close(); t2 = time.time()
    if answer.decode() != h.hexdigest(): raise SystemExit("upload hash mismatch")
    print("%s %.3f %.3f" % (down, t1 - t0, t2 - t1))

def concurrent(port, n):
    socks = []
    for _ in range(n):
        c = socket.create_connection(("127.0.0.1", port)); c.sendall(b"HOLD\n"); socks.append(c)
    ok = 0
    for c in socks:
        c.settimeout(20)
        if c.recv(2) == b"ok": ok += 1
    print(ok)
    return socks

if __name__ == "__main__":
    if sys.argv[1] == "serve": serve(int(sys.argv[2]))
    elif sys.argv[1] == "bulk": bulk(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "hold":
        socks = concurrent(int(sys.argv[2]), int(sys.argv[3])); sys.stdout.flush()
        sys.stdin.read()  # keep them open until told
PY

python3 "$WORK/pfbench.py" serve "$BACKEND_PORT" 2>"$WORK/backend.log" &
PIDS+=($!)
sleep 0.3

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# run NAME COMMAND... : starts the forward, measures, prints "NAME secs_down secs_up cpu_s rss_kb ok"
run() {
  local name=$1; shift
  local out=$WORK/$name.out
  env KUBECONFIG="$KUBECONFIG_FILE" "$@" port-forward "$POD" ":$REMOTE" >"$out" 2>"$WORK/$name.err" &
  local pid=$!
  PIDS+=($pid)
  local port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$out" | head -1)
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { echo "$name: no Forwarding line" >&2; cat "$WORK/$name.err" >&2; return 1; }
  local c0; c0=$(cpu_ticks $pid)
  local res; res=$(python3 "$WORK/pfbench.py" bulk "$port" "$MB")
  local c1; c1=$(cpu_ticks $pid)
  local want; want=$(grep '^GET ' "$WORK/backend.log" | tail -1 | cut -d' ' -f2)
  local got; got=$(echo "$res" | cut -d' ' -f1)
  [[ $want == "$got" ]] || { echo "$name: download hash mismatch" >&2; return 1; }
  # Concurrent connections held open together, then peak RSS.
  mkfifo "$WORK/$name.hold"
  python3 "$WORK/pfbench.py" hold "$port" "$CONNS" <"$WORK/$name.hold" >"$WORK/$name.held" &
  local hp=$!
  exec 9>"$WORK/$name.hold"
  for _ in $(seq 300); do [[ -s $WORK/$name.held ]] && break; sleep 0.1; done
  local held; held=$(cat "$WORK/$name.held")
  local rss; rss=$(hwm_kb $pid)
  exec 9>&-
  wait $hp || true
  kill -INT $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  local tick; tick=$(getconf CLK_TCK)
  echo "$name $(echo "$res" | cut -d' ' -f2,3) $(awk -v a="$c0" -v b="$c1" -v t="$tick" 'BEGIN{printf "%.2f", (b-a)/t}') $rss ${held:-0}"
}

R_KPROXY=$(run kproxy "$KPROXY")
R_K133=$(run kubectl133 "$KUBECTL_DIR/kubectl.1.33")
R_K128=$(run kubectl128 "$KUBECTL_DIR/kubectl.1.28")
# kproxy over plain SPDY too (kubectl's switch), to separate the transports' costs.
R_KSPDY=$(run kproxy-spdy env KUBECTL_PORT_FORWARD_WEBSOCKETS=false "$KPROXY")

echo
printf "%-12s %10s %10s %10s %12s %10s %8s\n" client "down MB/s" "up MB/s" "cpu s" "cpu s/GB" "peakRSS KB" "conns"
for r in "$R_KPROXY" "$R_KSPDY" "$R_K133" "$R_K128"; do
  read -r n d u c rss held <<<"$r"
  awk -v n="$n" -v d="$d" -v u="$u" -v c="$c" -v r="$rss" -v h="$held" -v mb="$MB" -v cn="$CONNS" \
    'BEGIN{printf "%-12s %10.1f %10.1f %10.2f %12.3f %10d %5d/%d\n", n, mb/d, mb/u, c, c/(2*mb/1024), r, h, cn}'
done
echo
for pair in "$R_KPROXY|$R_K133" "$R_KSPDY|$R_K128"; do
  read -r _ kd ku kc kr _ <<<"${pair%%|*}"
  read -r n d u c rss _ <<<"${pair##*|}"
  awk -v n="$n" -v kd="$kd" -v ku="$ku" -v kc="$kc" -v kr="$kr" -v d="$d" -v u="$u" -v c="$c" -v r="$rss" \
    'BEGIN{printf "kproxy (same protocol) vs %-11s throughput down %.2fx up %.2fx (target >= 1) | cpu/byte %.2fx (target <= 0.33) | peak RSS %.2fx\n",
      n, d/kd, u/ku, (c>0? kc/c : 0), kr/r}'
done

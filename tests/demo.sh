#!/usr/bin/env bash
# The README's first command: kproxy's main job against the embedded cluster simulator, the
# identity flow included. Installs dependencies, builds kproxy and kproxy-sim, starts the
# simulator with its access-proxy emulator on loopback ports, signs in through the proxy
# (a scripted browser fills in the sign-in form as the fixture user alice), and runs
# `kproxy exec` into a pod of deployment "web" — first a plain command, then with stdin.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${KPROXY_BUILD_DIR:-build}

packaging/install-deps.sh
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target kproxy kproxy-sim

work=$(mktemp -d /tmp/kproxy-demo.XXXXXX)
cleanup() {
  "$BUILD_DIR/kproxy-sim" down --dir "$work/sim" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$BUILD_DIR/kproxy-sim" up --dir "$work/sim" --proxy >"$work/sim.log" 2>&1 &
for _ in $(seq 1 100); do [ -f "$work/sim/ready" ] && break; sleep 0.1; done
[ -f "$work/sim/ready" ] || { cat "$work/sim.log"; echo "demo: the simulator did not start" >&2; exit 1; }

export KUBECONFIG="$work/sim/kubeconfig"
export XDG_CACHE_HOME="$work/cache"           # a fresh token cache: the login really happens
export BROWSER="$PWD/tests/scripts/sim-browser.sh"
kproxy="$BUILD_DIR/kproxy"

echo "== kproxy login --context sso   (the access proxy's identity flow; URL printed, then opened)"
"$kproxy" login --context sso
echo
echo "== kproxy --context sso get pods   (kproxy as the kubeconfig credential plugin, in-process)"
"$kproxy" --context sso get pods
echo
echo "== kproxy --context sso auth status"
"$kproxy" --context sso auth status || true
echo
echo "== kproxy --context sso exec deploy/web -- sh -c 'echo hello from \$HOSTNAME; uname -s'"
"$kproxy" --context sso exec deploy/web -- sh -c 'echo hello from $HOSTNAME; uname -s'
echo
echo "== echo 'piped through stdin' | kproxy --context sso exec -i deploy/web -- tr a-z A-Z"
echo 'piped through stdin' | "$kproxy" --context sso exec -i deploy/web -- tr a-z A-Z
echo
echo "== kproxy --context sso exec deploy/web -- sh -c 'exit 3'   (the remote exit code is kproxy's)"
set +e
"$kproxy" --context sso exec deploy/web -- sh -c 'exit 3'
status=$?
set -e
echo "exit status: $status"
[ "$status" -eq 3 ]
echo
echo "demo: done (simulator stopped, temporary files removed)"

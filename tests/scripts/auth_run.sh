#!/usr/bin/env bash
# Runs one command for the identity e2e tests (tests/e2e/auth_sim_*_test.cc) the way a user
# would, with a clean environment, and records what happened:
#   auth_run.sh WORK NAME tty|notty [VAR=value ...] -- COMMAND [ARG ...]
# Environment: only PATH, HOME=WORK/home, XDG_CACHE_HOME=WORK/cache, KUBECONFIG=WORK/kubeconfig
# and the VAR=value pairs (so no CI, BROWSER or KUBECONFIG leaks in from the test runner).
# stdout → WORK/NAME.out, stderr → WORK/NAME.err, exit status → WORK/NAME.rc.
# tty: under a fresh pty (script(1)), because client-go reports spec.interactive=true only when
# kubectl's stdin is a terminal; notty: stdin is /dev/null. Bounded: killed after 120 s.
set -uo pipefail
work="$1" name="$2" mode="$3"
shift 3
vars=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do vars+=("$1"); shift; done
[ "${1:-}" = "--" ] || { echo "auth_run.sh: missing -- COMMAND" >&2; exit 2; }
shift
mkdir -p "$work/home" "$work/cache"
cmd=(env -i "PATH=/usr/local/bin:/usr/bin:/bin" "HOME=$work/home" "XDG_CACHE_HOME=$work/cache"
     "KUBECONFIG=$work/kubeconfig" "${vars[@]}" "$@")
line="$(printf '%q ' "${cmd[@]}") >$(printf '%q' "$work/$name.out") 2>$(printf '%q' "$work/$name.err")"
rc="$work/$name.rc"
rm -f "$rc"
if [ "$mode" = tty ]; then
  # script(1) gives the command a pty as stdin; its own copy of the pty output is discarded.
  timeout 120 script -qec "$line; echo \$? >$(printf '%q' "$rc")" /dev/null </dev/null >/dev/null 2>&1
else
  timeout 120 bash -c "$line </dev/null; echo \$? >$(printf '%q' "$rc")"
fi
[ -f "$rc" ] || echo killed >"$rc"

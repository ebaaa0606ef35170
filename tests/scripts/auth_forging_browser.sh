#!/usr/bin/env bash
# A hostile scripted "browser" for the access-proxy emulator (use as $BROWSER / --browser-cmd).
# Before completing the real sign-in it throws forged callbacks at kproxy's loopback listener:
# a real session JWT for another user ($FORGE_USER, default bob) delivered with a wrong state,
# on a wrong path, by POST, twice-stated, and without a JWT. Each attempt's HTTP status goes to
# $FORGE_LOG as "<attempt> <status>" (kproxy must answer 400 and keep waiting). Then it signs
# in as $SIM_USER (default alice) and follows the redirect to the real callback, like
# tests/scripts/sim-browser.sh.
set -euo pipefail
url="$1"
log="${FORGE_LOG:-/dev/null}"
user="${SIM_USER:-alice}" password="${SIM_PASSWORD:-alice-pass}"
forge_user="${FORGE_USER:-bob}" forge_password="${FORGE_PASSWORD:-bob-pass}"
page=$(curl -sk --max-time 10 "$url")
redirect=$(printf '%s' "$page" | sed -n 's/.*name="pomerium_redirect_uri" value="\([^"]*\)".*/\1/p' | head -n1)
redirect=${redirect//&amp;/&}
[ -n "$redirect" ] || { echo "auth_forging_browser: no sign-in form at $url" >&2; exit 1; }
base=$(printf '%s' "$url" | sed -E 's#^(https?://[^/]+).*#\1#')

# A genuine callback URL for the attacker's own session (not followed): the listener's real
# path and state, with pomerium_jwt=<bob's JWT> appended by the proxy.
stolen=$(curl -sk --max-time 10 -o /dev/null -w '%{redirect_url}' \
  --data-urlencode "pomerium_redirect_uri=$redirect" \
  --data-urlencode "user=$forge_user" --data-urlencode "password=$forge_password" \
  "$base/.pomerium/sign_in")
case "$stolen" in *pomerium_jwt=*) ;; *) echo "auth_forging_browser: no forged JWT" >&2; exit 1 ;; esac
jwt=${stolen##*pomerium_jwt=}
origin=$(printf '%s' "$redirect" | sed -E 's#^(http://[^/]+).*#\1#')
path=$(printf '%s' "$redirect" | sed -E 's#^http://[^/]+([^?]*).*#\1#')
state=$(printf '%s' "$redirect" | sed -n 's/.*[?&]state=\([^&]*\).*/\1/p')

try() {  # try NAME METHOD URL
  local code
  code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X "$2" "$3" || true)
  echo "$1 $code" >>"$log"
}
try wrong-state GET "$origin$path?state=0123456789abcdef0123456789abcdef&pomerium_jwt=$jwt"
try wrong-path GET "$origin/kproxy/callback?state=$state&pomerium_jwt=$jwt"
try post POST "$stolen"
try two-states GET "$origin$path?state=$state&state=00&pomerium_jwt=$jwt"
try no-jwt GET "$origin$path?state=$state"

# The real sign-in, followed to the callback.
curl -sk --max-time 10 -L -o /dev/null \
  --data-urlencode "pomerium_redirect_uri=$redirect" \
  --data-urlencode "user=$user" --data-urlencode "password=$password" \
  "$base/.pomerium/sign_in"
echo "signed-in $user" >>"$log"

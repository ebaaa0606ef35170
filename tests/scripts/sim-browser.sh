#!/usr/bin/env bash
# A scripted "browser" for the simulator's access proxy (used as $BROWSER / --browser-cmd):
# opens the sign-in URL, submits the login form as $SIM_USER/$SIM_PASSWORD (default: the
# fixture's alice), and follows the redirect to kproxy's loopback callback.
set -euo pipefail
url="$1"
user="${SIM_USER:-alice}"
password="${SIM_PASSWORD:-alice-pass}"
page=$(curl -sk --max-time 10 "$url")
redirect=$(printf '%s' "$page" | sed -n 's/.*name="pomerium_redirect_uri" value="\([^"]*\)".*/\1/p' | head -n1)
redirect=${redirect//&amp;/&}
[ -n "$redirect" ] || { echo "sim-browser: no sign-in form at $url" >&2; exit 1; }
base=$(printf '%s' "$url" | sed -E 's#^(https?://[^/]+).*#\1#')
# POST the form; curl follows the 302 to http://127.0.0.1:<port>/<path>/callback?...&pomerium_jwt=...
curl -sk --max-time 10 -L -o /dev/null \
  --data-urlencode "pomerium_redirect_uri=$redirect" \
  --data-urlencode "user=$user" --data-urlencode "password=$password" \
  "$base/.pomerium/sign_in"

// Opens the sign-in URL in a browser (auth.md §4.3): --browser-cmd, else $BROWSER, else
// xdg-open. The launcher runs in the background (it may itself drive the whole sign-in, as the
// tests' fake browser does), with stdin from /dev/null and its stdout sent to stderr so that
// `kproxy credential`'s stdout stays one JSON object.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/base/result.h"

namespace kproxy::auth {

using BrowserOpener = std::function<Status(const std::string& url)>;

// Chooses the command: `browser_cmd` if set, else $BROWSER, else "xdg-open". A "%s" in the
// command is replaced by the URL, otherwise the URL is appended as the last argument; the
// URL is passed to /bin/sh as a positional parameter, never spliced into the script.
// Returns kUnavailable when the launcher cannot be started (not fatal for a login).
BrowserOpener MakeProcessBrowserOpener(
    std::string browser_cmd, std::function<std::optional<std::string>(const std::string&)> getenv);

}  // namespace kproxy::auth

// How a command reports the error that ends it, as kubectl prints errors.
#pragma once

#include "cli/command.h"
#include "core/base/result.h"

namespace kproxy::cli {

// Writes `e` to io.err and returns the exit status for its code (core/base/exit_code.h).
// A message that already is a complete kubectl line ("error: …", "Error from server …",
// "Unable to connect to the server …") goes out as it is, anything else gets "error: "; secrets
// are redacted; an empty message prints nothing (the failing step already explained itself).
int ReportError(CommandIO& io, const Error& e);

}  // namespace kproxy::cli

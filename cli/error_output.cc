#include "cli/error_output.h"

#include <ostream>
#include <string>

#include "core/base/exit_code.h"
#include "core/base/log.h"

namespace kproxy::cli {

int ReportError(CommandIO& io, const Error& e) {
  const std::string& m = e.message;
  if (!m.empty()) {
    bool complete = m.rfind("error: ", 0) == 0 || m.rfind("Error from server", 0) == 0 ||
                    m.rfind("Unable to connect to the server", 0) == 0;
    io.err << (complete ? "" : "error: ") << Redact(m) << "\n";
  }
  return ExitStatusFor(e.code);
}

}  // namespace kproxy::cli

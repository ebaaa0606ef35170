#include "core/base/exit_code.h"
#include "core/base/result.h"

namespace kproxy {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage: return "Usage";
    case ErrorCode::kConfig: return "Config";
    case ErrorCode::kNotFound: return "NotFound";
    case ErrorCode::kUnauthenticated: return "Unauthenticated";
    case ErrorCode::kLoginRequired: return "LoginRequired";
    case ErrorCode::kForbidden: return "Forbidden";
    case ErrorCode::kUpgradeRejected: return "UpgradeRejected";
    case ErrorCode::kProtocol: return "Protocol";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kTimeout: return "Timeout";
    case ErrorCode::kCancelled: return "Cancelled";
    case ErrorCode::kServer: return "Server";
    case ErrorCode::kInternal: return "Internal";
  }
  return "Internal";
}

int ExitStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage: return exit_status::kUsage;
    case ErrorCode::kConfig: return exit_status::kConfig;
    case ErrorCode::kNotFound: return exit_status::kNotFound;
    case ErrorCode::kUnauthenticated: return exit_status::kUnauthenticated;
    case ErrorCode::kLoginRequired: return exit_status::kLoginRequired;
    case ErrorCode::kForbidden: return exit_status::kForbidden;
    case ErrorCode::kUpgradeRejected: return exit_status::kUpgradeRejected;
    case ErrorCode::kProtocol: return exit_status::kProtocol;
    case ErrorCode::kUnavailable: return exit_status::kUnavailable;
    case ErrorCode::kTimeout: return exit_status::kTimeout;
    case ErrorCode::kCancelled: return exit_status::kCancelled;
    case ErrorCode::kServer: return exit_status::kError;
    case ErrorCode::kInternal: return exit_status::kInternal;
  }
  return exit_status::kInternal;
}

}  // namespace kproxy

#include "core/rest/api_status.h"

#include <nlohmann/json.hpp>

namespace kproxy {
namespace {

// client-go caps the text of a non-Status body it quotes (maxUnstructuredResponseTextBytes).
constexpr size_t kMaxQuotedBody = 2048;

ErrorCode CodeFor(int http_status) {
  switch (http_status) {
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    default:
      return ErrorCode::kServer;
  }
}

// Keeps error messages on one line: runs of whitespace (HTML bodies) become one space.
std::string OneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// kubectl's wording lives in one place: k8s::KubectlErrorText.
std::string KubectlLine(const std::string& reason, const std::string& message) {
  ApiStatus status;
  status.reason = reason;
  status.message = message;
  return k8s::KubectlErrorText(status);
}

// client-go's isTextResponse: no Content-Type counts as text.
bool IsText(std::string_view content_type) {
  if (content_type.empty()) return true;
  return content_type.size() >= 5 &&
         std::equal(content_type.begin(), content_type.begin() + 5, "text/", [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

// apimachinery errors.NewGenericServerResponse: the reason and message client-go invents for a
// body that is not a Status.
std::pair<std::string, std::string> GenericResponse(int code, const std::string& server_message) {
  switch (code) {
    case 400:
      return {"BadRequest", "the server rejected our request for an unknown reason"};
    case 401:
      return {"Unauthorized", "the server has asked for the client to provide credentials"};
    case 403:
      return {"Forbidden", server_message};  // keeps who-cannot-do-what
    case 404:
      return {"NotFound", "the server could not find the requested resource"};
    case 405:
      return {"MethodNotAllowed",
              "the server does not allow this method on the requested resource"};
    case 406:
    case 415:
      return {"NotAcceptable",
              "the server was unable to respond with a content type that the client supports"};
    case 409:
      return {"Conflict", "the server reported a conflict"};
    case 422:
      return {"Invalid", "the server rejected our request due to an error in our request"};
    case 429:
      return {"TooManyRequests",
              "the server has received too many requests and has asked us to try again later"};
    case 503:
      return {"ServiceUnavailable", "the server is currently unable to handle the request"};
    case 504:
      return {"Timeout",
              "the server was unable to return a response in the time allotted, but may still be "
              "processing the request"};
    default:
      break;
  }
  if (code >= 500) {
    nlohmann::json quoted = server_message;  // Go's %q, near enough: a JSON string
    return {"InternalError",
            "an error on the server (" +
                quoted.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                ") has prevented the request from succeeding"};
  }
  return {"", "the server responded with the status code " + std::to_string(code) +
                  " but did not return more information"};
}

}  // namespace

std::optional<ApiStatus> ParseApiStatus(std::string_view body) {
  auto decoded = k8s::DecodeStatus(body);
  if (!decoded.ok() || decoded->kind != "Status") return std::nullopt;
  return std::move(decoded).value();
}

Error ApiErrorFromResponse(int http_status, std::string_view content_type, std::string_view body,
                           const RequestContext& context) {
  if (auto status = ParseApiStatus(body)) {
    std::string message = status->message;
    if (message.empty()) message = GenericResponse(http_status, "").second;
    return MakeError(CodeFor(http_status), KubectlLine(status->reason, OneLine(message)));
  }
  std::string server_message = "unknown";
  if (IsText(content_type)) {
    server_message = OneLine(body.substr(0, kMaxQuotedBody));
  }
  auto [reason, message] = GenericResponse(http_status, server_message);
  if (!context.resource.empty() && !context.name.empty()) {
    message += " (" + context.verb + " " + context.resource + " " + context.name + ")";
  } else if (!context.resource.empty()) {
    message += " (" + context.verb + " " + context.resource + ")";
  }
  return MakeError(CodeFor(http_status), KubectlLine(reason, message));
}

}  // namespace kproxy

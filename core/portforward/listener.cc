#include "core/portforward/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <sstream>

namespace kproxy::portforward {
namespace {

// strconv.ParseUint(s, 10, 16) as kubectl reports it.
Result<uint16_t> ParsePort16(const std::string& s, const char* which) {
  auto fail = [&](const char* why) -> Error {
    return MakeError(ErrorCode::kUsage, std::string("error parsing ") + which + " port '" + s +
                                            "': strconv.ParseUint: parsing \"" + s + "\": " + why);
  };
  if (s.empty()) return fail("invalid syntax");
  unsigned long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return fail("invalid syntax");
    v = v * 10 + static_cast<unsigned long>(c - '0');
    if (v > 65535) return fail("value out of range");
  }
  return static_cast<uint16_t>(v);
}

bool IsNumber(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Result<PortSpec> ParsePortSpec(const std::string& arg) {
  PortSpec spec;
  auto colon = arg.find(':');
  std::string local, remote;
  if (colon == std::string::npos) {
    remote = arg;
    spec.local_from_remote = true;
  } else {
    if (arg.find(':', colon + 1) != std::string::npos)
      return MakeError(ErrorCode::kUsage, "invalid port format '" + arg + "'");
    local = arg.substr(0, colon);
    remote = arg.substr(colon + 1);
    if (local.empty()) local = "0";
  }
  if (remote.empty())
    return MakeError(ErrorCode::kUsage,
                     "error parsing remote port '': strconv.ParseUint: "
                     "parsing \"\": invalid syntax");
  if (IsNumber(remote)) {
    auto r = ParsePort16(remote, "remote");
    if (!r.ok()) return r.error();
    if (*r == 0) return MakeError(ErrorCode::kUsage, "remote port must be > 0");
    spec.remote = std::to_string(*r);
  } else {
    // A port name (resolved against the pod or service later); kubectl's IANA_SVC_NAME shape.
    if (remote.size() > 15)
      return MakeError(ErrorCode::kUsage, "error parsing remote port '" + remote + "'");
    spec.remote = remote;
  }
  if (spec.local_from_remote) {
    if (IsNumber(remote)) spec.local = static_cast<uint16_t>(std::stoul(spec.remote));
  } else {
    auto l = ParsePort16(local, "local");
    if (!l.ok()) return l.error();
    spec.local = *l;
  }
  return spec;
}

Result<std::vector<ListenAddress>> ParseAddresses(const std::vector<std::string>& values) {
  std::vector<ListenAddress> out;
  for (const auto& value : values) {
    std::stringstream ss(value);
    std::string a;
    while (std::getline(ss, a, ',')) {
      if (a == "localhost") {
        out.push_back({"127.0.0.1", false, true});
        out.push_back({"::1", true, true});
        continue;
      }
      in_addr v4;
      in6_addr v6;
      if (inet_pton(AF_INET, a.c_str(), &v4) == 1) {
        out.push_back({a, false, false});
      } else if (inet_pton(AF_INET6, a.c_str(), &v6) == 1) {
        out.push_back({a, true, false});
      } else {
        return MakeError(ErrorCode::kUsage, a + " is not a valid IP");
      }
    }
  }
  if (out.empty()) return MakeError(ErrorCode::kUsage, "no address to listen on");
  return out;
}

std::string JoinHostPort(const std::string& ip, uint16_t port) {
  if (ip.find(':') != std::string::npos) return "[" + ip + "]:" + std::to_string(port);
  return ip + ":" + std::to_string(port);
}

Result<std::unique_ptr<Listener>> Listener::Open(EventLoop& loop, const ListenAddress& address,
                                                 uint16_t port, AcceptFn on_accept) {
  int family = address.v6 ? AF_INET6 : AF_INET;
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  auto os_error = [&](const char* op) {
    // Go's wording: "bind: address already in use" (lower-case, no errno name).
    std::string reason = std::strerror(errno);
    if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
    std::string msg = std::string("listen tcp") + (address.v6 ? "6 " : "4 ") +
                      JoinHostPort(address.ip, port) + ": " + op + ": " + reason;
    if (fd >= 0) ::close(fd);
    return MakeError(ErrorCode::kUnavailable, msg);
  };
  if (fd < 0) return os_error("socket");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (address.v6) {
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    auto* sa = reinterpret_cast<sockaddr_in6*>(&ss);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    inet_pton(AF_INET6, address.ip.c_str(), &sa->sin6_addr);
    len = sizeof(sockaddr_in6);
  } else {
    auto* sa = reinterpret_cast<sockaddr_in*>(&ss);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    inet_pton(AF_INET, address.ip.c_str(), &sa->sin_addr);
    len = sizeof(sockaddr_in);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) return os_error("bind");
  if (::listen(fd, 512) != 0) return os_error("listen");
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return os_error("getsockname");
  uint16_t bound = address.v6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                              : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  auto l = std::unique_ptr<Listener>(new Listener(loop, fd, address, bound, std::move(on_accept)));
  l->watch_ = loop.Watch(fd, true, false, [raw = l.get()](IoEvents) { raw->OnReadable(); });
  if (!l->watch_) return MakeError(ErrorCode::kInternal, "cannot watch the listening socket");
  return l;
}

Listener::Listener(EventLoop& loop, int fd, ListenAddress address, uint16_t port,
                   AcceptFn on_accept)
    : loop_(loop),
      fd_(fd),
      address_(std::move(address)),
      port_(port),
      on_accept_(std::move(on_accept)) {}

Listener::~Listener() {
  if (watch_) loop_.Unwatch(watch_);
  if (fd_ >= 0) ::close(fd_);
}

void Listener::OnReadable() {
  // Accept a bounded batch per wake-up so one busy listener cannot starve the loop.
  for (int i = 0; i < 64; ++i) {
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return;  // EAGAIN, or a transient error (EMFILE...): the loop retries
    on_accept_(c);
  }
}

Result<std::vector<std::unique_ptr<Listener>>> ListenOnPort(
    EventLoop& loop, const std::vector<ListenAddress>& addresses, uint16_t port,
    const Listener::AcceptFn& on_accept) {
  std::vector<std::unique_ptr<Listener>> out;
  std::vector<std::string> errors;
  uint16_t chosen = port;
  auto fail = [&] {
    std::string msg = "unable to listen on port " + std::to_string(port) + ": [";
    for (size_t i = 0; i < errors.size(); ++i) msg += (i ? " " : "") + errors[i];
    return MakeError(ErrorCode::kUnavailable, msg + "]");
  };
  for (const auto& a : addresses) {
    auto l = Listener::Open(loop, a, chosen, on_accept);
    if (!l.ok()) {
      errors.push_back(l.error().message);
      if (!a.all_must_fail) return fail();
      continue;
    }
    chosen = (*l)->port();
    out.push_back(std::move(*l));
  }
  if (out.empty()) return fail();
  return out;
}

}  // namespace kproxy::portforward

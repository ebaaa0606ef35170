#include "core/terminal/tty.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace kproxy {

bool IsTerminal(int fd) { return isatty(fd) == 1; }

std::optional<WindowSize> GetWindowSize(int fd) {
  struct winsize ws {};
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0) return std::nullopt;
  if (ws.ws_col == 0 && ws.ws_row == 0) return std::nullopt;
  return WindowSize{ws.ws_col, ws.ws_row};
}

Status WriteFull(int fd, std::string_view bytes, int timeout_ms) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // stdout may be a non-blocking pipe shared with a slow reader: wait, don't spin.
      struct pollfd p {
        fd, POLLOUT, 0
      };
      int r = poll(&p, 1, timeout_ms);
      if (r == 0) return MakeError(ErrorCode::kTimeout, "output blocked: write timed out");
      if (r < 0 && errno != EINTR) return MakeError(ErrorCode::kInternal, "poll failed on output");
      continue;
    }
    return MakeError(
        ErrorCode::kUnavailable,
        std::string("write failed: ") + (n == 0 ? "wrote nothing" : std::strerror(errno)));
  }
  return Status::Ok();
}

int SetNonBlocking(int fd, bool on) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -1;
  int want = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (want != flags && fcntl(fd, F_SETFL, want) != 0) return -1;
  return flags;
}

}  // namespace kproxy

#include "core/terminal/raw_mode.h"

#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace kproxy {
namespace {

// The last-resort registry: a fixed array, so the atexit hook needs no allocation.
constexpr int kMaxGuards = 4;
struct Saved {
  int fd = -1;
  struct termios modes {};
};
Saved g_saved[kMaxGuards];
bool g_atexit_installed = false;

void RegisterSaved(int fd, const struct termios& modes) {
  if (!g_atexit_installed) {
    std::atexit(RestoreAllTerminals);
    g_atexit_installed = true;
  }
  for (auto& s : g_saved)
    if (s.fd < 0) {
      s.modes = modes;
      s.fd = fd;
      return;
    }
}

void UnregisterSaved(int fd) {
  for (auto& s : g_saved)
    if (s.fd == fd) {
      s.fd = -1;
      return;
    }
}

void MakeRaw(struct termios* t) {
  cfmakeraw(t);
  t->c_cc[VMIN] = 1;
  t->c_cc[VTIME] = 0;
}

}  // namespace

void RestoreAllTerminals() {
  for (auto& s : g_saved)
    if (s.fd >= 0) tcsetattr(s.fd, TCSAFLUSH, &s.modes);
}

Result<RawModeGuard> RawModeGuard::Enter(int fd) {
  RawModeGuard g;
  if (tcgetattr(fd, &g.saved_) != 0)
    return MakeError(ErrorCode::kUsage,
                     std::string("cannot read terminal modes: ") + std::strerror(errno));
  struct termios raw = g.saved_;
  MakeRaw(&raw);
  // Register before changing anything, so an exit between the two still restores.
  RegisterSaved(fd, g.saved_);
  if (tcsetattr(fd, TCSAFLUSH, &raw) != 0) {
    UnregisterSaved(fd);
    return MakeError(ErrorCode::kUsage,
                     std::string("cannot set raw terminal mode: ") + std::strerror(errno));
  }
  g.fd_ = fd;
  g.active_ = true;
  return g;
}

RawModeGuard::RawModeGuard(RawModeGuard&& other) noexcept
    : fd_(other.fd_), active_(other.active_), saved_(other.saved_) {
  other.active_ = false;
  other.fd_ = -1;
}

RawModeGuard::~RawModeGuard() { Restore(); }

void RawModeGuard::Restore() {
  if (!active_) return;
  tcsetattr(fd_, TCSAFLUSH, &saved_);
  UnregisterSaved(fd_);
  active_ = false;
}

void RawModeGuard::Reapply() {
  if (!active_) return;
  struct termios raw = saved_;
  MakeRaw(&raw);
  tcsetattr(fd_, TCSAFLUSH, &raw);
}

}  // namespace kproxy

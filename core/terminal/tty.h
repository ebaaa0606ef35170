// Small terminal facts and full writes: is an fd a terminal, its window size, and writes that
// finish even on non-blocking or slow descriptors.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/base/result.h"

namespace kproxy {

struct WindowSize {
  uint16_t width = 0;   // columns
  uint16_t height = 0;  // rows
  bool operator==(const WindowSize&) const = default;
};

// True when `fd` is a terminal (kubectl's -t rule: "Unable to use a TTY - input is not a
// terminal or the right kind of file" when stdin is not).
bool IsTerminal(int fd);

// The kubectl warning printed when -t was asked for but stdin is not a terminal.
inline constexpr const char* kNotATerminalWarning =
    "Unable to use a TTY - input is not a terminal or the right kind of file";

// Reads the window size of the terminal `fd` (TIOCGWINSZ); nullopt when not a terminal or
// the size is unknown (0x0).
std::optional<WindowSize> GetWindowSize(int fd);

// Writes all of `bytes` to `fd`, retrying partial writes and waiting (poll) on EAGAIN for at
// most `timeout_ms` per stall. Consumes the bytes; returns an error on EPIPE/EIO/timeout.
Status WriteFull(int fd, std::string_view bytes, int timeout_ms = 30000);

// Sets or clears O_NONBLOCK on `fd`; returns the previous flags or -1.
int SetNonBlocking(int fd, bool on);

}  // namespace kproxy

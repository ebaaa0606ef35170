#include "auth/process_auth.h"

#include <csignal>
#include <cstdlib>

namespace kproxy::auth {
namespace {

std::atomic<bool> g_cancelled{false};
struct sigaction g_previous {};

void OnSigint(int) { g_cancelled.store(true); }  // only record it: the loop acts

}  // namespace

SigintCancel::SigintCancel() {
  g_cancelled.store(false);
  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_previous);
}

SigintCancel::~SigintCancel() { sigaction(SIGINT, &g_previous, nullptr); }

const std::atomic<bool>* SigintCancel::flag() const { return &g_cancelled; }

Result<TokenCache> ProcessTokenCache(AuthEnvironment& env) {
  auto dir = TokenCache::DefaultDir(env.getenv);
  if (!dir) return dir.error();
  return TokenCache(*dir);
}

std::string RelativeTime(int64_t then, int64_t now) {
  int64_t d = then - now;
  bool future = d > 0;
  int64_t a = future ? d : -d;
  std::string amount;
  if (a < 120) {
    amount = std::to_string(a) + "s";
  } else if (a < 7200) {
    amount = std::to_string(a / 60) + "m";
  } else if (a < 172800) {
    amount = std::to_string(a / 3600) + "h";
  } else {
    amount = std::to_string(a / 86400) + "d";
  }
  return future ? "in " + amount : amount + " ago";
}

}  // namespace kproxy::auth

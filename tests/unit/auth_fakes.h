// Shared fakes for the auth unit tests: a controllable AuthEnvironment and browser openers
// that drive the real loopback callback the way a browser would.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/auth_env.h"
#include "auth/browser_opener.h"
#include "tests/support/fake_browser.h"

namespace kproxy::auth::testing {

struct FakeEnv {
  std::atomic<long long> now_seconds{1800000000};
  std::map<std::string, std::string> vars;
  bool tty = true;
  std::mutex mu;
  std::vector<std::string> told;  // what the user was told (stderr)

  AuthEnvironment Make() {
    AuthEnvironment env;
    env.now = [this] {
      return std::chrono::system_clock::time_point(std::chrono::seconds(now_seconds.load()));
    };
    env.random_hex = CryptoRandomHex;
    env.getenv = [this](const std::string& k) -> std::optional<std::string> {
      auto it = vars.find(k);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    env.stdin_is_terminal = [this] { return tty; };
    env.tell_user = [this](std::string_view line) {
      std::lock_guard<std::mutex> lock(mu);
      told.emplace_back(line);
    };
    return env;
  }
  std::vector<std::string> Told() {
    std::lock_guard<std::mutex> lock(mu);
    return told;
  }
  size_t ToldCount() {
    std::lock_guard<std::mutex> lock(mu);
    return told.size();
  }
};

// A browser that follows the sign-in URL (proxy sign-in page → 302 → our callback), in a
// thread like a real browser process. `before_callback` may send forged requests first.
class FollowingBrowser {
 public:
  using Hook = std::function<void(const std::string& callback_url)>;
  explicit FollowingBrowser(FakeEnv* env = nullptr, Hook before_callback = {})
      : env_(env), hook_(std::move(before_callback)) {}
  ~FollowingBrowser() {
    for (auto& t : threads_) t.join();
  }

  BrowserOpener Opener() {
    return [this](const std::string& url) -> Status {
      std::lock_guard<std::mutex> lock(mu_);
      opened_.push_back(url);
      told_before_open_.push_back(env_ ? env_->ToldCount() : 0);
      threads_.emplace_back([this, url] {
        auto page = test::RawHttp("GET", url);
        if (page.status != 302) return;
        std::string callback = page.headers["location"];
        if (hook_) hook_(callback);
        auto done = test::RawHttp("GET", callback);
        std::lock_guard<std::mutex> lock(mu_);
        callback_statuses_.push_back(done.status);
        callback_bodies_.push_back(done.body);
      });
      return Status::Ok();
    };
  }
  std::vector<std::string> opened() {
    std::lock_guard<std::mutex> lock(mu_);
    return opened_;
  }
  std::vector<size_t> told_before_open() {
    std::lock_guard<std::mutex> lock(mu_);
    return told_before_open_;
  }
  void Join() {
    std::vector<std::thread> ts;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ts.swap(threads_);
    }
    for (auto& t : ts) t.join();
  }
  std::vector<int> callback_statuses() {
    std::lock_guard<std::mutex> lock(mu_);
    return callback_statuses_;
  }
  std::vector<std::string> callback_bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return callback_bodies_;
  }

 private:
  FakeEnv* env_;
  Hook hook_;
  std::mutex mu_;
  std::vector<std::string> opened_;
  std::vector<size_t> told_before_open_;
  std::vector<std::thread> threads_;
  std::vector<int> callback_statuses_;
  std::vector<std::string> callback_bodies_;
};

}  // namespace kproxy::auth::testing

#include "core/rest/curl_library.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace kproxy {
namespace {

template <typename Fn>
bool Bind(void* handle, const char* name, Fn* out, std::string* missing) {
  void* sym = dlsym(handle, name);
  if (!sym) {
    if (missing->empty()) *missing = name;
    return false;
  }
  *out = reinterpret_cast<Fn>(sym);
  return true;
}

}  // namespace

Result<CurlApi> LoadCurlLibrary(const char* soname) {
  // RTLD_LOCAL: curl's dependencies (its own OpenSSL build flags, gnutls…) must not interpose
  // symbols of the already loaded libraries.
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return MakeError(ErrorCode::kConfig, std::string(soname) + " cannot be loaded (" +
                                             (why ? why : "unknown error") +
                                             "); kproxy needs libcurl for API requests: install "
                                             "the libcurl4 package");
  }
  CurlApi api{};
  std::string missing;
  bool ok = true;
  ok &= Bind(handle, "curl_global_init", &api.global_init, &missing);
  ok &= Bind(handle, "curl_easy_init", &api.easy_init, &missing);
  ok &= Bind(handle, "curl_easy_cleanup", &api.easy_cleanup, &missing);
  ok &= Bind(handle, "curl_easy_reset", &api.easy_reset, &missing);
  ok &= Bind(handle, "curl_easy_setopt", &api.easy_setopt, &missing);
  ok &= Bind(handle, "curl_easy_perform", &api.easy_perform, &missing);
  ok &= Bind(handle, "curl_easy_getinfo", &api.easy_getinfo, &missing);
  ok &= Bind(handle, "curl_easy_strerror", &api.easy_strerror, &missing);
  ok &= Bind(handle, "curl_slist_append", &api.slist_append, &missing);
  ok &= Bind(handle, "curl_slist_free_all", &api.slist_free_all, &missing);
  ok &= Bind(handle, "curl_url", &api.url, &missing);
  ok &= Bind(handle, "curl_url_cleanup", &api.url_cleanup, &missing);
  ok &= Bind(handle, "curl_url_set", &api.url_set, &missing);
  ok &= Bind(handle, "curl_url_get", &api.url_get, &missing);
  ok &= Bind(handle, "curl_free", &api.free, &missing);
  if (!ok) {
    dlclose(handle);
    return MakeError(ErrorCode::kConfig, std::string(soname) + " lacks " + missing +
                                             " (libcurl 7.80 or newer is needed)");
  }
  return api;
}

Result<const CurlApi*> Curl() {
  static std::once_flag once;
  static Result<CurlApi>* loaded = nullptr;
  std::call_once(once, [] {
    // Never freed: the process may still call curl from static destructors' paths.
    loaded = new Result<CurlApi>(LoadCurlLibrary("libcurl.so.4"));
    if (loaded->ok()) (*loaded)->global_init(CURL_GLOBAL_DEFAULT);
  });
  if (!loaded->ok()) return loaded->error();
  return &loaded->value();
}

}  // namespace kproxy

// libcurl, loaded with dlopen on first use instead of linked: the streaming commands (exec,
// attach, port-forward) never touch it, and linking it maps ~28 shared libraries (gnutls,
// krb5, ldap, ssh2, nghttp2, …) into every start — about 3 ms and 4 MiB of kproxy's 5.9 ms /
// 11 MiB `version` (core/transport/ARCHITECTURE.md, "Why two HTTP clients").
#pragma once

// The table's member names differ from curl's own, so curl's type-checking macros (which are
// named like the functions) cannot capture them; headers only, no link dependency.
#include <curl/curl.h>

#include "core/base/result.h"

namespace kproxy {

// The libcurl functions kproxy calls, resolved from one loaded libcurl.
struct CurlApi {
  CURLcode (*global_init)(long flags);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  void (*easy_reset)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
  CURLU* (*url)();
  void (*url_cleanup)(CURLU*);
  CURLUcode (*url_set)(CURLU*, CURLUPart, const char*, unsigned int);
  CURLUcode (*url_get)(const CURLU*, CURLUPart, char**, unsigned int);
  void (*free)(void*);
};

// The process-wide libcurl (libcurl.so.4), loaded and curl_global_init'ed on the first call;
// thread-safe; later calls return the same table (or the same error). Consumes nothing;
// returns kConfig with one line ("libcurl.so.4 cannot be loaded: …; install libcurl4") when the
// library or one of its functions is missing.
Result<const CurlApi*> Curl();

// Loads `soname` into a fresh table without caching or global init (tests: a missing library
// must give a clear error). The handle stays open for the life of the process on success.
Result<CurlApi> LoadCurlLibrary(const char* soname);

}  // namespace kproxy

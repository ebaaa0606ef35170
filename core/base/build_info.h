// What this build is: version, "<os>/<arch>", and the User-Agent every request carries.
#pragma once

#include <string>

namespace kproxy {

// "linux/amd64", "linux/arm64", ... (Go's GOOS/GOARCH spelling, as kubectl prints it).
const char* Platform();

// "kproxy/v<version> (<os>/<arch>) kubernetes/kproxy": contains "kubernetes/" so access
// proxies (Pomerium) answer errors as Status JSON rather than HTML sign-in pages.
std::string KproxyUserAgent();

}  // namespace kproxy

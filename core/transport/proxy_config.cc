#include "core/transport/proxy_config.h"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace kproxy {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

bool ParsePort(const std::string& s, uint16_t* port) {
  if (s.empty() || s.size() > 5) return false;
  unsigned v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

// Splits "host[:port]" / "[v6][:port]"; returns false on junk.
bool SplitHostPort(const std::string& hp, std::string* host, std::string* port) {
  if (!hp.empty() && hp[0] == '[') {
    size_t close = hp.find(']');
    if (close == std::string::npos) return false;
    *host = hp.substr(1, close - 1);
    if (close + 1 == hp.size()) return true;
    if (hp[close + 1] != ':') return false;
    *port = hp.substr(close + 2);
    return true;
  }
  size_t colon = hp.rfind(':');
  if (colon != std::string::npos && hp.find(':') == colon) {
    *host = hp.substr(0, colon);
    *port = hp.substr(colon + 1);
  } else {
    *host = hp;  // no port, or a bare IPv6 literal
  }
  return true;
}

struct Ip {
  int family = 0;
  unsigned char bytes[16] = {};
  int bits() const { return family == AF_INET ? 32 : 128; }
};

bool ParseIp(const std::string& s, Ip* ip) {
  if (inet_pton(AF_INET, s.c_str(), ip->bytes) == 1) {
    ip->family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip->bytes) == 1) {
    ip->family = AF_INET6;
    return true;
  }
  return false;
}

bool PrefixEqual(const Ip& a, const Ip& b, int bits) {
  for (int i = 0; i < bits; ++i) {
    int byte = i / 8, bit = 7 - i % 8;
    if (((a.bytes[byte] >> bit) & 1) != ((b.bytes[byte] >> bit) & 1)) return false;
  }
  return true;
}

bool IsLoopback(const std::string& host) {
  if (Lower(host) == "localhost") return true;
  Ip ip;
  if (!ParseIp(host, &ip)) return false;
  if (ip.family == AF_INET) return ip.bytes[0] == 127;
  static const unsigned char v6loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(ip.bytes, v6loop, 16) == 0;
}

std::string Base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Percent-decoding for user:password in a proxy URL.
std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Result<ProxyChoice> ParseProxyUrl(std::string url) {
  url = Trim(url);
  // Go: a value without a scheme means http:// (HTTPS_PROXY=proxy:3128 is common).
  if (url.find("://") == std::string::npos) url = "http://" + url;
  std::string scheme = Lower(url.substr(0, url.find("://")));
  if (scheme != "http")
    return MakeError(ErrorCode::kConfig, "proxy " + url + ": only http:// proxies are supported (" +
                                             scheme + " proxies are not)");
  std::string rest = url.substr(url.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  ProxyChoice choice;
  size_t at = rest.rfind('@');
  if (at != std::string::npos) {
    choice.userinfo = PercentDecode(rest.substr(0, at));
    choice.authorization = "Basic " + Base64(choice.userinfo);
    rest = rest.substr(at + 1);
  }
  std::string host, port;
  if (!SplitHostPort(rest, &host, &port) || host.empty())
    return MakeError(ErrorCode::kConfig, "proxy URL has no host: " + url);
  choice.host = host;
  choice.port = 80;
  if (!port.empty() && !ParsePort(port, &choice.port))
    return MakeError(ErrorCode::kConfig, "proxy URL has a bad port: " + url);
  return choice;
}

}  // namespace

std::string Endpoint::Authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

Result<Endpoint> ParseServerUrl(const std::string& url) {
  size_t sep = url.find("://");
  if (sep == std::string::npos)
    return MakeError(ErrorCode::kConfig, "server URL has no scheme: " + url);
  Endpoint ep;
  ep.scheme = Lower(url.substr(0, sep));
  if (ep.scheme != "https" && ep.scheme != "http")
    return MakeError(ErrorCode::kConfig, "server URL scheme must be https or http: " + url);
  std::string rest = url.substr(sep + 3);
  size_t slash = rest.find_first_of("/?");
  if (slash != std::string::npos) {
    ep.path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  if (rest.find('@') != std::string::npos)
    return MakeError(ErrorCode::kConfig, "server URL must not carry credentials");
  std::string port;
  if (!SplitHostPort(rest, &ep.host, &port) || ep.host.empty())
    return MakeError(ErrorCode::kConfig, "server URL has no host: " + url);
  ep.port = ep.scheme == "https" ? 443 : 80;
  if (!port.empty() && !ParsePort(port, &ep.port))
    return MakeError(ErrorCode::kConfig, "server URL has a bad port: " + url);
  return ep;
}

bool NoProxyMatches(const std::string& no_proxy, const std::string& host_in, uint16_t port) {
  std::string host = Lower(host_in);
  Ip host_ip;
  bool host_is_ip = ParseIp(host, &host_ip);
  size_t start = 0;
  while (start <= no_proxy.size()) {
    size_t comma = no_proxy.find(',', start);
    std::string entry = Lower(Trim(
        no_proxy.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    start = comma == std::string::npos ? no_proxy.size() + 1 : comma + 1;
    if (entry.empty()) continue;
    if (entry == "*") return true;
    // CIDR
    size_t slash = entry.find('/');
    if (slash != std::string::npos) {
      Ip net;
      int bits = 0;
      std::string digits = entry.substr(slash + 1);
      if (digits.empty() || digits.size() > 3) continue;
      for (char c : digits)
        bits = std::isdigit(static_cast<unsigned char>(c)) ? bits * 10 + (c - '0') : -1000;
      if (host_is_ip && ParseIp(entry.substr(0, slash), &net) && net.family == host_ip.family &&
          bits >= 0 && bits <= net.bits() && PrefixEqual(net, host_ip, bits))
        return true;
      continue;
    }
    std::string ehost, eport;
    Ip eip;
    if (ParseIp(entry, &eip)) {
      ehost = entry;
    } else if (!SplitHostPort(entry, &ehost, &eport)) {
      continue;
    }
    uint16_t want_port = 0;
    if (!eport.empty() && !ParsePort(eport, &want_port)) continue;
    if (want_port && want_port != port) continue;
    if (ParseIp(ehost, &eip)) {
      if (host_is_ip && eip.family == host_ip.family &&
          std::memcmp(eip.bytes, host_ip.bytes, 16) == 0)
        return true;
      continue;
    }
    // Domain: "foo.com" matches foo.com and its subdomains; ".foo.com"/"*.foo.com" only
    // subdomains (Go httpproxy domainMatch).
    if (ehost.rfind("*.", 0) == 0) ehost = ehost.substr(1);
    bool match_host = ehost[0] != '.';
    std::string suffix = match_host ? "." + ehost : ehost;
    if (host.size() > suffix.size() &&
        host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
    if (match_host && host == ehost) return true;
  }
  return false;
}

Result<std::optional<ProxyChoice>> ChooseProxy(const std::string& proxy_url, const Endpoint& target,
                                               const GetEnvFn& getenv) {
  if (!proxy_url.empty()) {
    auto p = ParseProxyUrl(proxy_url);
    if (!p.ok()) return p.error();
    return std::optional<ProxyChoice>(*p);
  }
  auto env = [&](const char* upper, const char* lower) -> std::string {
    const char* v = getenv(upper);
    if (!v || !*v) v = getenv(lower);
    return v ? v : "";
  };
  std::string value = target.scheme == "https" ? env("HTTPS_PROXY", "https_proxy")
                                               : env("HTTP_PROXY", "http_proxy");
  if (value.empty()) return std::optional<ProxyChoice>();
  if (IsLoopback(target.host)) return std::optional<ProxyChoice>();
  if (NoProxyMatches(env("NO_PROXY", "no_proxy"), target.host, target.port))
    return std::optional<ProxyChoice>();
  auto p = ParseProxyUrl(value);
  if (!p.ok()) return p.error();
  return std::optional<ProxyChoice>(*p);
}

}  // namespace kproxy

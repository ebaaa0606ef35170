#include "tests/support/spdy_builder.h"

#include <zlib.h>

namespace kproxy::test::spdyb {

const std::string& Dictionary() {
  static const std::string dict = [] {
    // §2.6.10.1: length-prefixed header names and values, then a raw tail of common text.
    const char* words[] = {"options",
                           "head",
                           "post",
                           "put",
                           "delete",
                           "trace",
                           "accept",
                           "accept-charset",
                           "accept-encoding",
                           "accept-language",
                           "accept-ranges",
                           "age",
                           "allow",
                           "authorization",
                           "cache-control",
                           "connection",
                           "content-base",
                           "content-encoding",
                           "content-language",
                           "content-length",
                           "content-location",
                           "content-md5",
                           "content-range",
                           "content-type",
                           "date",
                           "etag",
                           "expect",
                           "expires",
                           "from",
                           "host",
                           "if-match",
                           "if-modified-since",
                           "if-none-match",
                           "if-range",
                           "if-unmodified-since",
                           "last-modified",
                           "location",
                           "max-forwards",
                           "pragma",
                           "proxy-authenticate",
                           "proxy-authorization",
                           "range",
                           "referer",
                           "retry-after",
                           "server",
                           "te",
                           "trailer",
                           "transfer-encoding",
                           "upgrade",
                           "user-agent",
                           "vary",
                           "via",
                           "warning",
                           "www-authenticate",
                           "method",
                           "get",
                           "status",
                           "200 OK",
                           "version",
                           "HTTP/1.1",
                           "url",
                           "public",
                           "set-cookie",
                           "keep-alive",
                           "origin"};
    std::string d;
    for (const char* w : words) {
      d += U32(static_cast<uint32_t>(std::string_view(w).size()));
      d += w;
    }
    d += "100101201202205206300302303304305306307402405406407408409410411412413414415416417502"
         "504505203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad "
         "Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not "
         "Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec "
         "00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,"
         "image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,"
         "publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
    return d;
  }();
  return dict;
}

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
  return s;
}

std::string NvBlock(const Pairs& pairs) {
  std::string s = U32(static_cast<uint32_t>(pairs.size()));
  for (const auto& [n, v] : pairs)
    s += U32(static_cast<uint32_t>(n.size())) + n + U32(static_cast<uint32_t>(v.size())) + v;
  return s;
}

struct Deflater::Impl {
  z_stream z{};
};

Deflater::Deflater() : impl_(std::make_unique<Impl>()) {
  deflateInit2(&impl_->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY);
  const std::string& d = Dictionary();
  deflateSetDictionary(&impl_->z, reinterpret_cast<const Bytef*>(d.data()),
                       static_cast<uInt>(d.size()));
}
Deflater::~Deflater() { deflateEnd(&impl_->z); }

std::string Deflater::Compress(std::string_view block) {
  std::string out(block.size() + 1024, '\0');
  z_stream& z = impl_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(block.data()));
  z.avail_in = static_cast<uInt>(block.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  return out;
}

struct Inflater::Impl {
  z_stream z{};
};

Inflater::Inflater() : impl_(std::make_unique<Impl>()) { inflateInit(&impl_->z); }
Inflater::~Inflater() { inflateEnd(&impl_->z); }

std::string Inflater::Inflate(std::string_view compressed, bool* ok) {
  z_stream& z = impl_->z;
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&z, Z_SYNC_FLUSH);
  if (rc == Z_NEED_DICT) {
    const std::string& d = Dictionary();
    inflateSetDictionary(&z, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size()));
    rc = inflate(&z, Z_SYNC_FLUSH);
  }
  *ok = (rc == Z_OK || rc == Z_BUF_ERROR) && z.avail_in == 0;
  out.resize(out.size() - z.avail_out);
  return out;
}

std::string Control(uint16_t type, uint8_t flags, std::string_view payload, uint16_t version) {
  std::string s;
  s.push_back(static_cast<char>(0x80 | (version >> 8)));
  s.push_back(static_cast<char>(version & 0xFF));
  s.push_back(static_cast<char>(type >> 8));
  s.push_back(static_cast<char>(type & 0xFF));
  s.push_back(static_cast<char>(flags));
  uint32_t n = static_cast<uint32_t>(payload.size());
  s.push_back(static_cast<char>((n >> 16) & 0xFF));
  s.push_back(static_cast<char>((n >> 8) & 0xFF));
  s.push_back(static_cast<char>(n & 0xFF));
  s += payload;
  return s;
}

std::string Data(uint32_t stream_id, uint8_t flags, std::string_view payload) {
  std::string s = U32(stream_id & 0x7FFFFFFF);
  uint32_t n = static_cast<uint32_t>(payload.size());
  s += U32((static_cast<uint32_t>(flags) << 24) | n);
  s += payload;
  return s;
}

std::string SynStream(Deflater& z, uint32_t stream_id, uint8_t flags, const Pairs& pairs,
                      uint32_t assoc_id, uint8_t priority) {
  std::string p = U32(stream_id) + U32(assoc_id);
  p.push_back(static_cast<char>(priority << 5));
  p.push_back('\0');
  p += z.Compress(NvBlock(pairs));
  return Control(1, flags, p);
}

std::string SynReply(Deflater& z, uint32_t stream_id, uint8_t flags, const Pairs& pairs) {
  return Control(2, flags, U32(stream_id) + z.Compress(NvBlock(pairs)));
}

std::string Headers(Deflater& z, uint32_t stream_id, uint8_t flags, const Pairs& pairs) {
  return Control(8, flags, U32(stream_id) + z.Compress(NvBlock(pairs)));
}

std::string RstStream(uint32_t stream_id, uint32_t status) {
  return Control(3, 0, U32(stream_id) + U32(status));
}
std::string Ping(uint32_t id) { return Control(6, 0, U32(id)); }
std::string GoAway(uint32_t last_good, uint32_t status) {
  return Control(7, 0, U32(last_good) + U32(status));
}
std::string WindowUpdate(uint32_t stream_id, uint32_t delta) {
  return Control(9, 0, U32(stream_id) + U32(delta));
}
std::string Settings(const std::vector<std::pair<uint32_t, uint32_t>>& id_values,
                     uint8_t entry_flags) {
  std::string p = U32(static_cast<uint32_t>(id_values.size()));
  for (const auto& [id, v] : id_values)
    p += U32((static_cast<uint32_t>(entry_flags) << 24) | id) + U32(v);
  return Control(4, 0, p);
}

}  // namespace kproxy::test::spdyb

#include "tests/support/sim_process.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace kproxy::test {

namespace {

size_t CollectBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t CollectHeader(char* data, size_t size, size_t n, void* user) {
  auto* reply = static_cast<HttpReply*>(user);
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (line.rfind("HTTP/", 0) == 0) {
    reply->headers.clear();
  } else if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    reply->headers.emplace_back(name, value);
  }
  return size * n;
}

}  // namespace

std::filesystem::path SimBinary() {
  if (const char* p = getenv("KPROXY_SIM_BIN")) return p;
  return BinaryDir() / "kproxy-sim";
}

std::unique_ptr<SimProcess> SimProcess::Start(const SimOptions& options, std::string* error) {
  std::unique_ptr<SimProcess> sim(new SimProcess());
  std::vector<std::string> args = {SimBinary().string(), "up", "--dir", sim->dir().string()};
  if (options.proxy) args.push_back("--proxy");
  std::string fixture = options.fixture;
  if (!options.fixture_edits.empty()) {
    std::string y = ReadFileOrEmpty(fixture.empty() ? SourceDir() / "tests/data/sim/default.yaml"
                                                    : std::filesystem::path(fixture));
    for (const auto& [from, to] : options.fixture_edits) {
      for (size_t at = 0; (at = y.find(from, at)) != std::string::npos; at += to.size())
        y.replace(at, from.size(), to);
    }
    fixture = (sim->dir() / "fixture-edited.yaml").string();
    std::ofstream(fixture) << y;
  }
  if (!fixture.empty()) {
    args.push_back("--fixture");
    args.push_back(fixture);
  }
  for (const std::string& f : options.faults) args.push_back("--fault=" + f);
  sim->child_ = ChildProcess::Start(args, {}, sim->dir() / "sim.log");
  if (!sim->child_) {
    *error = "fork failed";
    return nullptr;
  }
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.ready_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(sim->dir() / "ready")) {
      sim->info_ = nlohmann::json::parse(ReadFileOrEmpty(sim->dir() / "sim.json"), nullptr, false);
      if (sim->info_.is_object()) return sim;
    }
    if (!sim->Alive()) {
      *error = "kproxy-sim exited early: " + sim->log();
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  *error = "kproxy-sim not ready in time: " + sim->log();
  return nullptr;  // the destructor kills it
}

pid_t SimProcess::pid() const { return child_ ? child_->pid() : -1; }

bool SimProcess::Alive() const { return child_ && child_->Alive(); }

bool SimProcess::Stop() {
  if (!child_) return false;
  if (child_->Signal(SIGTERM, std::chrono::seconds(5)) < 0) child_->Kill();
  return child_->exit_code() == 0;
}

SimProcess::~SimProcess() { Stop(); }

std::string SimProcess::proxy_url(const std::string& route) const {
  if (!info_.contains("proxies")) return "";
  for (const auto& p : info_["proxies"])
    if (p.value("name", "") == route) return p.value("url", "");
  return "";
}

std::string SimProcess::ca_pem() const { return ReadFileOrEmpty(dir() / "ca.crt"); }
std::string SimProcess::log() const { return ReadFileOrEmpty(dir() / "sim.log"); }

std::string HttpReply::Header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return "";
}

HttpReply HttpsRequest(const std::string& ca_pem, const std::string& method, const std::string& url,
                       const std::vector<std::string>& headers, const std::string& body,
                       long timeout_ms) {
  HttpReply reply;
  CURL* curl = curl_easy_init();
  if (!curl) {
    reply.error = "curl_easy_init failed";
    return reply;
  }
  curl_blob ca{const_cast<char*>(ca_pem.data()), ca_pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &ca);
  curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  if (rc != CURLE_OK) reply.error = curl_easy_strerror(rc);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return reply;
}

RawReply RawTls(int port, const std::string& ca_pem, const std::string& alpn,
                const std::string& bytes, size_t chunk, int timeout_ms) {
  RawReply out;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (ca) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
    X509_free(ca);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (!alpn.empty()) {
    std::string wire;
    size_t start = 0;
    while (start <= alpn.size()) {
      size_t comma = alpn.find(',', start);
      std::string p =
          alpn.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    SSL_CTX_free(ctx);
    return out;
  }
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  if (SSL_connect(ssl) == 1) {
    out.handshake_ok = true;
    const unsigned char* sel = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &sel, &len);
    out.selected_alpn.assign(reinterpret_cast<const char*>(sel), len);
    size_t step = chunk == 0 ? bytes.size() : chunk;
    for (size_t i = 0; i < bytes.size(); i += step) {
      if (SSL_write(ssl, bytes.data() + i, static_cast<int>(std::min(step, bytes.size() - i))) <= 0)
        break;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    char buf[8192];
    while (std::chrono::steady_clock::now() < deadline) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      out.received.append(buf, n);
    }
  }
  ERR_clear_error();
  SSL_free(ssl);
  close(fd);
  SSL_CTX_free(ctx);
  return out;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         int timeout_ms) {
  CommandResult result;
  TempDir tmp;
  auto child = ChildProcess::Start(argv, env, tmp.path() / "out", tmp.path() / "err");
  if (!child) return result;
  if (child->Wait(std::chrono::milliseconds(timeout_ms)) >= 0 && !child->signaled())
    result.status = child->exit_code();
  child->Kill();
  result.out = child->out();
  result.err = child->err();
  return result;
}

}  // namespace kproxy::test

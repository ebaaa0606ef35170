// The simulated kube-apiserver's request handling: authentication, authorization, discovery,
// resource reads (JSON or Table), pods/log, access reviews, Status errors. The streaming
// subresources (exec, attach, portforward) pass authn/authz and the upgrade faults here and are
// then handed to the registered StreamingHandler, which takes the connection over.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "tests/sim/api/authz.h"
#include "tests/sim/faults.h"
#include "tests/sim/fixture.h"
#include "tests/sim/server/http_server.h"

namespace kproxy::sim {

// One authorized streaming request, ready for the streaming layer.
struct StreamingRequest {
  const HttpRequest* request;
  const Fixture* fixture;
  const Faults* faults;
  UserInfo user;
  const Pod* pod;
  std::string subresource;  // "exec", "attach", "portforward"
  bool websocket;           // GET + Upgrade: websocket; else SPDY POST
};
// Returns the response for the upgrade; normally one whose `takeover` writes the 101 and runs
// the session on the connection.
using StreamingHandler = std::function<HttpResponse(const StreamingRequest&)>;

class ApiServer {
 public:
  ApiServer(Fixture fixture, Faults faults);
  // The server's own address, for /api's serverAddressByClientCIDRs.
  void set_address(std::string address) { address_ = std::move(address); }
  void set_streaming_handler(StreamingHandler h) { streaming_ = std::move(h); }
  const Fixture& fixture() const { return fixture_; }
  const Faults& faults() const { return faults_; }

  HttpResponse Handle(const HttpRequest& req, const std::string& body, const RequestContext& ctx);

 private:
  HttpResponse HandleResource(const HttpRequest& req, const UserInfo& user,
                              const std::string& body);
  HttpResponse HandleLog(const HttpRequest& req, const Pod& pod);

  Fixture fixture_;
  Faults faults_;
  std::string address_ = "127.0.0.1:6443";
  StreamingHandler streaming_;
};

}  // namespace kproxy::sim

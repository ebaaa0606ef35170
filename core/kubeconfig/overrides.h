// kubectl's global connection flags, as given on the command line. Unset = not given.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kproxy {

struct ConfigOverrides {
  std::optional<std::string> kubeconfig;             // --kubeconfig
  std::optional<std::string> context;                // --context
  std::optional<std::string> cluster;                // --cluster
  std::optional<std::string> user;                   // --user
  std::optional<std::string> namespace_;             // -n/--namespace
  std::optional<std::string> server;                 // --server / -s
  std::optional<std::string> certificate_authority;  // --certificate-authority
  std::optional<bool> insecure_skip_tls_verify;      // --insecure-skip-tls-verify
  std::optional<std::string> tls_server_name;        // --tls-server-name
  std::optional<std::string> client_certificate;     // --client-certificate
  std::optional<std::string> client_key;             // --client-key
  std::optional<std::string> token;                  // --token
  std::optional<std::string> username;               // --username
  std::optional<std::string> password;               // --password
  std::optional<std::string> as;                     // --as
  std::vector<std::string> as_groups;                // --as-group (repeatable)
  std::optional<std::string> as_uid;                 // --as-uid
  std::optional<std::string> request_timeout;        // --request-timeout ("0", "5s", "1m")
};

}  // namespace kproxy

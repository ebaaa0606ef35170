// Parses one kubeconfig file's text (YAML or JSON) into the file model, with client-go's typing
// (strings must be strings, *-data fields are base64, names unique within a file).
#pragma once

#include <string>
#include <string_view>

#include "core/base/result.h"
#include "core/kubeconfig/kubeconfig_model.h"

namespace kproxy::kubeconfig {

// Consumes the file text, the name to show in messages and the absolute path recorded as each
// entry's origin. Returns the model, or one line (kConfig) naming the file and, where known, the
// line: `error loading config file "F": line 7: users[0].user.password: expected a string...`.
Result<Config> ParseKubeconfig(std::string_view text, const std::string& label,
                               const std::string& origin);

// Go's base64.StdEncoding as used for []byte JSON fields (CR/LF ignored, padding required).
// Returns the bytes, or "illegal base64 data at input byte N".
Result<std::string> DecodeBase64Field(std::string_view text);

}  // namespace kproxy::kubeconfig

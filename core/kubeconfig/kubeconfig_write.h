// Changing a kubeconfig file in place: `config use-context` edits only the top-level
// current-context entry and leaves every other byte of the file as it was.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/result.h"
#include "core/kubeconfig/kubeconfig_files.h"

namespace kproxy::kubeconfig {

// Consumes a file's text; returns it with current-context set to `name` (YAML: the one line is
// replaced or appended; JSON: the key is set). Errors if the text is not a kubeconfig.
Result<std::string> SetCurrentContextText(std::string_view text, const std::string& name);

// The file whose current-context counts (the first that sets one), else the first file.
// Errors: no files at all (kNotFound), or a file that fails to parse.
Result<Source> CurrentContextOwner(const std::vector<Source>& sources);

// Replaces `path`'s content atomically (temp file in the same directory, fsync, rename),
// keeping the file's permission bits; a symlink's target is replaced, not the link.
Status WriteFileAtomic(const std::string& path, std::string_view data);

}  // namespace kproxy::kubeconfig

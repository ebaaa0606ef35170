// Leveled diagnostics to stderr (-v N). Every line passes through Redact(): secrets never
// reach a log at any verbosity.
#pragma once

#include <string>
#include <string_view>

namespace kproxy {

void SetVerbosity(int level);
int Verbosity();

// Registers a secret (token, password, key) to be replaced by REDACTED in every log line.
void RegisterSecret(std::string_view secret);
// Replaces registered secrets and bearer/basic credentials with REDACTED.
std::string Redact(std::string_view text);

// Writes "kproxy: <message>" to stderr when level <= verbosity.
void Log(int level, std::string_view message);

}  // namespace kproxy

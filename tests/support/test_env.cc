#include "tests/support/test_env.h"

#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kproxy::test {

#ifndef KPROXY_SOURCE_DIR
#define KPROXY_SOURCE_DIR "."
#endif
#ifndef KPROXY_BINARY_DIR
#define KPROXY_BINARY_DIR "."
#endif

std::filesystem::path SourceDir() {
  if (const char* d = getenv("KPROXY_SOURCE_DIR")) return d;
  return KPROXY_SOURCE_DIR;
}
std::filesystem::path BinaryDir() {
  if (const char* d = getenv("KPROXY_BINARY_DIR")) return d;
  return KPROXY_BINARY_DIR;
}
std::filesystem::path VectorsDir() {
  if (const char* d = getenv("KPROXY_VECTORS_DIR")) return d;
  return SourceDir().parent_path() / "shared" / "vectors";
}

std::string ReadFileOrDie(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ReadFileOrEmpty(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "kproxy-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}
TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace kproxy::test

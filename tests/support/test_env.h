// Paths and temporary directories for tests.
#pragma once

#include <filesystem>
#include <string>

namespace kproxy::test {

std::filesystem::path SourceDir();
std::filesystem::path BinaryDir();
std::filesystem::path VectorsDir();  // ../shared/vectors beside the checkout
std::string ReadFileOrDie(const std::filesystem::path& path);
// A file's contents, "" when it cannot be read (a child's output that may not exist yet).
std::string ReadFileOrEmpty(const std::filesystem::path& path);

// A fresh directory removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace kproxy::test

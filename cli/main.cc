// Thin main: everything lives in the command table (cli/command_table.cc).
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cli/cluster_access.h"
#include "cli/command.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  kproxy::cli::CommandIO io{std::cin, std::cout, std::cerr};
  kproxy::cli::AllowQuickExit();
  int status = kproxy::cli::RunCli(argc, argv, io);
  // Every command has restored the terminal and closed its files when RunCli returns; what is
  // left are static destructors and atexit handlers (OpenSSL's and libraries' global cleanup)
  // that only cost time at exit. Flush what the user must see and leave.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  _exit(status);
}

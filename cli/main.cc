// Thin main: everything lives in the command table (cli/command_table.cc).
#include <iostream>

#include "cli/command.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  kproxy::cli::CommandIO io{std::cin, std::cout, std::cerr};
  int status = kproxy::cli::RunCli(argc, argv, io);
  std::cout.flush();
  return status;
}

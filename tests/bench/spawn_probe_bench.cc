// spawn_probe: runs one command and prints "<wall µs> <peak RSS KiB>" — wall from fork to
// wait4, peak RSS from wait4's rusage (ru_maxrss of that child alone). Used by exec_bench.sh
// for `exec POD -- true`, where `date` + GNU time around the command added ~2.7 ms of harness
// to every client's number. stdout/stderr of the command go to /dev/null.
// Usage: spawn_probe COMMAND [ARG…]; exit status 1 when the command fails or cannot start.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: spawn_probe COMMAND [ARG...]\n");
    return 2;
  }
  timespec t0{}, t1{};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, 1);
      dup2(null, 2);
    }
    execvp(argv[1], argv + 1);
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid) return 1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
  std::printf("%ld %ld\n", us, usage.ru_maxrss);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

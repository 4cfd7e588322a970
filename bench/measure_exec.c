/* measure_exec OUTFILE PRELOAD PROGRAM [ARGS...]: runs PROGRAM with LD_PRELOAD=PRELOAD (none if
 * PRELOAD is "-") and writes "<wall seconds> <peak RSS KiB> <exit status>" to OUTFILE.
 *
 * Not a workload: the runner's launcher. Peak RSS must come from a small parent. Linux counts a
 * process's RSS from before its exec in ru_maxrss, so a child forked straight from the Python
 * runner (~16 MiB) would report at least that much even for a 3 MiB workload. Forked from this
 * tiny program, the baseline is about 1 MiB. The preload is set in the child only, so this
 * launcher itself always runs on glibc. Exits with the program's exit status (128+signal). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s OUTFILE PRELOAD|- PROGRAM [ARGS...]\n", argv[0]);
    return 2;
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid == 0) {
    if (strcmp(argv[2], "-") == 0)
      unsetenv("LD_PRELOAD");
    else
      setenv("LD_PRELOAD", argv[2], 1);
    execvp(argv[3], argv + 3);
    perror("measure_exec: exec");
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
    perror("measure_exec");
    return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  FILE *f = fopen(argv[1], "w");
  if (!f) return 2;
  fprintf(f, "%.6f %ld %d\n", (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
          ru.ru_maxrss, code);
  fclose(f);
  return code;
}

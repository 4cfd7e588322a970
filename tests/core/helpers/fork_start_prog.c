// fork() while another thread is starting the engine. A program that uses the prefixed
// library (ray_malloc; its threads were made with the libc malloc) starts the engine with its
// first ray_ call, which can come on one thread while another forks. This program makes the
// start-up slow on purpose: its own mmap (which the library's calls reach, since an
// executable's symbols come first) sleeps in the reservation's call. The main thread forks
// while a second thread is inside it. The child must be able to allocate: it must not have
// inherited the start-up lock held by a thread that does not exist in it.
// Prints "fork during start-up ok" and exits 0; exit 77 if the engine had started before
// main (nothing to test).
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rayalloc.h"

static atomic_int g_reserving;  // 1 once a thread is inside the reservation's mmap

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  if (len >= ((size_t)1 << 30)) {  // the reservation: only the engine's start-up maps this much
    atomic_store(&g_reserving, 1);
    struct timespec pause = {0, 300 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static void *start_engine(void *arg) {
  (void)arg;
  void *p = ray_malloc(16);
  ray_free(p);
  return p ? NULL : (void *)1;
}

int main(void) {
  if (atomic_load(&g_reserving)) {
    puts("engine started before main");
    return 77;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, start_engine, NULL) != 0) return 2;
  while (!atomic_load(&g_reserving)) sched_yield();
  pid_t pid = fork();
  if (pid == 0) {
    alarm(10);  // a child stuck on the start-up lock dies of SIGALRM
    char *p = ray_malloc(1000);
    if (!p) _exit(3);
    memset(p, 1, 1000);
    ray_free(p);
    _exit(0);
  }
  if (pid < 0) return 2;
  int status = 0;
  waitpid(pid, &status, 0);
  void *ret = NULL;
  pthread_join(t, &ret);
  if (ret != NULL) {
    puts("the starting thread could not allocate");
    return 1;
  }
  if (WIFSIGNALED(status)) {
    printf("child killed by signal %d\n", WTERMSIG(status));
    return 1;
  }
  if (WEXITSTATUS(status) != 0) {
    printf("child exited with %d\n", WEXITSTATUS(status));
    return 1;
  }
  puts("fork during start-up ok");
  return 0;
}

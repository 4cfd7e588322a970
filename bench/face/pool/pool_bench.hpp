// Shared by the face_bench_pool_* programs (besides ../face_common.hpp).
#pragma once
#include <time.h>

namespace poolbench {

// CPU seconds of the calling thread, user and system: the timed sections are single-threaded,
// and CPU time stays meaningful on a machine shared with other jobs, where wall time is not.
inline double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

}  // namespace poolbench

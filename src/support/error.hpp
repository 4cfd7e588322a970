// Error reporting for programming errors (invalid/double/interior free, foreign pointers,
// corruption). Documented failures (ENOMEM, EINVAL returns) never come here.
#pragma once

namespace ray {

// Calls the installed handler, or prints "rayalloc: <msg>: <ptr>" to stderr and aborts.
// Returns only if a user handler returns; the caller then does nothing with the pointer.
void report_error(int err, const char *msg, const void *ptr);

}  // namespace ray

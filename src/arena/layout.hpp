// Address-space geometry shared by every layer.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ray {

constexpr size_t kSliceShift = 16;  // a slice is the unit of the chunk map: 64 KiB
constexpr size_t kSliceSize = size_t(1) << kSliceShift;
constexpr size_t kPage = 4096;
constexpr size_t kMinAlign = 16;
constexpr size_t kDefaultReserve = size_t(256) << 30;  // address space, not memory
constexpr size_t kMinReserve = size_t(64) << 20;
constexpr size_t kReserveAlign = size_t(1) << 30;  // so spans can be aligned up to 1 GiB
constexpr size_t kMaxAlign = size_t(1) << 30;

#define RAY_LIKELY(x) __builtin_expect(!!(x), 1)
#define RAY_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RAY_NOINLINE __attribute__((noinline))
#define RAY_COLD __attribute__((noinline, cold))
#define RAY_INLINE inline __attribute__((always_inline))
#define RAY_EXPORT __attribute__((visibility("default")))

inline size_t align_up(size_t n, size_t a) {
  return (n + a - 1) & ~(a - 1);
}
inline bool is_pow2(size_t n) {
  return n && !(n & (n - 1));
}
inline size_t slices_for(size_t bytes) {
  return (bytes + kSliceSize - 1) >> kSliceShift;
}

}  // namespace ray

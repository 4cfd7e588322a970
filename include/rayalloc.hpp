// rayalloc C++20 interface (namespace ray): containers on the array face, pools, arenas and
// standard allocators. Include this; the parts live in rayalloc/*.hpp.
#pragma once
#include "rayalloc.h"
#include "rayalloc/array.hpp"
#include "rayalloc/string.hpp"
#include "rayalloc/allocator.hpp"
#include "rayalloc/pool.hpp"
#include "rayalloc/arena.hpp"

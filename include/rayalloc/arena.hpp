// rayalloc/arena.hpp: filled in by its face (see include/rayalloc.hpp)
#pragma once
#include "rayalloc.h"

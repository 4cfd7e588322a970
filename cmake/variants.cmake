# Compile flags shared by every rayalloc target, and the sanitizer switch.
set(RAYALLOC_COMMON_FLAGS -Wall -Wextra -fno-exceptions -fno-rtti -fvisibility=hidden
    -fno-plt -ftls-model=initial-exec)
if(RAYALLOC_SANITIZE STREQUAL "address")
  set(RAYALLOC_SAN_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
elseif(RAYALLOC_SANITIZE STREQUAL "thread")
  set(RAYALLOC_SAN_FLAGS -fsanitize=thread -fno-omit-frame-pointer)
elseif(RAYALLOC_SANITIZE)
  message(FATAL_ERROR "RAYALLOC_SANITIZE must be address, thread or empty")
endif()
if(RAYALLOC_SAN_FLAGS)
  add_compile_options(${RAYALLOC_SAN_FLAGS})
  add_link_options(${RAYALLOC_SAN_FLAGS})
endif()

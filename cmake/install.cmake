# Install: headers, every library variant, a CMake package (find_package(rayalloc CONFIG)
# giving rayalloc::rayalloc, rayalloc::rayalloc_prefixed and their _static, -debug and -stats
# forms) and a pkg-config file per face.
include(CMakePackageConfigHelpers)

set(RAYALLOC_INSTALL_TARGETS rayalloc rayalloc_static rayalloc-prefixed rayalloc-prefixed_static)
foreach(v -debug -stats)
  if(TARGET rayalloc${v})
    list(APPEND RAYALLOC_INSTALL_TARGETS rayalloc${v} rayalloc${v}_static)
  endif()
endforeach()

install(TARGETS ${RAYALLOC_INSTALL_TARGETS} EXPORT rayallocTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/rayalloc.h include/rayalloc.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/rayalloc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(EXISTS ${PROJECT_SOURCE_DIR}/tools/rayrun)
  install(PROGRAMS tools/rayrun DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(EXPORT rayallocTargets NAMESPACE rayalloc:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rayalloc)
configure_package_config_file(cmake/rayallocConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/rayallocConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rayalloc)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/rayallocConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rayallocConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/rayallocConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rayalloc)

foreach(pc rayalloc rayalloc-prefixed)
  configure_file(cmake/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

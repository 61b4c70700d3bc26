# SPDX-License-Identifier: Apache-2.0
# Installed CMake package (strataConfig.cmake, its version file and the exported targets
# strata::strata / strata::strata_static) and the pkg-config file. Included by the top-level
# CMakeLists.txt after the library targets exist.
include(CMakePackageConfigHelpers)

set(STRATA_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/strata)
set_target_properties(strata_shared PROPERTIES EXPORT_NAME strata)
set_target_properties(strata_static PROPERTIES EXPORT_NAME strata_static)
install(TARGETS strata_static strata_shared EXPORT strataTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT strataTargets NAMESPACE strata:: DESTINATION ${STRATA_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/strataConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/strataConfig.cmake
                              INSTALL_DESTINATION ${STRATA_CMAKE_DIR})
# 0.x: a new minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/strataConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/strataConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/strataConfigVersion.cmake
        DESTINATION ${STRATA_CMAKE_DIR})

# pkg-config: relocatable, the prefix is found from where strata.pc is installed (libdir may be
# lib or a multiarch lib/x86_64-linux-gnu).
file(RELATIVE_PATH STRATA_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" STRATA_PC_TO_PREFIX "${STRATA_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/strata.pc.in ${CMAKE_CURRENT_BINARY_DIR}/strata.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/strata.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

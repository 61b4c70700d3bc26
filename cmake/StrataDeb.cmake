# SPDX-License-Identifier: Apache-2.0
# The Debian package (CPack DEB generator), built by scripts/build-deb.sh from a build
# configured with CMAKE_INSTALL_PREFIX=/usr (so libraries go to the multiarch libdir):
# one package `strata` with the shared and static library, the header, strata.pc, the CMake
# package, the strata tool, its man pages and bash completion, and the Python binding.
# Depends: computed by dpkg-shlibdeps from the libraries the packaged binaries really link
# (libc6, libzstd1, liblz4-1, libsnappy1v5, libxxhash0, libdeflate0); building programs
# against strata also needs the compression libraries' -dev packages: Recommends.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME strata)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "embedded crash-safe LSM-tree key-value store with Apache Parquet tables")
set(CPACK_PACKAGE_DESCRIPTION
    "strata is an embedded key-value store in C11 whose on-disk tables are standard Apache
Parquet files. This package holds libstrata (shared and static), its header, pkg-config and
CMake package files, the strata command-line tool with man pages and bash completion, and
the Python binding (python3 -c 'import strata').")
set(CPACK_PACKAGE_CONTACT "strata developers <strata@localhost>")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
    "pkg-config, libzstd-dev, liblz4-dev, libsnappy-dev, libxxhash-dev, libdeflate-dev")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3, bash-completion")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
include(CPack)

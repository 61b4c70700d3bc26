#!/usr/bin/env bash
# Build the Debian package strata_VERSION_ARCH.deb with CPack from a release build (no tests,
# no benchmark) configured for /usr, then check it: the files it must hold, and that its
# Depends names the package of every shared library its binaries link (dpkg-shlibdeps).
#   scripts/build-deb.sh            -> $BUILD_DIR (default build/deb)/strata_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/deb}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
      -DSTRATA_BUILD_TESTS=OFF -DSTRATA_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}"
rm -f "$build"/strata_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/strata_*.deb)
echo "built $deb"

fail=0
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
for f in ./usr/bin/strata ./usr/include/strata/strata.h \
         "./usr/lib/$multiarch/libstrata.so" "./usr/lib/$multiarch/libstrata.so.0" \
         "./usr/lib/$multiarch/libstrata.a" "./usr/lib/$multiarch/pkgconfig/strata.pc" \
         "./usr/lib/$multiarch/cmake/strata/strataConfig.cmake" \
         "./usr/lib/$multiarch/cmake/strata/strataConfigVersion.cmake" \
         ./usr/share/man/man1/strata.1.gz ./usr/share/man/man3/strata.3.gz \
         ./usr/share/bash-completion/completions/strata \
         ./usr/lib/python3/dist-packages/strata/__init__.py; do
  grep -qxF "$f" <<<"$contents" || { echo "build-deb: $deb lacks $f"; fail=1; }
done
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# every library the packaged ELF files need must come from a package named in Depends
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$deb" "$x"
for elf in "$x/usr/bin/strata" "$x/usr/lib/$multiarch/libstrata.so.0"; do
  for lib in $(readelf -d "$elf" | awk '/NEEDED/ {gsub(/[][]/, "", $5); print $5}'); do
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l && p == "" {p = $NF} END {print p}')
    real=$(readlink -f "$path")
    pkg=""
    # usrmerge: dpkg may know the file under /lib or under /usr/lib
    for p in "$path" "$real" "${real#/usr}" "/usr${path#/usr}"; do
      [ -n "$pkg" ] || pkg=$(dpkg -S "$p" 2>/dev/null | sed -n '1s/:.*//p' || true)
    done
    if [ -z "$pkg" ]; then
      echo "build-deb: no package owns $lib ($elf)"; fail=1
    elif ! grep -qE "(^|, )$pkg( |,|$)" <<<"$depends"; then
      echo "build-deb: $(basename "$elf") links $lib from $pkg, missing in Depends"; fail=1
    fi
  done
done
for pkg in libzstd1 liblz4-1 libsnappy1v5 libxxhash0 libdeflate0; do
  grep -qE "(^|, )$pkg( |,|$)" <<<"$depends" || { echo "build-deb: Depends lacks $pkg"; fail=1; }
done
[ $fail -eq 0 ] && echo "package check passed"
exit $fail

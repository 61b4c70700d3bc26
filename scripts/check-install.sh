#!/usr/bin/env bash
# Install a build into a scratch prefix and build + run a program (tests/install/consumer.c)
# against it: through pkg-config (shared, then fully static) and through the CMake package
# (find_package(strata CONFIG): strata::strata and strata::strata_static).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/test}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
src=tests/install/consumer.c
pcdir=$(dirname "$(find "$prefix" -name strata.pc)")
libdir=$(dirname "$pcdir")
export PKG_CONFIG_PATH="$pcdir"
echo "-- pkg-config"
# shellcheck disable=SC2046
cc "$src" -o "$prefix/user_shared" $(pkg-config --cflags --libs strata) -Wl,-rpath,"$libdir"
"$prefix/user_shared" "$prefix/db1"
# shellcheck disable=SC2046
cc "$src" -o "$prefix/user_static" $(pkg-config --cflags strata) "$libdir/libstrata.a" \
   $(pkg-config --libs-only-other --libs-only-l --static strata | sed 's/-lstrata//')
"$prefix/user_static" "$prefix/db2"
echo "-- CMake package"
cmake -S tests/install -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer" >/dev/null
"$prefix/consumer/consumer_shared" "$prefix/db3"
"$prefix/consumer/consumer_static" "$prefix/db4"
if grep -q libstrata <<<"$(ldd "$prefix/consumer/consumer_static")"; then
  echo "check-install: consumer_static links libstrata.so (strata::strata_static is not static)"; exit 1
fi
grep -q "$libdir/libstrata.so" <<<"$(ldd "$prefix/consumer/consumer_shared")" ||
  { echo "check-install: consumer_shared does not use the installed libstrata.so"; exit 1; }
test -x "$prefix/bin/strata"
echo "install check passed"

#!/usr/bin/env bash
# Install a build into a scratch prefix and build + run a program against it through pkg-config,
# once with the shared library and once fully static.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/test}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cat >"$prefix/user.c" <<'C'
#include <strata/strata.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    strata_db *db;
    int rc = strata_open(argv[1], NULL, &db);
    if (rc) { fprintf(stderr, "%s\n", strata_errmsg(NULL)); return 1; }
    if (strata_put(db, NULL, "k", 1, "v", 1)) return 1;
    void *v; size_t n;
    if (strata_get(db, NULL, "k", 1, &v, &n) || n != 1 || memcmp(v, "v", 1)) return 1;
    strata_free(v);
    printf("installed strata %s works\n", strata_version(NULL, NULL, NULL));
    return strata_close(db) ? 1 : (argc > 2 ? 0 : 0);
}
C
cc "$prefix/user.c" -o "$prefix/user_shared" $(pkg-config --cflags --libs strata) -Wl,-rpath,"$prefix/lib"
"$prefix/user_shared" "$prefix/db1"
cc "$prefix/user.c" -o "$prefix/user_static" $(pkg-config --cflags strata) "$prefix/lib/libstrata.a" \
   $(pkg-config --libs-only-other --libs-only-l --static strata | sed 's/-lstrata//')
"$prefix/user_static" "$prefix/db2"
test -x "$prefix/bin/strata"
echo "install check passed"

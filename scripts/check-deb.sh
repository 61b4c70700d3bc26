#!/usr/bin/env bash
# Install the Debian package built by scripts/build-deb.sh into this machine with
# `apt-get install ./strata_*.deb` and use it as a user would: the installed strata tool, its
# man pages and completion, a program (tests/install/consumer.c) built through pkg-config and
# through find_package(strata), and the Python binding. Needs root: without it, says so and
# exits 0 (skipped). The package is removed again at the end unless KEEP_DEB=1.
#   scripts/check-deb.sh [DEB]      (default: build/deb/strata_*.deb)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "check-deb: SKIPPED: installing a .deb needs root (run as root, as CI does)"
  exit 0
fi
deb=${1:-$(ls build/deb/strata_*.deb 2>/dev/null | head -n 1)}
[ -f "$deb" ] || { echo "check-deb: no package (run scripts/build-deb.sh first)"; exit 1; }
work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
  if [ "${KEEP_DEB:-0}" != 1 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq strata >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./${deb#./}" >/dev/null
grep -q "^Status: install ok installed" <<<"$(dpkg -s strata)"
echo "-- installed $(dpkg-query -W -f='${Package} ${Version} (Depends: ${Depends})' strata)"

# the tool, from the system PATH, not the build tree
PATH=/usr/sbin:/usr/bin:/sbin:/bin
test "$(command -v strata)" = /usr/bin/strata
strata --version
strata put "$work/db" hello world
test "$(strata get "$work/db" hello)" = world
printf 'k%d\tv%d\n' 1 1 2 2 3 3 | strata --quiet load "$work/db" >/dev/null
strata compact "$work/db"
strata check "$work/db" >/dev/null
strata stats --json "$work/db" | python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["sequence"] == 4, d'
grep -q '^strata_sequence 4$' <<<"$(strata stats --prometheus "$work/db")"
# man pages and completion
man -w strata >/dev/null && man -w 3 strata >/dev/null
grep -q "EXIT STATUS" <<<"$(MANWIDTH=80 man 1 strata 2>/dev/null)"
bash -c 'source /usr/share/bash-completion/completions/strata && COMP_WORDS=(strata sc) &&
         COMP_CWORD=1 && _strata && [ "${COMPREPLY[*]}" = scan ]'
echo "-- tool, man pages, completion: ok"

# a program against the installed library: pkg-config, then the CMake package (no prefix path)
cp tests/install/consumer.c tests/install/CMakeLists.txt "$work/"
# shellcheck disable=SC2046
cc "$work/consumer.c" -o "$work/consumer_pc" $(pkg-config --cflags --libs strata)
"$work/consumer_pc" "$work/db_pc"
grep -q "libstrata.so.0 => /\(usr/\)\?lib/" <<<"$(ldd "$work/consumer_pc")"
cmake -S "$work" -B "$work/build" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer_shared" "$work/db_cmake"
"$work/build/consumer_static" "$work/db_cmake_static"
echo "-- consumer via pkg-config and find_package(strata): ok"

# the Python binding from dist-packages, with the library the dynamic linker finds
env -u STRATA_LIBRARY -u PYTHONPATH /usr/bin/python3 - "$work/db" <<'PY'
import sys
import strata
assert strata.__file__.startswith("/usr/lib/python3/dist-packages/"), strata.__file__
with strata.DB(sys.argv[1], create_if_missing=False) as db:
    assert db.get(b"hello") == b"world"
    assert [k for k, _ in db.items(prefix=b"k")] == [b"k1", b"k2", b"k3"]
print("-- python3 binding %s: ok" % strata.library_version())
PY
echo "deb check passed"

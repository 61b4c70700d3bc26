#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_man.sh STRATA MANDIR HEADER -- the man pages in MANDIR (man/) format without a warning
# (man --warnings), strata.1 documents every command and flag the tool's help lists, and
# strata.3 names every function and return code of HEADER (include/strata/strata.h).
# Registered as ctest test `test_man` from man/CMakeLists.txt. Exits 1 when anything failed.
set -u
export LC_ALL=C.UTF-8
S=${1:?usage: test_man.sh STRATA MANDIR HEADER}
M=${2:?usage: test_man.sh STRATA MANDIR HEADER}
H=${3:?usage: test_man.sh STRATA MANDIR HEADER}
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAILED: $*"; }
command -v man >/dev/null || { echo "FAILED: man not found (scripts/install-deps.sh installs man-db)"; exit 1; }

# The roff source as plain words: \- to -, font escapes dropped.
plain() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\%//g' "$1"; }

for page in "$M/strata.1" "$M/strata.3"; do
    warn=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    if [ -z "$warn" ]; then ok; else bad "$page: man --warnings: $warn"; fi
    lines=$(MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)
    if [ "$lines" -gt 40 ]; then ok; else bad "$page renders to $lines lines"; fi
done

# strata(1): every command (as a COMMANDS entry) and every flag of every command's help
page1=$(plain "$M/strata.1")
commands=$("$S" --help | awk '/^Commands:/ {on = 1; next} /^$/ {on = 0} on {print $1}')
[ -n "$commands" ] || bad "no commands in 'strata --help'"
for c in $commands; do
    if grep -q "^$c\( \|$\)" <<<"$page1"; then ok; else bad "strata.1 has no entry for command $c"; fi
    for f in $("$S" "$c" --help | awk '$1 ~ /^--/ {print $1}'); do
        if grep -qe "$f\b" <<<"$page1"; then ok; else bad "strata.1 does not mention $f ($c)"; fi
    done
done
for s in "EXIT STATUS" EXAMPLES "GLOBAL FLAGS" "SEE ALSO"; do
    if grep -q "^\.SH $s" "$M/strata.1"; then ok; else bad "strata.1 has no $s section"; fi
done

# strata(3): every function and return code of the header
page3=$(plain "$M/strata.3")
funcs=$(grep -o 'STRATA_API [^(]*(' "$H" | grep -o 'strata_[a-z_]*(' | tr -d '(' | sort -u)
[ "$(wc -w <<<"$funcs")" -gt 30 ] || bad "found only $(wc -w <<<"$funcs") functions in $H"
for f in $funcs; do
    if grep -q "\b$f\b" <<<"$page3"; then ok; else bad "strata.3 does not name $f"; fi
done
for code in $(grep -oE '^ +STRATA_[A-Z]+ = [0-9]+' "$H" | awk '{print $1}'); do
    if grep -q "^\.B $code$" "$M/strata.3"; then ok; else bad "strata.3 does not describe $code"; fi
done
for s in "RETURN VALUE" "OWNERSHIP AND LIFETIME" "THREAD SAFETY" EXAMPLES; do
    if grep -q "^\.SH $s" "$M/strata.3"; then ok; else bad "strata.3 has no $s section"; fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

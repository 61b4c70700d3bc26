#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_completion.sh STRATA COMPLETION-FILE -- the bash completion of strata (tools/) completes
# commands, flags, flag values and property names. Registered as ctest test `test_completion`
# from tools/CMakeLists.txt. Prints "N passed, M failed"; exits 1 when anything failed.
set -u
S=${1:?usage: test_completion.sh PATH-TO-strata COMPLETION-FILE}
# shellcheck source=/dev/null
source "${2:?usage: test_completion.sh PATH-TO-strata COMPLETION-FILE}"
T=$(mktemp -d "${ST_TEST_TMPDIR:-/tmp}/completion.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
"$S" put "$T/db" k v >/dev/null || { echo "cannot create a database"; exit 1; }
passed=0
failed=0

# complete WORD... : complete the last word of "strata WORD..."; the candidates in $got
complete_words() {
    COMP_WORDS=("$S" "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _strata
    got=" ${COMPREPLY[*]} "
}
# expect "WORD..." "CANDIDATE..." [exact]: every candidate is offered (exact: and nothing else)
expect() {
    local words=$1 want=$2 exact=${3:-}
    # shellcheck disable=SC2086
    complete_words $words
    local w miss=""
    for w in $want; do [[ $got == *" $w "* ]] || miss="$miss $w"; done
    if [ -n "$exact" ] && [ "$(echo $got | wc -w)" -ne "$(echo $want | wc -w)" ]; then
        miss="$miss (extra candidates)"
    fi
    if [ -z "$miss" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: 'strata $words': missing$miss; got:$got"
    fi
}

expect "''" "put get del scan load stats flush compact property check repair checkpoint sql-view destroy sst help"
expect "lo" "load" exact
expect "--hex sc" "scan" exact
expect "--" "--hex --sync --memtable --compression --bottommost-compression --memory-budget --quiet --read-only --help --version"
expect "--compression z" "zstd" exact
expect "--memtable=x --bottommost-compression ''" "lz4 zstd snappy none" exact
expect "scan db --rev" "--reverse" exact
expect "scan db --re" "--reverse --read-only" exact
expect "ch" "check checkpoint" exact
expect "sql" "sql-view" exact
expect "stats db --" "--json --prometheus --quiet"
expect "load db --st" "--strict" exact
expect "property $T/db strata.s" "strata.stats strata.sequence strata.sql-view" exact
expect "help com" "compact" exact
expect "get $T/d" "$T/db" exact
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

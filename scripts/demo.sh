#!/usr/bin/env bash
# Build strata (Release) and run the main demonstration: write a data set, close, reopen,
# read it all back, print what happened and how fast; then strata-bench's short side-by-side
# run against LevelDB and RocksDB.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
build=${BUILD_DIR:-build/release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSTRATA_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)"
"$build/examples/strata-demo" "${DEMO_DIR:-/tmp/strata-demo}"
if [ -x "$build/bench/strata-bench" ]; then
  "$build/bench/strata-bench" --demo --db="${DEMO_DIR:-/tmp/strata-demo}-bench"
fi

#!/usr/bin/env bash
# Runs one libFuzzer target for $ORDERSTREAM_FUZZ_SECONDS (default 60) seconds.
#   run_fuzzer.sh FUZZER SEED_CORPUS WORK_CORPUS
# New inputs go to WORK_CORPUS (in the build folder); the checked-in seeds are only read.
# A crash leaves its input as crash-* in the current folder and fails the test.
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3
mkdir -p "$work"
exec "$fuzzer" -max_total_time="${ORDERSTREAM_FUZZ_SECONDS:-60}" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 "$work" "$seeds"

#!/usr/bin/env bash
# deploy/systemd/orderstream.service: `systemd-analyze verify` is clean, the security exposure is
# at most 2.0, and the hardening still lets the daemon reach remote brokers.
#   systemd_unit_test.sh PATH_TO_ORDERSTREAM_BINARY
set -euo pipefail
binary=$1
unit_source="$(dirname "$0")/../../deploy/systemd/orderstream.service"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# verify checks that ExecStart's program exists: point it at the build.
sed "s#/usr/local/bin/orderstream#$binary#" "$unit_source" > "$work/orderstream.service"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

if ! out=$(systemd-analyze verify "$work/orderstream.service" 2>&1) || [ -n "$out" ]; then
  fail "systemd-analyze verify is not clean:"; echo "$out"
fi

report=$(systemd-analyze security --offline=true "$work/orderstream.service" 2>&1 || true)
score=$(echo "$report" | sed -n 's/.*Overall exposure level for orderstream.service: \([0-9.]*\).*/\1/p')
echo "exposure level: ${score:-unknown}"
if [ -z "$score" ] || ! awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
  fail "exposure level ${score:-unknown} is above 2.0"; echo "$report" | grep -E '^✗' | head -20
fi

grep -q '^Type=notify$' "$unit_source" || fail "Type=notify missing"
grep -q '^Restart=on-failure$' "$unit_source" || fail "Restart=on-failure missing"
grep -q '^WatchdogSec=' "$unit_source" || fail "WatchdogSec missing"
grep -Eq '^RestrictAddressFamilies=.*AF_INET( |$)' "$unit_source" || fail "AF_INET must stay allowed (brokers)"
grep -Eq '^RestrictAddressFamilies=.*AF_INET6' "$unit_source" || fail "AF_INET6 must stay allowed (brokers)"
grep -Eq '^(PrivateNetwork=yes|IPAddressDeny=any)' "$unit_source" && fail "the network must stay reachable"

[ "$failures" -eq 0 ] && echo "systemd unit: all checks passed"
exit "$failures"

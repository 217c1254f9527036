#!/bin/bash
# Smoke test of the VM bench itself: the team driver loads, C teamnl reads options,
# veth pairs work, /results is writable.
set -euo pipefail
source /opt/rteam/tests/guest/lib.sh

echo "kernel: $(uname -r)"
ip link add team0 type team || fail "cannot create team0"
ip -d link show team0 | matches 'team ' || fail "team0 is not a team device"

options=$(teamnl team0 options)
echo "$options"
grep -q 'mode' <<<"$options" || fail "teamnl shows no mode option"
teamnl team0 setoption mode activebackup
assert_eq activebackup "$(teamnl team0 getoption mode)" "team0 mode"

mk_veth_pair a0 b0
ip link set a0 master team0
teamnl team0 ports | matches a0 || fail "a0 is not a port of team0"

echo ok > /results/smoke.txt
assert_eq ok "$(</results/smoke.txt)" "/results contents"

cleanup_teams
[ -z "$(ip -o link show type team)" ] || fail "cleanup_teams left a team"
echo "smoke: all good"

#!/bin/bash
# `cargo xtask demo`: rteam on the real kernel team driver.
#
#   guest netns                        netns "peer"
#   team0 192.0.2.1/24 ── a0 ═══ b0 ──┐
#                      └─ a1 ═══ b1 ──┴ br0 192.0.2.2/24
#
# Part 1 drives the driver directly with rteam's teamnl (mode switches, options).
# Part 2 lets rteam's teamd run an activebackup team that fails over by itself.
set -euo pipefail
source /opt/rteam/tests/guest/lib.sh

R=/opt/rteam/bin
step() { printf '\n==> %s\n' "$*"; }
run() {
    echo "\$ $*"
    "$@"
}

step "Part 1: team0 from the kernel driver, driven with rteam's teamnl"
run ip link add team0 type team
run $R/teamnl team0 getoption mode
for mode in roundrobin broadcast random loadbalance activebackup; do
    # the kernel accepts a mode change only while the team has no ports
    run $R/teamnl team0 setoption mode "$mode"
    run $R/teamnl team0 getoption mode
done
mk_veth_pair a0 b0
mk_veth_pair a1 b1
run ip link set a0 master team0
run ip link set a1 master team0
run $R/teamnl team0 ports
run $R/teamnl team0 options
run $R/teamnl team0 setoption activeport "$(</sys/class/net/a1/ifindex)"
run $R/teamnl -p a1 team0 getoption enabled
run ip link del team0

step "Part 2: rteam's teamd runs an activebackup team; the peer namespace answers pings"
mk_netns peer
veth_to_ns b0 peer
veth_to_ns b1 peer
ip -n peer link add br0 type bridge
ip -n peer link set b0 master br0
ip -n peer link set b1 master br0
ip -n peer addr add 192.0.2.2/24 dev br0
ip -n peer link set br0 up
ip link set a0 down
ip link set a1 down
cat >/tmp/team0.conf <<'CONF'
{
    "device": "team0",
    "runner": { "name": "activebackup" },
    "link_watch": { "name": "ethtool" },
    "ports": { "a0": { "prio": 10 }, "a1": { "prio": 0 } }
}
CONF
run cat /tmp/team0.conf
run $R/teamd -d -f /tmp/team0.conf
wait_for -t 30 test -S /var/run/teamd/team0.sock
run ip addr add 192.0.2.1/24 dev team0
run ip link set team0 up
wait_for -t 30 sh -c "$R/teamdctl team0 state item get runner.active_port | grep -qx a0"
run $R/teamdctl team0 state
run ping -c 3 -i 0.2 -W 2 192.0.2.2 || fail "no reply through a0"

step "The link behind a0 fails: its peer b0 goes down; teamd moves to a1 by itself"
run ip -n peer link set b0 down
wait_for -t 30 sh -c "$R/teamdctl team0 state item get runner.active_port | grep -qx a1"
run $R/teamdctl team0 state
run ping -c 3 -i 0.2 -W 2 192.0.2.2 || fail "no reply through a1 after failover"

step "b0 comes back: a0 has the higher prio, so teamd makes it active again"
run ip -n peer link set b0 up
wait_for -t 30 sh -c "$R/teamdctl team0 state item get runner.active_port | grep -qx a0"
run $R/teamdctl team0 state item get runner.active_port
run ping -c 3 -i 0.2 -W 2 192.0.2.2 || fail "no reply through a0 after it came back"

step "Stop teamd: it releases the ports and deletes team0"
run $R/teamd -k -t team0
wait_for -t 30 sh -c "! ip link show team0 2>/dev/null"
run ip -o link show type team
step "Done: team0 failed over and back on the real driver, run by rteam"

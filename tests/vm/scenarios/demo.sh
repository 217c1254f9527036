#!/bin/bash
# `cargo xtask demo`: an activebackup team over two veth ports, failing over by hand.
#
#   guest netns                        netns "peer"
#   team0 192.0.2.1/24 ── a0 ═══ b0 ──┐
#                      └─ a1 ═══ b1 ──┴ br0 192.0.2.2/24
#
# Mode and active port are set with C teamnl (no teamd: we play the runner ourselves).
set -euo pipefail
source /opt/rteam/tests/guest/lib.sh

step() { printf '\n==> %s\n' "$*"; }
run() {
    echo "\$ $*"
    "$@"
}
ifindex() { cat "/sys/class/net/$1/ifindex"; }

step "Create team0 with the kernel team driver and pick activebackup mode"
run ip link add team0 type team
# The mode must be set while the team has no ports.
run teamnl team0 setoption mode activebackup

step "Two veth pairs; the far ends go to namespace 'peer', joined by a bridge"
mk_veth_pair a0 b0
mk_veth_pair a1 b1
mk_netns peer
veth_to_ns b0 peer
veth_to_ns b1 peer
ip -n peer link add br0 type bridge
ip -n peer link set b0 master br0
ip -n peer link set b1 master br0
ip -n peer addr add 192.0.2.2/24 dev br0
ip -n peer link set br0 up

step "Enslave a0 and a1 (a port must be down when it is added)"
# Frames reach team0 only if addressed to the port's own MAC, so every port takes team0's
# MAC, as C teamd's activebackup runner does by default (hwaddr_policy "same_all").
team_mac=$(cat /sys/class/net/team0/address)
for port in a0 a1; do
    run ip link set "$port" down
    run ip link set "$port" address "$team_mac"
    run ip link set "$port" master team0
done
run ip addr add 192.0.2.1/24 dev team0
run ip link set team0 up
ip link set a0 up
ip link set a1 up

step "Make a0 the active port"
run teamnl team0 setoption activeport "$(ifindex a0)"
run teamnl team0 options
run teamnl team0 ports
if [ -x /opt/rteam/bin/teamnl ] && [ -n "$(/opt/rteam/bin/teamnl team0 options 2>/dev/null)" ]; then
    step "The same options through rteam's teamnl"
    run /opt/rteam/bin/teamnl team0 options
fi

step "Ping the peer through a0"
run ping -c 3 -i 0.2 -W 2 192.0.2.2 || fail "no reply through a0"

step "The link behind a0 fails: take its peer b0 down"
run ip -n peer link set b0 down
wait_for sh -c "ip link show a0 | grep -q NO-CARRIER"
run teamnl team0 ports

step "Fail over by hand: make a1 the active port"
run teamnl team0 setoption activeport "$(ifindex a1)"
run teamnl team0 getoption activeport
run ping -c 3 -i 0.2 -W 2 192.0.2.2 || fail "no reply through a1 after failover"

step "Done: team0 kept talking to 192.0.2.2 after losing a0"

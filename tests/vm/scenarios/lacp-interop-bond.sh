#!/bin/bash
# lacp-interop-bond: our lacp runner and C teamd's against the kernel bonding driver in
# 802.3ad mode (lacp_rate fast) in another namespace, over three veth pairs. Each step runs
# with C teamd first, then ours; what both ends report is diffed:
#   * all ports aggregate: our enabled options and lacp state items, bonding's
#     /proc/net/bonding/bond0 (one aggregator with every slave, partner = team0's MAC);
#   * ping and a UDP burst cross the team;
#   * a partner port going down leaves the team within 3 s and comes back when up again.
#
#   team0 (C or ours) ─┬─ p0 ═══ b0 ─┬─ bond0 (802.3ad, netns peer)
#                      ├─ p1 ═══ b1 ─┤
#                      └─ p2 ═══ b2 ─┘
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
source /opt/rteam/tests/guest/lacp.sh
t_start=$EPOCHSECONDS

lacp_topology 3
peer_bond 3

# the partner's view: the active aggregator's size and partner MAC, each slave's
# aggregator id relative to the active one
bond_view() {
    ip netns exec peer python3 - "$(</sys/class/net/team0/address)" <<'PY'
import re, sys
team_mac = sys.argv[1]
text = open("/proc/net/bonding/bond0").read()
active, slaves = text.split("Slave Interface:")[0], text.split("Slave Interface:")[1:]
agg = re.search(r"Active Aggregator Info:\s*\n\s*Aggregator ID: (\d+)", active)
ports = re.search(r"Number of ports: (\d+)", active)
partner = re.search(r"Partner Mac Address: (\S+)", active)
print("bond active aggregator ports:", ports.group(1) if ports else "none")
print("bond partner is team0:", bool(partner) and partner.group(1) == team_mac)
for s in slaves:
    name = s.split()[0]
    aid = re.search(r"Aggregator ID: (\d+)", s)
    same = bool(agg) and bool(aid) and aid.group(1) == agg.group(1)
    print("bond %s in active aggregator: %s" % (name, same))
PY
}

cat >/tmp/udp_count.py <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.2", 5000))
open("/tmp/udp.ready", "w").close()
s.settimeout(3.0)
n = 0
try:
    while True:
        s.recv(2048)
        n += 1
except socket.timeout:
    pass
open("/tmp/udp.count", "w").write("%d\n" % n)
PY

# traffic LABEL: ping and 60 UDP datagrams from distinct source ports (spread by the hash)
traffic() {
    local i
    if peer_answers; then
        echo "$1: ping ok" >>"$OUT"
    else
        echo "$1: ping FAILED" >>"$OUT"
    fi
    rm -f /tmp/udp.ready /tmp/udp.count
    ip netns exec peer python3 /tmp/udp_count.py &
    wait_for -t 10 test -e /tmp/udp.ready
    for i in $(seq 60); do echo "datagram $i" >/dev/udp/192.0.2.2/5000; done
    wait_for -t 10 test -e /tmp/udp.count
    echo "$1: udp $(</tmp/udp.count) of 60" >>"$OUT"
}

record() {
    local p
    for p in p0 p1 p2; do
        echo "$1: $p enabled $(enabled "$p") selected $(item "ports.$p.runner.selected") state $(item "ports.$p.runner.state")" >>"$OUT"
    done
    bond_view | sed "s/^/$1: /" >>"$OUT"
}

run() {
    local impl=$1 t0 t1 p
    OUT=/tmp/bond.$impl
    : >"$OUT"
    start_team "$impl" '{"device": "team0", "runner": {"name": "lacp", "fast_rate": true},
        "ports": {"p0": {}, "p1": {}, "p2": {}}}' p0 p1 p2
    monitor_start
    t0=$(bring_up p0 p1 p2)
    for p in p0 p1 p2; do wait_enabled "$p" true 20 || echo "$p not enabled after 20 s" >>"$OUT"; done
    echo "$impl: all ports enabled $(converged_at "$t0" p0 p1 p2) s after up" | tee -a /tmp/conv
    monitor_stop
    # bonding selects after its 2 s aggregator wait; give it time to settle
    wait_for -t 20 sh -c "ip netns exec peer grep -q 'Number of ports: 3' /proc/net/bonding/bond0"
    sleep 1
    cp /tmp/mon "/results/mon.bond.$impl"
    record "all up"
    traffic "all up"
    t0=$EPOCHREALTIME
    ip -n peer link set b1 down
    wait_enabled p1 false 3 && echo "b1 down: p1 disabled within 3 s" >>"$OUT" ||
        echo "b1 down: p1 still enabled after 3 s" >>"$OUT"
    t1=$EPOCHREALTIME
    echo "$impl: p1 disabled $(python3 -c "print('%.2f' % ($t1 - $t0))") s after b1 went down" | tee -a /tmp/conv
    sleep 1
    record "b1 down"
    traffic "b1 down"
    ip -n peer link set b1 up
    wait_enabled p1 true 20 && echo "b1 up: p1 enabled again" >>"$OUT" || echo "b1 up: p1 not back" >>"$OUT"
    wait_for -t 20 sh -c "ip netns exec peer grep -q 'Number of ports: 3' /proc/net/bonding/bond0"
    sleep 1
    record "b1 up"
    traffic "b1 up"
    "$CTL" team0 state >>"$OUT"
    stop_team
    # the bond's ports expire before the next run starts
    sleep 4
}

: >/tmp/conv
for impl in C rteam; do
    say "== $impl"
    run "$impl"
done
cat /tmp/bond.C
same "lacp against bonding" /tmp/bond
for want in "all up: p0 enabled true selected true state current" \
    "all up: bond active aggregator ports: 3" "all up: bond partner is team0: True" \
    "all up: bond b2 in active aggregator: True" "b1 down: p1 disabled within 3 s" \
    "b1 up: p1 enabled again" "b1 up: bond active aggregator ports: 3" \
    "all up: udp 60 of 60" "b1 down: udp 60 of 60" "b1 up: udp 60 of 60"; do
    grep -qxF "$want" /tmp/bond.rteam || fail "rteam: expected \"$want\""
    CHECKS=$((CHECKS + 1))
done
grep -q FAILED /tmp/bond.rteam && fail "rteam: ping failed"
echo "== timings"
cat /tmp/conv
echo "lacp-interop-bond: $CHECKS checks passed in $(($EPOCHSECONDS - t_start)) s"

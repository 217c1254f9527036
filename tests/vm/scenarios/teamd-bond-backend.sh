#!/bin/bash
# teamd-bond-backend: our teamd running teamd configs on a bonding device (teamd(8), BOND
# BACKEND): `--backend bond` on Debian's kernel (team.ko is there, so the backend is asked
# for), then the automatic fallback with team.ko made unloadable. For each runner bonding can
# do, the bond has the mapped options, the peer answers across it, a port loss fails over
# (ping keeps working), teamdctl's state names the runner, ports and active port, port
# remove/add work, and `teamd -k` removes the bond. A config bonding cannot do is refused
# with every key named and nothing created.
#
#   guest                                  netns "peer"
#   team0 (bond) 192.0.2.1/24 ─┬─ p0 ═══ b0 ─┬─ br0 192.0.2.2/24, later bond0 (802.3ad)
#                              └─ p1 ═══ b1 ─┘
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
source /opt/rteam/tests/guest/lacp.sh
source /opt/rteam/tests/guest/nm-lib.sh

TEAMD=/opt/rteam/bin/teamd
SYS=/sys/class/net/team0/bonding
LOG=/tmp/teamd.bond.log
t_start=$EPOCHSECONDS

pings() { peer_answers 2>/dev/null; }
opt() { bond_opt team0 "$1"; }
no_team0() { ! ip link show team0 >/dev/null 2>&1; }
item_is() { [ "$(item "$1")" = "$2" ]; }
is_bond() { [ -d "$SYS" ]; }

bridge_peer 2

# start_bond NAME CONFIG [TEAMD ARGS...]: our teamd on CONFIG, waits for the socket and for
# p0 and p1 in the bond; team0 addressed and up.
start_bond() {
    local name=$1
    printf '%s\n' "$2" >"/tmp/$name.conf"
    shift 2
    echo "== $name" >>"$LOG"
    "$TEAMD" -f "/tmp/$name.conf" "$@" 2>>"$LOG" &
    TEAMD_PID=$!
    wait_for -t 30 test -S /var/run/teamd/team0.sock
    check "$name: team0 is a bond" is_bond
    check "$name: p0 and p1 enslaved" wait_wall 10 sh -c "[ \"\$(cat $SYS/slaves)\" = 'p0 p1' ]"
    ip addr add 192.0.2.1/24 dev team0
    ip link set team0 up
}

# stop_bond NAME: teamd -k; the bond is gone and the ports are free.
stop_bond() {
    "$TEAMD" -k -t team0 || fail "$1: teamd -k failed"
    wait "$TEAMD_PID" 2>/dev/null
    check "$1: teamd -k removed the bond" wait_wall 10 no_team0
    check "$1: p0 released" sh -c '! ip -o link show p0 | grep -q master'
}

# lose NAME PORT [ACTIVE_AFTER]: PORT's peer goes down; bonding and teamdctl see it, the
# peer still answers (on the other port), then PORT comes back.
lose() {
    local name=$1 p=$2
    ip -n peer link set "b${p#p}" down
    check "$name: bonding sees $p down" wait_wall 15 mii_is "$p" down
    check "$name: teamdctl shows $p's link down" wait_wall 5 item_is "ports.$p.link_watches.up" false
    if [ -n "${3:-}" ]; then
        check "$name: teamdctl shows $3 active with $p lost" wait_wall 5 item_is runner.active_port "$3"
    fi
    check "$name: the peer answers with $p lost" wait_wall 10 pings
    ip -n peer link set "b${p#p}" up
    check "$name: bonding sees $p up again" wait_wall 15 mii_is "$p" up
    check "$name: teamdctl shows $p's link up" wait_wall 5 item_is "ports.$p.link_watches.up" true
    check "$name: the peer answers with both ports" wait_wall 20 pings
}

say "== refused: settings bonding cannot do"
printf '%s\n' '{"device": "team0", "runner": {"name": "random"},
    "link_watch": {"name": "nsna_ping", "target_host": "fe80::2"},
    "ports": {"p0": {"queue_id": 1}, "p1": {}}}' >/tmp/refused.conf
"$TEAMD" -f /tmp/refused.conf --backend bond 2>/tmp/refused.err
rc=$?
cat /tmp/refused.err
check "refused: teamd exits non-zero" test "$rc" != 0
for key in runner.name link_watch ports.p0.queue_id; do
    check "refused: the message names $key" grep -qF "\"$key\"" /tmp/refused.err
done
check "refused: nothing created" no_team0
check "refused: the ports stay free" sh -c '! ip -o link show p0 | grep -q master'

say "== activebackup (ethtool watch), --backend bond"
start_bond ab '{"device": "team0", "runner": {"name": "activebackup"},
    "link_watch": {"name": "ethtool"},
    "ports": {"p0": {"prio": 10}, "p1": {"prio": 5}}}' --backend bond
check_eq active-backup "$(opt mode)" "ab: bonding mode"
check_eq 100 "$(opt miimon)" "ab: bonding miimon"
check_eq p0 "$(opt primary)" "ab: p0 (prio 10) primary"
check "ab: the peer answers across team0" wait_wall 30 pings
"$CTL" team0 state | tee /tmp/ab.state
check "ab: teamdctl state names the runner" grep -q "runner: activebackup" /tmp/ab.state
check "ab: teamdctl state lists p0 and p1" sh -c 'grep -q "^  p0" /tmp/ab.state && grep -q "^  p1" /tmp/ab.state'
check "ab: teamdctl state shows p0 active" grep -q "active port: p0" /tmp/ab.state
check_eq activebackup "$(item setup.runner_name)" "ab: state item setup.runner_name"
# speed and duplex come from ethtool's netlink family, as teamd's ethtool query has them
check_eq "$(</sys/class/net/p0/speed)" "$(item ports.p0.link.speed)" "ab: p0's speed (sysfs vs state)"
check_eq "$(</sys/class/net/p0/duplex)" "$(item ports.p0.link.duplex)" "ab: p0's duplex (sysfs vs state)"
"$CTL" team0 state dump >/tmp/ab.json
grep -A3 '"setup"' /tmp/ab.json
check "ab: state dump names the bond backend" grep -q '"backend": "bond"' /tmp/ab.json
"$CTL" team0 config dump >/tmp/ab.config
check "ab: config dump is the config" grep -q activebackup /tmp/ab.config
lose ab p0 p1
check "ab: p0 (primary) active again" wait_wall 10 item_is runner.active_port p0
"$CTL" team0 port remove p1 || fail "ab: port remove p1 failed"
check "ab: port remove releases p1" wait_wall 5 sh -c "[ \"\$(cat $SYS/slaves)\" = p0 ]"
check "ab: p1 gone from the state" sh -c '! '"$CTL"' team0 port present p1'
"$CTL" team0 port add p1 || fail "ab: port add p1 failed"
check "ab: port add enslaves p1" wait_wall 5 sh -c "[ \"\$(cat $SYS/slaves)\" = 'p0 p1' ]"
check "ab: p1 back in the state" "$CTL" team0 port present p1
check "ab: the peer answers after port remove/add" wait_wall 20 pings
stop_bond ab

say "== activebackup (arp_ping watch with validation, p1 sticky), --backend bond"
# p1's far end comes up once p0 is active: whichever port the ARP monitor finds up first
# would stay active (primary_reselect=failure, from p1's sticky)
ip -n peer link set b1 down
start_bond ab-arp '{"device": "team0", "runner": {"name": "activebackup"},
    "link_watch": {"name": "arp_ping", "target_host": "192.0.2.2", "interval": 100,
        "validate_active": true, "validate_inactive": true},
    "ports": {"p0": {"prio": 10}, "p1": {"prio": 5, "sticky": true}}}' --backend bond
check_eq active-backup "$(opt mode)" "ab-arp: bonding mode"
check_eq 0 "$(opt miimon)" "ab-arp: no MII monitor"
check_eq 100 "$(opt arp_interval)" "ab-arp: arp_interval from the interval"
check_eq 192.0.2.2 "$(opt arp_ip_target)" "ab-arp: arp_ip_target from target_host"
check_eq all "$(opt arp_validate)" "ab-arp: arp_validate from validate_active/inactive"
check_eq failure "$(opt primary_reselect)" "ab-arp: primary_reselect=failure (p1 sticky)"
check "ab-arp: p0 active" wait_wall 15 item_is runner.active_port p0
ip -n peer link set b1 up
check "ab-arp: bonding sees p1 up" wait_wall 15 mii_is p1 up
check "ab-arp: the peer answers across team0" wait_wall 30 pings
lose ab-arp p0 p1
check_eq p1 "$(item runner.active_port)" "ab-arp: p1 (sticky) keeps the role with p0 back"
stop_bond ab-arp

say "== roundrobin, --backend bond"
start_bond rr '{"device": "team0", "runner": {"name": "roundrobin"},
    "link_watch": {"name": "ethtool"}, "ports": {"p0": {}, "p1": {}}}' --backend bond
check_eq balance-rr "$(opt mode)" "rr: bonding mode"
check "rr: the peer answers across team0" wait_wall 30 pings
check "rr: teamdctl state names the runner" sh -c "$CTL team0 state | grep -q 'runner: roundrobin'"
lose rr p1
stop_bond rr

say "== loadbalance (tx hash), --backend bond"
start_bond lb '{"device": "team0", "runner": {"name": "loadbalance", "tx_hash": ["l3", "l4"]},
    "link_watch": {"name": "ethtool"}, "ports": {"p0": {}, "p1": {}}}' --backend bond
check_eq balance-tlb "$(opt mode)" "lb: bonding mode"
check_eq layer3+4 "$(opt xmit_hash_policy)" "lb: xmit_hash_policy from tx_hash"
check_eq 0 "$(opt tlb_dynamic_lb)" "lb: static hashing (no balancer)"
check "lb: the peer answers across team0" wait_wall 30 pings
check "lb: teamdctl state names the runner" sh -c "$CTL team0 state | grep -q 'runner: loadbalance'"
active=$(opt active_slave)
lose lb "${active:-p0}"
stop_bond lb

say "== lacp against a peer 802.3ad bond, --backend bond"
bridge_peer_release 2
peer_bond 2
start_bond lacp '{"device": "team0", "runner": {"name": "lacp", "fast_rate": true,
    "tx_hash": ["eth", "l3"]}, "link_watch": {"name": "ethtool"},
    "ports": {"p0": {}, "p1": {}}}' --backend bond
check_eq 802.3ad "$(opt mode)" "lacp: bonding mode"
check_eq fast "$(opt lacp_rate)" "lacp: lacp_rate"
check_eq layer2+3 "$(opt xmit_hash_policy)" "lacp: xmit_hash_policy"
aggregated() { grep -q "Number of ports: $1" /proc/net/bonding/team0; }
check "lacp: both ports in the active aggregator" wait_wall 30 aggregated 2
check "lacp: the peer's bond aggregates both" wait_wall 30 \
    ip netns exec peer grep -q "Number of ports: 2" /proc/net/bonding/bond0
check "lacp: the peer answers across team0" wait_wall 30 pings
"$CTL" team0 state | tee /tmp/lacp.state
check "lacp: teamdctl state names the runner" grep -q "runner: lacp" /tmp/lacp.state
check "lacp: teamdctl state shows fast rate" grep -q "fast rate: yes" /tmp/lacp.state
check "lacp: p0 selected" wait_wall 10 item_is ports.p0.runner.selected true
check "lacp: p1 selected" wait_wall 10 item_is ports.p1.runner.selected true
lose lacp p0
check "lacp: both ports aggregated again" wait_wall 30 aggregated 2
stop_bond lacp
ip -n peer link del bond0

say "== automatic fallback: no team driver can be loaded"
for i in 0 1; do ip -n peer link set "b$i" master br0 && ip -n peer link set "b$i" up; done
ip -n peer addr add 192.0.2.2/24 dev br0
for m in team_mode_activebackup team_mode_roundrobin team_mode_loadbalance \
    team_mode_broadcast team_mode_random team team_rs; do
    rmmod "$m" 2>/dev/null
done
echo "install team /bin/false" >/etc/modprobe.d/rteam-no-team.conf
check "fallback: team devices cannot be created" sh -c '! ip link add tcheck type team'
start_bond fallback '{"device": "team0", "runner": {"name": "activebackup"},
    "link_watch": {"name": "ethtool"}, "ports": {"p0": {"prio": 10}, "p1": {}}}'
check "fallback: the log says teamd fell back to a bond" \
    grep -q 'kind "team" unsupported.*bond backend' "$LOG"
check_eq active-backup "$(opt mode)" "fallback: bonding mode"
check "fallback: the peer answers across team0" wait_wall 30 pings
check "fallback: teamdctl state shows p0 active" wait_wall 10 item_is runner.active_port p0
lose fallback p0 p1
stop_bond fallback
rm -f /etc/modprobe.d/rteam-no-team.conf

echo "--- teamd log"
cat "$LOG"
echo "teamd-bond-backend: $CHECKS checks passed in $(($EPOCHSECONDS - t_start)) s"

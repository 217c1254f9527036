#!/bin/bash
# convert-bond: `teamd-convert to-bond --to ip` turns a teamd config into `ip link` commands
# for a bond; run here, they must give a bond whose options (/sys/class/net/bond0/bonding/)
# are what the team asked for, which passes traffic and survives the loss of a port, as the
# team would. One case per runner/link watch pair bonding can express:
#   ab-ethtool   activebackup + ethtool (delay_up, notify_peers, prios), converted from our
#                teamd's `teamdctl team0 config dump actual` on stdin after that team
#                carried traffic itself: active-backup, miimon, updelay, num_grat_arp,
#                primary; the active port's loss moves to p1, its return back to p0
#   ab-arp       activebackup + arp_ping (interval, target, validation; p1 sticky):
#                arp_interval, arp_ip_target, arp_validate, primary_reselect=failure; p1
#                takes over and keeps the role when p0 returns (sticky)
#   roundrobin   balance-rr + miimon; both ports transmit; one port's loss
#   loadbalance  balance-tlb, static hash (tlb_dynamic_lb 0), tx_hash l3+l4 → layer3+4;
#                the active (receiving) port's loss
#   lacp         802.3ad, lacp_rate fast, layer2+3, min_links, against bonding 802.3ad in
#                the peer: both ports aggregate with it; one port's loss
# Settings bonding cannot carry (runner random, link watch nsna_ping) make to-bond exit
# non-zero naming the setting, with nothing on stdout, no file written with --out, and no
# bond created when its output is run anyway.
#
#   guest                                  netns "peer"
#   bond0 192.0.2.1/24 ─┬─ p0 ═══ b0 ──┐
#   (team0 first)       └─ p1 ═══ b1 ──┴─ br0, for lacp bond0 (802.3ad)  192.0.2.2/24
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
source /opt/rteam/tests/guest/lacp.sh
# for wait_wall (no NetworkManager here)
source /opt/rteam/tests/guest/nm-lib.sh

CONV=/opt/rteam/bin/teamd-convert
[ -x "$CONV" ] || fail "$CONV missing"
SYS=/sys/class/net/bond0/bonding
t_start=$EPOCHSECONDS

pings() { peer_answers 2>/dev/null; }
opt() { bond_opt bond0 "$1"; }
active_is() { [ "$(opt active_slave)" = "$1" ]; }
no_bond() { [ -z "$(ip -o link show type bond)" ]; }

bridge_peer 2
mkdir -p /tmp/cfg

say "== settings bonding cannot carry"
# refused NAME SETTING CONFIG: to-bond fails naming SETTING and creates nothing
refused() {
    local name=$1 setting=$2 rc
    printf '%s\n' "$3" >"/tmp/cfg/$name.json"
    "$CONV" to-bond "/tmp/cfg/$name.json" --to ip --rename bond0 >"/tmp/$name.out" 2>"/tmp/$name.err"
    rc=$?
    cat "/tmp/$name.err"
    check "$name: to-bond --to ip exits non-zero" test "$rc" != 0
    check "$name: the message names $setting" grep -qF -- "$setting" "/tmp/$name.err"
    check_eq "" "$(<"/tmp/$name.out")" "$name: nothing on stdout"
    "$CONV" to-bond "/tmp/cfg/$name.json" --to ip --rename bond0 2>/dev/null | sh
    check "$name: its output run by sh creates no bond" no_bond
    "$CONV" to-bond "/tmp/cfg/$name.json" --to nm --out "/tmp/$name.nm" 2>/dev/null
    check "$name: --to nm --out writes no file" test -z "$(find "/tmp/$name.nm" -type f 2>/dev/null)"
}
refused random '"runner.name"' '{"device": "team0", "runner": {"name": "random"},
    "link_watch": {"name": "ethtool"}, "ports": {"p0": {}, "p1": {}}}'
check "random: the message names the runner" grep -q random /tmp/random.err
refused nsna '"link_watch"' '{"device": "team0", "runner": {"name": "activebackup"},
    "link_watch": {"name": "nsna_ping", "target_host": "fe80::2", "interval": 100},
    "ports": {"p0": {}, "p1": {}}}'
check "nsna: the message names nsna_ping" grep -q nsna_ping /tmp/nsna.err

# to_bond NAME SRC: `to-bond SRC --to ip --rename bond0` (SRC a file, or - for stdin), its
# output shown and run, bond0 addressed.
to_bond() {
    local name=$1 src=$2 out
    "$CONV" to-bond "$src" --to ip --rename bond0 >"/tmp/$name.sh" 2>"/tmp/$name.err" ||
        fail "$name: to-bond failed: $(<"/tmp/$name.err")"
    cat "/tmp/$name.sh" "/tmp/$name.err"
    out=$(sh "/tmp/$name.sh" 2>&1) || fail "$name: the ip commands failed: $out"
    check_eq "" "$out" "$name: the ip commands run (silently)"
    ip addr add 192.0.2.1/24 dev bond0 || fail "$name: cannot address bond0"
}

# options NAME OPTION=VALUE...: bond0's bonding options as sysfs shows them
options() {
    local name=$1 kv
    shift
    for kv in "$@"; do
        check_eq "${kv#*=}" "$(opt "${kv%%=*}")" "$name: bonding ${kv%%=*} is ${kv#*=}"
    done
    check_eq "p0 p1" "$(<"$SYS/slaves")" "$name: p0 and p1 enslaved"
}

# lose NAME PORT [DURING AFTER]: PORT's far end goes down: bonding marks it down (and with
# DURING, makes that port the active one) and the peer still answers; then it comes back up
# (and with AFTER, that port is the active one).
lose() {
    local name=$1 p=$2
    ip -n peer link set "b${p#p}" down
    check "$name: bonding sees $p down" wait_wall 15 mii_is "$p" down
    if [ -n "${3:-}" ]; then
        wait_wall 5 active_is "$3"
        check_eq "$3" "$(opt active_slave)" "$name: $3 active with $p lost"
    fi
    check "$name: the peer answers with $p lost" pings
    ip -n peer link set "b${p#p}" up
    check "$name: bonding sees $p up again" wait_wall 15 mii_is "$p" up
    if [ -n "${4:-}" ]; then
        wait_wall 5 active_is "$4"
        check_eq "$4" "$(opt active_slave)" "$name: $4 active with $p back"
    fi
    check "$name: the peer answers with both ports" wait_wall 20 pings
}

del_bond() {
    ip link del bond0
    check "bond0 deleted" wait_wall 10 no_bond
}

say "== ab-ethtool: our teamd first, then its config dump as a bond"
start_team rteam '{"device": "team0", "runner": {"name": "activebackup"},
    "link_watch": {"name": "ethtool", "delay_up": 100}, "notify_peers": {"count": 2},
    "ports": {"p0": {"prio": 10}, "p1": {"prio": 5}}}' p0 p1
bring_up p0 p1 >/dev/null
check "ab-ethtool: the peer answers across team0" wait_wall 30 pings
"$CTL" team0 config dump actual >/tmp/cfg/ab-ethtool.json || fail "no config dump"
stop_team
cat /tmp/cfg/ab-ethtool.json
to_bond ab-ethtool - </tmp/cfg/ab-ethtool.json
options ab-ethtool mode=active-backup miimon=100 updelay=100 num_grat_arp=2 arp_interval=0 \
    primary=p0
check "ab-ethtool: the peer answers across bond0" wait_wall 30 pings
check_eq p0 "$(opt active_slave)" "ab-ethtool: p0 (prio 10) active"
lose ab-ethtool p0 p1 p0
del_bond

say "== ab-arp"
printf '%s\n' '{"device": "team0", "runner": {"name": "activebackup"},
    "link_watch": {"name": "arp_ping", "target_host": "192.0.2.2", "interval": 100,
        "missed_max": 2, "validate_active": true, "validate_inactive": true},
    "ports": {"p0": {"prio": 10}, "p1": {"prio": 5, "sticky": true}}}' >/tmp/cfg/ab-arp.json
# p1's far end comes up once p0 is active: with primary_reselect=failure (teamd: sticky
# p1) whichever port the ARP monitor finds up first stays active
ip -n peer link set b1 down
to_bond ab-arp /tmp/cfg/ab-arp.json
options ab-arp mode=active-backup miimon=0 arp_interval=100 arp_ip_target=192.0.2.2 \
    arp_validate=all primary=p0 primary_reselect=failure
check "ab-arp: p0 becomes active" wait_wall 15 active_is p0
ip -n peer link set b1 up
check "ab-arp: bonding sees p1 up" wait_wall 15 mii_is p1 up
check "ab-arp: the peer answers across bond0" wait_wall 30 pings
check_eq p0 "$(opt active_slave)" "ab-arp: p0 (prio 10) still active"
# p1 is sticky: it keeps the role when p0 comes back
lose ab-arp p0 p1 p1
del_bond

say "== roundrobin"
printf '%s\n' '{"device": "team0", "runner": {"name": "roundrobin"},
    "link_watch": {"name": "ethtool"}, "ports": {"p0": {}, "p1": {}}}' >/tmp/cfg/rr.json
to_bond roundrobin /tmp/cfg/rr.json
options roundrobin mode=balance-rr miimon=100
check "roundrobin: the peer answers across bond0" wait_wall 30 pings
tx0=$(</sys/class/net/p0/statistics/tx_packets)
tx1=$(</sys/class/net/p1/statistics/tx_packets)
ping -c 10 -i 0.1 -W 2 192.0.2.2 >/dev/null
check "roundrobin: p0 transmits" test "$(</sys/class/net/p0/statistics/tx_packets)" -ge $((tx0 + 5))
check "roundrobin: p1 transmits" test "$(</sys/class/net/p1/statistics/tx_packets)" -ge $((tx1 + 5))
lose roundrobin p1
del_bond

say "== loadbalance"
printf '%s\n' '{"device": "team0", "runner": {"name": "loadbalance", "tx_hash": ["l3", "l4"]},
    "link_watch": {"name": "ethtool"}, "ports": {"p0": {}, "p1": {}}}' >/tmp/cfg/lb.json
to_bond loadbalance /tmp/cfg/lb.json
options loadbalance mode=balance-tlb tlb_dynamic_lb=0 xmit_hash_policy=layer3+4 miimon=100
check "loadbalance: the peer answers across bond0" wait_wall 30 pings
# the active port receives: losing it is the failover that matters
active=$(opt active_slave)
other=p1
[ "$active" = p1 ] && other=p0
lose loadbalance "$active" "$other"
del_bond

say "== lacp: peer bridge -> bonding 802.3ad"
bridge_peer_release 2
peer_bond 2
printf '%s\n' '{"device": "team0", "runner": {"name": "lacp", "fast_rate": true,
    "tx_hash": ["eth", "l3"], "min_ports": 1}, "link_watch": {"name": "ethtool"},
    "ports": {"p0": {}, "p1": {}}}' >/tmp/cfg/lacp.json
to_bond lacp /tmp/cfg/lacp.json
options lacp mode=802.3ad lacp_rate=fast xmit_hash_policy=layer2+3 min_links=1 miimon=100
aggregated() { grep -q "Number of ports: $1" /proc/net/bonding/bond0; }
check "lacp: both ports in the active aggregator" wait_wall 30 aggregated 2
check "lacp: the peer's bond aggregates both" wait_wall 30 \
    ip netns exec peer grep -q "Number of ports: 2" /proc/net/bonding/bond0
check "lacp: the peer answers across bond0" wait_wall 30 pings
lose lacp p0
check "lacp: both ports aggregated again" wait_wall 30 aggregated 2
del_bond

echo "convert-bond: $CHECKS checks passed in $(($EPOCHSECONDS - t_start)) s"

#!/bin/bash
# lacp-state: what our lacp runner shows through the control interface, against C teamd
# in the same topology (two veth pairs to a C teamd partner): `teamdctl team0 state` plain
# and -v, the StateDump JSON, ConfigDump and ConfigDumpActual (the defaults lacp writes),
# state items and their errors, after aggregation and again once the partner is gone
# (ports expire, then default). MACs, ifindexes and pids are normalised.
# STATUS: not in the suite; see tests/vm/wip/README.md.
#
#   team0 (C or ours) ─┬─ p0 ═══ b0 ─┬─ team1 (C teamd, netns peer)
#                      └─ p1 ═══ b1 ─┘
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
source /opt/rteam/tests/guest/lacp.sh
t_start=$(date +%s)

lacp_topology 2

snapshot() {
    {
        echo "== $1: state"
        "$CTL" team0 state
        echo "== $1: state -v"
        "$CTL" -v team0 state
        echo "== $1: state dump"
        "$CTL" team0 state dump
    } >>"$OUT"
}

run() {
    local impl=$1 i
    OUT=/tmp/state.$impl
    : >"$OUT"
    say "peer teamd"
    peer_teamd '{"device": "team1", "runner": {"name": "lacp", "fast_rate": true, "sys_prio": 100},
        "ports": {"b0": {"lacp_prio": 7}, "b1": {}}}' b0 b1
    say "start team"
    start_team "$impl" '{"device": "team0", "runner": {"name": "lacp", "fast_rate": true,
        "tx_balancer": {"name": "basic"}, "agg_select_policy": "lacp_prio_stable"},
        "ports": {"p0": {"lacp_prio": 20, "lacp_key": 3}, "p1": {"lacp_key": 3, "prio": -2}}}' p0 p1
    {
        echo "== config dump"
        "$CTL" team0 config dump
        echo "== config dump actual"
        "$CTL" team0 config dump actual
    } >>"$OUT"
    say "snapshot ports down"
    snapshot "ports down"
    say "bring up"
    bring_up p0 p1 >/dev/null
    wait_enabled p0 true 20
    wait_enabled p1 true 20
    say "enabled"
    sleep 2.5
    snapshot "aggregated"
    say "items"
    for i in ports.p0.runner.aggregator.id ports.p1.runner.actor_lacpdu_info.port_priority \
        ports.p0.runner.partner_lacpdu_info.system_priority runner.select_policy \
        runner.sys_prio ports.p1.runner.prio ports.p1.runner.key; do
        echo "get $i: $(item "$i"; echo " rc=$?")" >>"$OUT"
    done
    for v in false true TRUE maybe; do
        echo "set aggregator.selected $v: $("$CTL" team0 state item set ports.p1.runner.aggregator.selected "$v" 2>&1; echo " rc=$?")" >>"$OUT"
    done
    echo "set runner.active: $("$CTL" team0 state item set runner.active false 2>&1; echo " rc=$?")" >>"$OUT"
    sleep 0.5
    echo "after set: p1 aggregator selected $(item ports.p1.runner.aggregator.selected)" >>"$OUT"
    # the partner goes away: expired after 3 s, defaulted 3 s later
    say "stop peer"
    stop_peer_teamd
    say "peer stopped"
    wait_item ports.p0.runner.state expired 10
    snapshot "partner gone (expired)"
    wait_item ports.p0.runner.state defaulted 10
    wait_item ports.p1.runner.state defaulted 10
    snapshot "partner gone (defaulted)"
    echo "carrier: $(cat /sys/class/net/team0/carrier)" >>"$OUT"
    say "team down"
    ip link set team0 down
    sleep 0.5
    snapshot "team down"
    say "stop team"
    stop_team
    say "stopped"
}

for impl in C rteam; do
    say "== $impl"
    run "$impl"
done
cat /tmp/state.C
same "lacp state, config and items" /tmp/state
echo "lacp-state: $CHECKS checks passed in $(($(date +%s) - t_start)) s"

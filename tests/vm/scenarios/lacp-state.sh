#!/bin/bash
# lacp-state: what our lacp runner shows through the control interface, against C teamd
# in the same topology (two veth pairs to a C teamd partner): `teamdctl team0 state` plain
# and -v, the StateDump JSON, ConfigDump and ConfigDumpActual (the defaults lacp writes),
# state items and their errors: with team0 still down (the partner heard, not answered),
# once aggregated, while the partner is silent (ports expire, then default) and with team0
# down again. Each snapshot is taken once the LACP exchange has settled, so the two runs
# see the same states. MACs, ifindexes and pids are normalised.
#
#   team0 (C or ours) ─┬─ p0 ═══ b0 ─┬─ team1 (C teamd, netns peer)
#                      └─ p1 ═══ b1 ─┘
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
source /opt/rteam/tests/guest/lacp.sh
t_start=$EPOCHSECONDS

lacp_topology 2

# snapshot NAME: the three state views, aggregator ids named, on stdout.
snapshot() {
    {
        echo "== $1: state"
        "$CTL" team0 state
        echo "== $1: state -v"
        "$CTL" -v team0 state
        echo "== $1: state dump"
        "$CTL" team0 state dump
    } | sed -E -f <(agg_names)
}

# logged_in_order LOG N A B: after line N of LOG, a line containing A, later one containing B.
logged_in_order() {
    tail -n +"$(($2 + 1))" "$1" |
        awk -v a="$3" -v b="$4" 'seen && index($0, b) { ok = 1 } index($0, a) { seen = 1 } END { exit !ok }'
}

run() {
    local impl=$1 i t0 t1 p
    OUT=/tmp/state.$impl
    : >"$OUT"
    peer_teamd '{"device": "team1", "runner": {"name": "lacp", "fast_rate": true, "sys_prio": 100},
        "ports": {"b0": {"lacp_prio": 7}, "b1": {}}}' b0 b1
    start_team "$impl" '{"device": "team0", "runner": {"name": "lacp", "fast_rate": true,
        "tx_balancer": {"name": "basic"}, "agg_select_policy": "lacp_prio_stable"},
        "ports": {"p0": {"lacp_prio": 20, "lacp_key": 3}, "p1": {"lacp_key": 3, "prio": -2}}}' p0 p1
    {
        echo "== config dump"
        "$CTL" team0 config dump
        echo "== config dump actual"
        "$CTL" team0 config dump actual
    } >>"$OUT"
    # team0 is down, but enslaving opened the ports: the partner is heard (current,
    # selected) and, hearing nothing back, defaults
    wait_settled silent 20 p0 p1
    CHECKS=$((CHECKS + 1))
    settled_record silent "p0 p1" "$OUT" snapshot "team down, partner heard"
    t0=$(bring_up p0 p1)
    check "$impl: p0 enabled" wait_enabled p0 true 20
    check "$impl: p1 enabled" wait_enabled p1 true 20
    t1=$EPOCHREALTIME
    wait_settled up 20 p0 p1
    CHECKS=$((CHECKS + 1))
    say "$impl: both ports enabled $(python3 -c "print('%.3f' % ($t1 - $t0))") s after bring-up, settled after $(python3 -c "print('%.3f' % ($EPOCHREALTIME - $t0))") s"
    settled_record up "p0 p1" "$OUT" snapshot "aggregated"
    for i in ports.p0.runner.aggregator.id ports.p1.runner.actor_lacpdu_info.port_priority \
        ports.p0.runner.partner_lacpdu_info.system_priority runner.select_policy \
        runner.sys_prio ports.p1.runner.prio ports.p1.runner.key; do
        echo "get $i: $(item "$i"; echo " rc=$?")" | sed -E -f <(agg_names) >>"$OUT"
    done
    for v in false true TRUE maybe; do
        echo "set aggregator.selected $v: $("$CTL" team0 state item set ports.p1.runner.aggregator.selected "$v" 2>&1; echo " rc=$?")" >>"$OUT"
    done
    echo "set runner.active: $("$CTL" team0 state item set runner.active false 2>&1; echo " rc=$?")" >>"$OUT"
    # the selection runs as deferred work after the reply
    sleep 0.5
    echo "after set: p1 aggregator selected $(item ports.p1.runner.aggregator.selected)" >>"$OUT"
    # the partner falls silent, links up: expired after 3 s, defaulted 3 s later (expired
    # is passed through, not compared: 3 s is too short a window for a snapshot under TCG)
    local log=/tmp/teamd.$impl.log mark
    mark=$(wc -l <"$log")
    peer_silence
    check "$impl: p0 defaults" wait_item ports.p0.runner.state defaulted 10
    check "$impl: p1 defaults" wait_item ports.p1.runner.state defaulted 10
    for p in p0 p1; do
        check "$impl: $p expired, then defaulted" logged_in_order "$log" "$mark" \
            "$p: Changed port state: \"current\" -> \"expired\"" \
            "$p: Changed port state: \"expired\" -> \"defaulted\""
    done
    snapshot "partner silent (defaulted)" >>"$OUT"
    echo "carrier: $(</sys/class/net/team0/carrier)" >>"$OUT"
    ip link set team0 down
    check "$impl: p0 disabled" wait_item ports.p0.runner.state disabled 10
    check "$impl: p1 disabled" wait_item ports.p1.runner.state disabled 10
    snapshot "team down" >>"$OUT"
    stop_team
    stop_peer_teamd
}

for impl in C rteam; do
    say "== $impl"
    run "$impl"
done
cat /tmp/state.C
same "lacp state, config and items" /tmp/state
echo "lacp-state: $CHECKS checks passed in $(($EPOCHSECONDS - t_start)) s"

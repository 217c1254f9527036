#!/bin/bash
# lacp-interop-teamd: our lacp runner and C teamd's, each against a C teamd partner in
# another namespace over two veth pairs, in every active/passive direction and at both
# rates. Every case runs with C teamd as the team under test first, then ours; the ports'
# enabled options, the lacp state items of both ends, `teamdctl state` and a ping are
# recorded and diffed. Convergence (team and ports up → every port enabled, from
# `teamnl team0 monitor` events) is measured for both and printed.
#
#   team0 (C or ours) ─┬─ p0 ═══ b0 ─┬─ team1 (C teamd, netns peer)
#                      └─ p1 ═══ b1 ─┘
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
source /opt/rteam/tests/guest/lacp.sh
t_start=$EPOCHSECONDS

lacp_topology 2
: >/tmp/conv

# run_case NAME OUR_RUNNER_JSON PEER_RUNNER_JSON IMPL
run_case() {
    local name=$1 ours=$2 theirs=$3 impl=$4 t0 conv p out=/tmp/$1.$4
    : >"$out"
    peer_teamd "{\"device\": \"team1\", \"runner\": $theirs, \"ports\": {\"b0\": {}, \"b1\": {}}}" b0 b1
    start_team "$impl" "{\"device\": \"team0\", \"runner\": $ours, \"ports\": {\"p0\": {}, \"p1\": {}}}" p0 p1
    monitor_start
    t0=$(bring_up p0 p1)
    for p in p0 p1; do wait_enabled "$p" true 20 || echo "$p: not enabled after 20 s" >>"$out"; done
    conv=$(converged_at "$t0" p0 p1)
    monitor_stop
    cp /tmp/mon "/results/mon.$name.$impl"
    echo "$name: $impl converged in $conv s" | tee -a /tmp/conv
    # let the periodic exchange settle before comparing
    sleep 1.5
    "$NL" team0 options | grep -F ' enabled ' | sed 's/^/ours: /' >>"$out"
    ip netns exec peer "$NL" team1 options | grep -F ' enabled ' | sed 's/^/peer: /' >>"$out"
    ip netns exec peer "$CTL" team1 state | sed 's/^/peer: /' >>"$out"
    if peer_answers; then
        echo "ping: ok" >>"$out"
    else
        echo "ping: FAILED" >>"$out"
    fi
    "$CTL" team0 state >>"$out"
    stop_team
    stop_peer_teamd
}

ACTIVE_FAST='{"name": "lacp", "active": true, "fast_rate": true}'
PASSIVE_FAST='{"name": "lacp", "active": false, "fast_rate": true}'
ACTIVE_SLOW='{"name": "lacp", "active": true, "fast_rate": false}'
PASSIVE_SLOW='{"name": "lacp", "active": false, "fast_rate": false}'

cases=(
    "fast-active-vs-passive|$ACTIVE_FAST|$PASSIVE_FAST"
    "fast-passive-vs-active|$PASSIVE_FAST|$ACTIVE_FAST"
    "slow-active-vs-passive|$ACTIVE_SLOW|$PASSIVE_SLOW"
    "slow-passive-vs-active|$PASSIVE_SLOW|$ACTIVE_SLOW"
)
for c in "${cases[@]}"; do
    IFS='|' read -r name ours theirs <<<"$c"
    say "== $name"
    for impl in C rteam; do run_case "$name" "$ours" "$theirs" "$impl"; done
    cat "/tmp/$name.C"
    same "$name" "/tmp/$name"
    # not only the same as C: both ends aggregated every port
    for p in p0 p1; do
        grep -qE "^ours: +enabled \(port:$p\) true" "/tmp/$name.rteam" || fail "$name: rteam $p not enabled"
    done
    for p in b0 b1; do
        grep -qE "^peer: +enabled \(port:$p\) true" "/tmp/$name.rteam" || fail "$name: partner $p not enabled"
    done
    [ "$(grep -c '      selected: yes' "/tmp/$name.rteam")" = 4 ] || fail "$name: not every port selected on both ends"
    grep -qx "ping: ok" "/tmp/$name.rteam" || fail "$name: no ping over the team"
    CHECKS=$((CHECKS + 1))
done

echo "== convergence (team and ports up -> all ports enabled)"
cat /tmp/conv
echo "lacp-interop-teamd: $CHECKS checks passed in $(($EPOCHSECONDS - t_start)) s"

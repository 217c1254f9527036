#!/bin/bash
# kmod bench (guest side, on our own kernel with no team driver loaded): traffic over a
# 2-port team, C team.ko against the Rust team_rs.ko, in this one boot. For each driver and
# mode (roundrobin, activebackup, loadbalance): team0 here and team1 in netns "far", both
# set up by rteam's teamd, their ports paired by veths; then iperf3 TCP throughput and UDP
# packet rate (64-byte payloads) from team0 to team1, BENCH_KMOD_SECS each.
# BENCH_KMOD_REPS rounds, each one run of every mode on each driver, the drivers' order
# swapped every round (C first, then team_rs first): the host is shared and its load
# drifts over minutes, so a driver measured in one block after the other would carry
# that drift into the ratio; interleaved, both see the same spread.
# Written to /results: samples/kmod_{tcp,udp}_MODE.{C,rteam}.txt (C = team.ko, rteam =
# team_rs.ko; one run a line: Mbit/s, kpackets/s received), offloads/ethtool.{C,rteam}.txt
# (`ethtool -k team0` with both ports in, first round and mode) and
# offloads/limits.{C,rteam}.txt (`NAME VALUE` lines: the GSO/TSO/GRO limits, MTU range and
# queue counts of `ip -d link`), which the report sets side by side; notes.txt, meta.txt.
# BENCH_KMOD_MODES: the modes to run (default all three; for development).
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

REPS=${BENCH_KMOD_REPS:-5}
SECS=${BENCH_KMOD_SECS:-4}
KMODS=/opt/rteam/job/kmods
TEAMD=/opt/rteam/bin/teamd
R=/results
MODES=${BENCH_KMOD_MODES:-roundrobin activebackup loadbalance}
mkdir -p $R/samples $R/offloads
: >$R/notes.txt
{
    echo "kmod_kernel $(uname -r)"
    echo "kmod_reps $REPS"
    echo "kmod_secs $SECS"
    if [ -n "${BENCH_KMOD_ICOUNT:-}" ]; then
        echo "kmod_clock instruction-counted (qemu icount, shift $BENCH_KMOD_ICOUNT)"
    else
        echo "kmod_clock the host's"
    fi
} >$R/meta.txt
note() { echo "$1 $2 $3" >>$R/notes.txt; echo "  note: $*"; }

mk_netns far
for i in 0 1; do
    mk_veth_pair "p$i" "f$i"
    ip link set "f$i" netns far
done
ip netns exec far iperf3 -s -D || fail "no iperf3 server"

load() {
    case $1 in
    C)
        insmod "$KMODS/team.ko" || return 1
        for m in activebackup broadcast loadbalance random roundrobin; do
            insmod "$KMODS/team_mode_$m.ko" || return 1
        done ;;
    rteam) insmod "$KMODS/team_rs.ko" ;;
    esac
}
unload() {
    case $1 in
    C)
        for m in activebackup broadcast loadbalance random roundrobin; do rmmod "team_mode_$m"; done
        rmmod team ;;
    rteam) rmmod team_rs ;;
    esac
}

team_conf() { # DEV PORT-PREFIX MODE
    local runner="{\"name\": \"$3\"}"
    [ "$3" = loadbalance ] && runner='{"name": "loadbalance", "tx_hash": ["eth", "ipv4", "l4"]}'
    printf '{"device": "%s", "runner": %s, "link_watch": {"name": "ethtool"},
        "ports": {"%s0": {"prio": 10}, "%s1": {}}}\n' "$1" "$runner" "$2" "$2"
}

# measure IMPL MODE: one run of each figure (team0 and team1 already up)
measure() {
    local impl=$1 mode=$2 out tcp udp
    # 4 TCP streams: roundrobin and loadbalance can spread them over both ports
    out=$(iperf3 -c 192.0.2.2 -t "$SECS" -P 4 -J 2>/dev/null)
    tcp=$(echo "$out" | jq -r '.end.sum_received.bits_per_second / 1e6' 2>/dev/null)
    out=$(iperf3 -c 192.0.2.2 -u -b 0 -l 64 -t "$SECS" -J 2>/dev/null)
    udp=$(echo "$out" | jq -r '(.end.sum.packets - .end.sum.lost_packets) / .end.sum.seconds / 1e3' 2>/dev/null)
    echo "$tcp" >>"$R/samples/kmod_tcp_$mode.$impl.txt"
    echo "$udp" >>"$R/samples/kmod_udp_$mode.$impl.txt"
    printf '  %-5s %-12s tcp %6.0f Mbit/s  udp %6.2f kpkt/s\n' "$impl" "$mode" "${tcp:-0}" "${udp:-0}"
}

# offloads IMPL: what team0 offers the stack under this driver (ports in)
offloads() {
    ethtool -k team0 >"$R/offloads/ethtool.$1.txt" 2>&1
    ip -d -j link show team0 | jq -r '.[0] | to_entries[]
        | select(.key | test("^(gso_|tso_|gro_|num_tx|num_rx|min_mtu|max_mtu)"))
        | "\(.key) \(.value)"' >"$R/offloads/limits.$1.txt" 2>&1
}

# until_ping SECS: the far team answers (activebackup needs its active port chosen)
until_ping() {
    local tries=$1
    while ! ping -c 1 -W 1 192.0.2.2 >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
    done
}

# one_mode IMPL MODE FIRST: team up in MODE, one run, team down
one_mode() {
    local impl=$1 mode=$2 first=$3
    team_conf team0 p "$mode" >/tmp/team0.conf
    team_conf team1 f "$mode" >/tmp/team1.conf
    ip link set p0 down; ip link set p1 down
    ip -n far link set f0 down; ip -n far link set f1 down
    if ! "$TEAMD" -d -f /tmp/team0.conf || ! ip netns exec far "$TEAMD" -d -f /tmp/team1.conf; then
        note "kmod_$mode" "$impl" "teamd did not start"
        down_teams
        return
    fi
    ip addr add 192.0.2.1/24 dev team0
    ip -n far addr add 192.0.2.2/24 dev team1
    ip link set team0 up
    ip -n far link set team1 up
    for i in 0 1; do ip link set "p$i" up; ip -n far link set "f$i" up; done
    if ! until_ping 30; then
        note "kmod_$mode" "$impl" "no traffic over the team"
    else
        [ -n "$first" ] && offloads "$impl"
        measure "$impl" "$mode"
    fi
    down_teams
}

# down_teams: both daemons stopped and both team devices gone (a daemon that died leaves
# its device behind, which the next mode's teamd would find in its way)
down_teams() {
    "$TEAMD" -k -t team0 2>/dev/null
    ip netns exec far "$TEAMD" -k -t team1 2>/dev/null
    local tries=200
    while ip link show team0 >/dev/null 2>&1 || ip -n far link show team1 >/dev/null 2>&1; do
        tries=$((tries - 1))
        if [ "$tries" = 0 ]; then
            ip link del team0 2>/dev/null
            ip -n far link del team1 2>/dev/null
            return
        fi
        sleep 0.1
    done
}

t_start=$(date +%s)
for ((round = 0; round < REPS; round++)); do
    order="C rteam"
    [ $((round % 2)) = 1 ] && order="rteam C"
    echo "== round $((round + 1)) of $REPS: $order ($(($(date +%s) - t_start)) s)"
    for impl in $order; do
        if ! load "$impl"; then
            for mode in $MODES; do note "kmod_$mode" "$impl" "driver did not load"; done
            continue
        fi
        first=
        [ "$round" = 0 ] && first=1
        for mode in $MODES; do
            one_mode "$impl" "$mode" "$first"
            first=
        done
        unload "$impl" || note kmod_unload "$impl" "driver did not unload"
    done
done
echo "kmod bench done ($(($(date +%s) - t_start)) s)"

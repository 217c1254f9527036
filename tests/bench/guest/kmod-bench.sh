#!/bin/bash
# kmod bench (guest side, on our own kernel with no team driver loaded): traffic over a
# 2-port team, C team.ko against the Rust team_rs.ko, in this one boot. For each driver and
# mode (roundrobin, activebackup, loadbalance): team0 here and team1 in netns "far", both
# set up by rteam's teamd, their ports paired by veths; then iperf3 TCP throughput and UDP
# packet rate (64-byte payloads) from team0 to team1, BENCH_KMOD_REPS runs of
# BENCH_KMOD_SECS each.
# Written to /results: samples/kmod_{tcp,udp}_MODE.{C,rteam}.txt (C = team.ko, rteam =
# team_rs.ko; one run a line: Mbit/s, kpackets/s received), notes.txt, meta.txt.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

REPS=${BENCH_KMOD_REPS:-5}
SECS=${BENCH_KMOD_SECS:-4}
KMODS=/opt/rteam/job/kmods
TEAMD=/opt/rteam/bin/teamd
R=/results
mkdir -p $R/samples
: >$R/notes.txt
{
    echo "kmod_kernel $(uname -r)"
    echo "kmod_reps $REPS"
    echo "kmod_secs $SECS"
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

# measure IMPL MODE: the runs of one driver and mode (team0 and team1 already up)
measure() {
    local impl=$1 mode=$2 r out
    for ((r = 0; r < REPS; r++)); do
        # 4 TCP streams: roundrobin and loadbalance can spread them over both ports
        out=$(iperf3 -c 192.0.2.2 -t "$SECS" -P 4 -J 2>/dev/null)
        echo "$out" | jq -r '.end.sum_received.bits_per_second / 1e6' \
            >>"$R/samples/kmod_tcp_$mode.$impl.txt" 2>/dev/null
        out=$(iperf3 -c 192.0.2.2 -u -b 0 -l 64 -t "$SECS" -J 2>/dev/null)
        echo "$out" | jq -r '(.end.sum.packets - .end.sum.lost_packets) / .end.sum.seconds / 1e3' \
            >>"$R/samples/kmod_udp_$mode.$impl.txt" 2>/dev/null
    done
    echo "  $impl $mode: tcp Mbit/s $(tr '\n' ' ' <"$R/samples/kmod_tcp_$mode.$impl.txt")"
    echo "  $impl $mode: udp kpps $(tr '\n' ' ' <"$R/samples/kmod_udp_$mode.$impl.txt")"
}

# until_ping SECS: the far team answers (activebackup needs its active port chosen)
until_ping() {
    local tries=$1
    while ! ping -c 1 -W 1 192.0.2.2 >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
    done
}

t_start=$(date +%s)
for impl in C rteam; do
    echo "== $impl driver ($(($(date +%s) - t_start)) s)"
    if ! load "$impl"; then
        for mode in roundrobin activebackup loadbalance; do note "kmod_$mode" "$impl" "driver did not load"; done
        continue
    fi
    for mode in roundrobin activebackup loadbalance; do
        team_conf team0 p "$mode" >/tmp/team0.conf
        team_conf team1 f "$mode" >/tmp/team1.conf
        ip link set p0 down; ip link set p1 down
        ip -n far link set f0 down; ip -n far link set f1 down
        if ! "$TEAMD" -d -f /tmp/team0.conf || ! ip netns exec far "$TEAMD" -d -f /tmp/team1.conf; then
            note "kmod_$mode" "$impl" "teamd did not start"
            "$TEAMD" -k -t team0 2>/dev/null
            continue
        fi
        ip addr add 192.0.2.1/24 dev team0
        ip -n far addr add 192.0.2.2/24 dev team1
        ip link set team0 up
        ip -n far link set team1 up
        for i in 0 1; do ip link set "p$i" up; ip -n far link set "f$i" up; done
        if ! until_ping 30; then
            note "kmod_$mode" "$impl" "no traffic over the team"
        else
            measure "$impl" "$mode"
        fi
        "$TEAMD" -k -t team0
        ip netns exec far "$TEAMD" -k -t team1
        wait_for -t 20 sh -c '! ip link show team0 && ! ip -n far link show team1'
    done
    unload "$impl" || note kmod_unload "$impl" "driver did not unload"
done
echo "kmod bench done ($(($(date +%s) - t_start)) s)"

#!/bin/bash
# kmod-stress: the team driver under churn while traffic crosses it, for STRESS_SECONDS
# (default 120) and at least one cycle of each mode. Meant for our debug kernel, with
# either driver:
#   cargo xtask vm --scenario kmod-stress --kernel rteam-debug --driver rust   (or c)
# Each cycle: a team device is created in the next mode, four ports join it, and while a
# UDP flood (iperf3) and a ping flood run over it: ports are disabled/enabled, their peers
# flap, one port leaves and rejoins, mode-specific options change (activeport, loadbalance
# hash mapping and stats), a port's TSO is switched off and on (NETDEV_FEAT_CHANGE), a VLAN
# device is stacked on the team, a multicast address and promiscuity come and go, a port
# claims the tx queue a tc filter puts every frame on (queue override), and beside it a
# second team of dummy ports carries netconsole (netpoll) while a port leaves and rejoins
# it and kernel messages go out; every option write is checked, rteam's teamd drives a
# loadbalance team with a BPF tx hash and its balancer; then the device is deleted with its
# ports and traffic still on it (each cycle must have sent packets through it).
# At the end the driver module must unload; the guest's init fails the run on any oops,
# KASAN, lockdep, RCU or refcount report in the kernel log.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

DURATION=${STRESS_SECONDS:-120}
R=/opt/rteam/bin
PORTS=(p0 p1 p2 p3)
MODES=(roundrobin activebackup loadbalance broadcast random)

if lsmod | matches '^team_rs '; then
    MODULES=(team_rs)
else
    MODULES=(team_mode_activebackup team_mode_broadcast team_mode_loadbalance
        team_mode_random team_mode_roundrobin team)
fi
echo "driver modules: ${MODULES[*]}"

mk_netns peer
ip -n peer link add br0 type bridge
ip -n peer link set br0 type bridge stp_state 0 forward_delay 0
ip -n peer addr add 192.0.2.2/24 dev br0
ip -n peer link set br0 up
for i in 0 1 2 3; do
    mk_veth_pair "p$i" "b$i"
    veth_to_ns "b$i" peer
    ip -n peer link set "b$i" master br0
done
ip netns exec peer sh -c 'while :; do iperf3 -s -1 >/dev/null 2>&1; done' &
server_loop=$!
# netconsole's team: dummy ports (veth refuses netpoll), no IPv6 chatter
for p in nc0 nc1; do
    ip link add "$p" type dummy
    echo 1 >"/proc/sys/net/ipv6/conf/$p/disable_ipv6"
done
NC=/sys/kernel/config/netconsole/stress
mountpoint -q /sys/kernel/config || mount -t configfs configfs /sys/kernel/config
mkdir "$NC" || fail "no netconsole in this kernel (configfs $NC)"

end=$(($EPOCHSECONDS + DURATION))
STOP=/tmp/kmod-stress.stop
rm -f "$STOP"
# Traffic loops: each client ends when the team goes away and starts again.
(while [ ! -e "$STOP" ]; do
    iperf3 -c 192.0.2.2 -u -b 0 -l 1200 -t 4 >/dev/null 2>&1 || sleep 0.2
done) &
udp_loop=$!
(while [ ! -e "$STOP" ]; do
    timeout 4 ping -f -q -W 1 192.0.2.2 >/dev/null 2>&1 || sleep 0.2
done) &
ping_loop=$!

# Every option write and read below is one the driver must accept (ports named exist and
# are enslaved, mapped ports are enabled, values are in range), so any error fails the run
# with teamnl's message; none is expected to fail.
opt() {
    local out
    out=$(teamnl team0 "$@" 2>&1) || fail "cycle $cycles ($mode): teamnl team0 $*: $out"
}
cycles=0
plain=0
ops=0
sent=""
# A teamd cycle after every third plain one: the first six cycles cover every mode.
while [ "$EPOCHSECONDS" -lt "$end" ] || [ "$cycles" -lt $((${#MODES[@]} + 1)) ]; do
    cycles=$((cycles + 1))
    if [ $((cycles % 4)) = 0 ]; then
        # rteam's teamd: loadbalance with a BPF tx hash and the balancer moving hashes
        cat > /tmp/lb.conf <<'CONF'
{"device": "team0", "runner": {"name": "loadbalance", "tx_hash": ["eth", "ipv4", "l4"],
 "tx_balancer": {"name": "basic", "balancing_interval": 1}},
 "link_watch": {"name": "ethtool"},
 "ports": {"p0": {}, "p1": {}, "p2": {}, "p3": {}}}
CONF
        for p in "${PORTS[@]}"; do ip link set "$p" down; done
        "$R/teamd" -d -f /tmp/lb.conf || fail "our teamd did not start"
        ip addr add 192.0.2.1/24 dev team0 2>/dev/null
        sleep 3
        ip -n peer link set b1 down; sleep 1; ip -n peer link set b1 up; sleep 1
        "$R/teamd" -k -t team0
        wait_for -t 20 sh -c "! ip link show team0"
        ops=$((ops + 4))
        continue
    fi
    mode=${MODES[$((plain % ${#MODES[@]}))]}
    plain=$((plain + 1))
    ip link add team0 type team || fail "cycle $cycles: cannot create team0"
    teamnl team0 setoption mode "$mode" || fail "cycle $cycles: cannot set mode $mode"
    ip addr add 192.0.2.1/24 dev team0
    ip link set team0 up
    # every frame on tx queue 1, which p1 claims in the first round of three
    tc qdisc add dev team0 clsact &&
        tc filter add dev team0 egress matchall action skbedit queue_mapping 1 ||
        fail "cycle $cycles: cannot put team0's frames on queue 1"
    for p in "${PORTS[@]}"; do
        ip link set "$p" down
        ip link set "$p" master team0 || fail "cycle $cycles: cannot enslave $p"
        ip link set "$p" up
    done
    ip link add team1 type team || fail "cycle $cycles: cannot create team1"
    echo 1 >/proc/sys/net/ipv6/conf/team1/disable_ipv6
    teamnl team1 setoption mode "$mode" || fail "cycle $cycles: cannot set team1's mode $mode"
    for p in nc0 nc1; do
        ip link set "$p" down
        ip link set "$p" master team1 || fail "cycle $cycles: cannot enslave $p in team1"
        ip link set "$p" up
    done
    ip link set team1 up
    echo team1 >"$NC/dev_name"
    echo 192.0.2.11 >"$NC/local_ip"
    echo 192.0.2.2 >"$NC/remote_ip"
    echo 1 >"$NC/enabled" || fail "cycle $cycles: netconsole cannot start on team1"
    ops=$((ops + 10))
    for round in 1 2 3; do
        for p in "${PORTS[@]}"; do
            opt setoption enabled true -p "$p"
        done
        case $mode in
        activebackup)
            opt setoption activeport "$(cat /sys/class/net/p$((round % 4))/ifindex)" ;;
        loadbalance)
            opt setoption lb_stats_refresh_interval 100
            for h in 0 17 99 255; do opt setoption lb_tx_hash_to_port_mapping "$(cat /sys/class/net/p$((h % 4))/ifindex)" -a "$h"; done
            opt getoption lb_hash_stats -a 17 ;;
        esac
        # p3 leaves and joins below with the team promiscuous and holding an extra
        # multicast address
        ip maddr add "33:33:00:00:00:1$round" dev team0 || fail "cycle $cycles: ip maddr add failed"
        ip link set team0 promisc on allmulticast on
        opt setoption notify_peers_count $((round % 3))
        opt setoption mcast_rejoin_count $((round % 2))
        opt setoption enabled false -p p2
        ip -n peer link set "b$((round % 4))" down
        sleep 0.3
        ip link set p3 nomaster
        ip -n peer link set "b$((round % 4))" up
        ip link set p3 master team0 || fail "cycle $cycles: cannot enslave p3 again"
        ip link set p3 up
        opt setoption enabled true -p p2
        opt setoption user_linkup false -p p1
        opt setoption user_linkup_enabled true -p p1
        opt setoption user_linkup_enabled false -p p1
        opt ports
        # A port's offloads change under traffic (NETDEV_FEAT_CHANGE: the team refolds its
        # features); the port's own ethtool call must work.
        ethtool -K p0 tso off || fail "cycle $cycles: ethtool -K p0 tso off failed"
        ethtool -K p0 tso on || fail "cycle $cycles: ethtool -K p0 tso on failed"
        # Receive filters, VLANs and queue override under traffic; the VLAN devices stay
        # until the team goes, with them.
        ip link add link team0 name "team0.$round" type vlan id "$round" ||
            fail "cycle $cycles: cannot add VLAN $round on team0"
        ip link set "team0.$round" up
        opt setoption queue_id "$round" -p p1
        opt setoption priority "$((3 - round))" -p p1
        sleep 0.3
        ip link set team0 promisc off allmulticast off
        ip maddr del "33:33:00:00:00:1$round" dev team0 || fail "cycle $cycles: ip maddr del failed"
        # netconsole: messages out through team1 while a port leaves and comes back
        echo "<3>kmod-stress: cycle $cycles round $round" >/dev/kmsg
        ip link set nc1 nomaster
        echo "<3>kmod-stress: cycle $cycles round $round, nc1 out" >/dev/kmsg
        ip link set nc1 master team1 || fail "cycle $cycles: nc1 cannot rejoin team1 under netconsole"
        ip link set nc1 up
        ops=$((ops + 31))
        sleep 0.5
    done
    # Few in activebackup and loadbalance, with either driver: with no teamd to give the
    # ports the team's MAC, replies reaching another port than the first are not for it
    # (ARP stalls), and only four loadbalance hashes are mapped.
    tx=$(</sys/class/net/team0/statistics/tx_packets)
    [ "$tx" -gt 0 ] || fail "cycle $cycles ($mode): no packet was sent through team0"
    sent+=" $mode:$tx"
    # gone with its ports enslaved and traffic on it
    ip link del team0 || fail "cycle $cycles: cannot delete team0"
    # team1 goes with netconsole on it every other cycle (netconsole's notifier ends
    # the target), else after the target is switched off
    [ $((plain % 2)) = 0 ] || echo 0 >"$NC/enabled" || fail "cycle $cycles: netconsole did not stop"
    ip link del team1 || fail "cycle $cycles: cannot delete team1"
    [ "$(<"$NC/enabled")" = 0 ] || fail "cycle $cycles: netconsole still on after team1 went"
    ops=$((ops + 3))
done
echo "stress: $cycles cycles, about $ops driver operations in $(($EPOCHSECONDS - end + DURATION)) s under traffic"
echo "packets sent through team0 per cycle:$sent"
touch "$STOP"
kill "$udp_loop" "$ping_loop" "$server_loop" 2>/dev/null
wait "$udp_loop" "$ping_loop" 2>/dev/null
pkill -x iperf3
pkill -x ping
ip link del team0 2>/dev/null
ip link del team1 2>/dev/null
rmdir "$NC"
sleep 2
ip link show | matches 'team' && fail "a team device was left behind: $(ip -br link | grep team)"
for m in "${MODULES[@]}"; do
    rmmod "$m" || fail "rmmod $m failed: $(lsmod | grep team)"
done
lsmod | matches team && fail "team modules still loaded: $(lsmod | grep team)"
echo "driver unloaded cleanly"
# a leaked device reference shows up as this message within a few seconds of the delete
sleep 3
dmesg | matches "unregister_netdevice: waiting" && fail "a netdev reference leaked"
echo "kmod-stress: passed"

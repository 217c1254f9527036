#!/bin/bash
# Which of teamd's functions run, in the bench's scenarios: callgrind (valgrind copied from
# the host by `cargo xtask hot-code`) records teamd under three kinds of use, each dumped to
# its own file in /results:
#   start.*     exec to idle: activebackup + ethtool on 2 ports, D-Bus on (bench row 5a)
#   control.*   then control calls (socket and D-Bus), a failover and a port flap (4, 1, 5c)
#   other.*     other runners and watches: arp_ping on 4 ports, lacp against C teamd,
#               loadbalance, roundrobin
# The xtask turns them into teamd's link order (teamd-compat/teamd/hot-code.order).
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
VG=/opt/rteam/bin/vg
[ -x "$VG/valgrind" ] || fail "no valgrind in target/tools/vg (cargo xtask hot-code copies it)"
export VALGRIND_LIB=$VG/lib PATH=$VG:$PATH
OUT=/results
mkdir -p $OUT
cp /opt/rteam/src/dbus/policy/teamd.conf /etc/dbus-1/system.d/teamd.conf
mkdir -p /run/dbus
dbus-daemon --system --fork --print-pid >/tmp/dbus.pid || fail "no system bus"
wait_for -t 20 test -S /run/dbus/system_bus_socket
D=/tmp/teamd
cp /opt/rteam/bin/teamd $D

mk_netns peer
for i in 0 1; do mk_veth_pair "p$i" "b$i"; veth_to_ns "b$i" peer; done
for i in 0 1 2 3; do
    mk_netns "apeer$i"; mk_veth_pair "a$i" "ab$i"; veth_to_ns "ab$i" "apeer$i"
    ip -n "apeer$i" addr add 192.0.2.2/24 dev "ab$i"
done
mk_netns lpeer
for i in 0 1; do mk_veth_pair "l$i" "m$i"; ip link set "m$i" netns lpeer; done

# profiled NAME CONFIG PORTS...: teamd under callgrind until its team is ready and its
# ports are up; VPID is valgrind's pid
profiled() {
    local name=$1 conf=$2 p
    shift 2
    for p in "$@"; do ip link set "$p" down; done
    valgrind --tool=callgrind --demangle=no --dump-instr=no --vgdb=yes \
        --callgrind-out-file="$OUT/$name.%p" $D -D -f "$conf" 2>"/tmp/vg.$name" &
    VPID=$!
    # ready, or valgrind gone (then the check below says so at once)
    wait_for -t 300 sh -c "teamdctl team0 state || ! kill -0 $VPID"
    teamdctl team0 state >/dev/null 2>&1 || { cat "/tmp/vg.$name"; fail "$name: teamd not ready"; }
    for p in "$@"; do ip link set "$p" up; done
    ip link set team0 up
}
# dump N: callgrind's Nth dump of the start profile, now. callgrind_control exits 0 even
# when it finds no such process, so the dump file is what shows it worked.
dump() {
    callgrind_control -d "$VPID" >/dev/null
    wait_for -t 60 sh -c "ls $OUT/start.*.$1"
}
finish() {
    kill "$VPID"
    wait "$VPID"
    ip link del team0 2>/dev/null
    sleep 1
}

cat >/tmp/ab.conf <<'C'
{"device": "team0", "runner": {"name": "activebackup"}, "link_watch": {"name": "ethtool"},
 "ports": {"p0": {"prio": 10}, "p1": {"prio": 5}}}
C
profiled start /tmp/ab.conf p0 p1
sleep 8
dump 1
for _ in 1 2 3; do
    teamdctl team0 state >/dev/null
    teamdctl team0 state dump >/dev/null
    teamdctl team0 config dump >/dev/null
    teamdctl team0 port config dump p0 >/dev/null
    teamdctl -D team0 state dump >/dev/null
    teamdctl -D team0 config dump actual >/dev/null
done
ip -n peer link set b0 down; sleep 2; ip -n peer link set b0 up; sleep 2
ip link set p1 down; sleep 1; ip link set p1 up; sleep 2
dump 2
finish
# the start and control dumps are .1 and .2; the rest (exit) is not used
for f in "$OUT"/start.*; do
    case $f in
    *.1) mv "$f" "$OUT/start" ;;
    *.2) mv "$f" "$OUT/control" ;;
    *) rm -f "$f" ;;
    esac
done

cat >/tmp/arp.conf <<'C'
{"device": "team0", "runner": {"name": "activebackup"},
 "link_watch": {"name": "arp_ping", "interval": 100, "missed_max": 1, "send_always": true,
    "source_host": "192.0.2.1", "target_host": "192.0.2.2"},
 "ports": {"a0": {}, "a1": {}, "a2": {}, "a3": {}}}
C
profiled other-arp /tmp/arp.conf a0 a1 a2 a3
ip addr add 192.0.2.1/24 dev team0
sleep 8
finish

cat >/tmp/lacp-partner.conf <<'C'
{"device": "team1", "runner": {"name": "lacp", "active": true, "fast_rate": true},
 "link_watch": {"name": "ethtool"}, "ports": {"m0": {}, "m1": {}}}
C
ip netns exec lpeer /usr/bin/teamd -d -f /tmp/lacp-partner.conf
cat >/tmp/lacp.conf <<'C'
{"device": "team0", "runner": {"name": "lacp", "active": true, "fast_rate": true,
    "tx_hash": ["eth", "ipv4"]},
 "link_watch": {"name": "ethtool"}, "ports": {"l0": {}, "l1": {}}}
C
profiled other-lacp /tmp/lacp.conf l0 l1
ip -n lpeer link set m0 up; ip -n lpeer link set m1 up; ip -n lpeer link set team1 up
sleep 10
teamdctl team0 state dump >/dev/null
ip -n lpeer link set m0 down; sleep 3
finish
ip netns exec lpeer /usr/bin/teamd -k -t team1

for runner in loadbalance roundrobin; do
    cat >/tmp/$runner.conf <<C
{"device": "team0", "runner": {"name": "$runner", "tx_hash": ["eth", "ipv4", "l4"],
    "tx_balancer": {"name": "basic", "balancing_interval": 5}},
 "link_watch": {"name": "ethtool"}, "ports": {"p0": {}, "p1": {}}}
C
    profiled "other-$runner" /tmp/$runner.conf p0 p1
    sleep 8
    teamdctl team0 state dump >/dev/null
    finish
done
ls -la $OUT
exit 0

#!/bin/bash
# teamd-arp: the arp_ping link watch of libteam's C teamd and ours, driven through the same
# steps; active port, every port's watch state and `teamdctl state view -v` are recorded and
# diffed after normalising MACs, pids and the `missed` counter to its side of missed_max.
#
#   guest                             netns peer0 / peer1
#   team0 (activebackup) ─┬─ p0 ═══ b0  192.0.2.2/24
#                         └─ p1 ═══ b1  192.0.2.2/24
#
# A peer "stops answering" when its address is removed (its link stays up), and answers again
# when the address comes back. A port's peer can also send foreign ARP requests (a frame
# generator in its namespace) to show what reply validation changes.
#
# (a) defaults: only the enabled (active) port probes, so the inactive port's watch stays
#     down though its peer answers, and a failed port does not come back while another one
#     is active.
# (b) send_always: every port probes; the failed p0 comes back and, with the higher prio,
#     becomes active again.
# (c) foreign ARP requests on the links while peers are silent: life for an unvalidated
#     port, nothing for a validated one (validate_active for the active port,
#     validate_inactive for the others).
# (d) failover time, interval 100 ms, missed_max 1: from removing the peer's address to
#     the kernel disabling p0, for both teamds, printed.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

CTL=/usr/bin/teamdctl
NL=/usr/bin/teamnl
declare -A TEAMD=([C]=/usr/bin/teamd [rteam]=/opt/rteam/bin/teamd)
[ -x "${TEAMD[rteam]}" ] || fail "${TEAMD[rteam]} missing"
PORTS=(p0 p1)
PEER_IP=192.0.2.2
t_start=$EPOCHSECONDS
CHECKS=0

echo "== topology"
for i in 0 1; do
    mk_netns "peer$i"
    mk_veth_pair "p$i" "b$i"
    veth_to_ns "b$i" "peer$i"
    ip -n "peer$i" addr add "$PEER_IP/24" dev "b$i"
done

# Foreign ARP requests ("who has 192.0.2.99, tell 192.0.2.98") from a peer, every 50 ms.
cat >/tmp/arp_noise.py <<'EOF2'
import socket, struct, sys, time
dev = sys.argv[1]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
mac = bytes.fromhex(open("/sys/class/net/%s/address" % dev).read().strip().replace(":", ""))
arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + socket.inet_aton("192.0.2.98")
arp += b"\0" * 6 + socket.inet_aton("192.0.2.99")
frame = b"\xff" * 6 + mac + b"\x08\x06" + arp
while True:
    s.send(frame)
    time.sleep(0.05)
EOF2

TEAMD_PID=
# start_team IMPL WATCH_JSON: activebackup over p0 (prio 10) and p1 with WATCH as the global
# link watch; team0 and the ports up.
start_team() {
    local impl=$1 p
    for p in "${PORTS[@]}"; do ip link set "$p" down; done
    cat >/tmp/team0.conf <<EOC
{"device": "team0", "runner": {"name": "activebackup"}, "link_watch": $2,
 "ports": {"p0": {"prio": 10}, "p1": {}}}
EOC
    "${TEAMD[$impl]}" -f /tmp/team0.conf -g 2>>"/tmp/teamd.$impl.log" &
    TEAMD_PID=$!
    wait_for -t 30 test -S /var/run/teamd/team0.sock
    for p in "${PORTS[@]}"; do wait_for -t 20 "$CTL" team0 port present "$p"; done
    ip link set team0 up
    for p in "${PORTS[@]}"; do ip link set "$p" up; done
}

stop_team() {
    kill "$TEAMD_PID" 2>/dev/null
    wait "$TEAMD_PID" 2>/dev/null
    wait_for -t 20 sh -c '! ip link show team0'
    rm -f /var/run/teamd/team0.sock
}

item() { "$CTL" team0 state item get "$1" 2>&1; }

# wait_item PATH VALUE [SECS]: teamd reports VALUE for state item PATH; false on timeout.
wait_item() {
    local tries=$((${3:-15} * 10))
    while [ "$(item "$1")" != "$2" ]; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

# peer N silent|answer: peer N stops or resumes answering ARP for its address.
peer() {
    if [ "$2" = silent ]; then
        ip -n "peer$1" addr del "$PEER_IP/24" dev "b$1"
    else
        ip -n "peer$1" addr add "$PEER_IP/24" dev "b$1"
    fi
}

OUT=
# record LABEL ACTIVE UP0 UP1: wait (bounded) for the expected active port and watch states,
# give a wrong outcome time to show (a few intervals), then log what teamd reports.
record() {
    wait_item runner.active_port "$2" || echo "unexpected: active port not $2" >>"$OUT"
    wait_item ports.p0.link_watches.up "$3" || echo "unexpected: p0 up not $3" >>"$OUT"
    wait_item ports.p1.link_watches.up "$4" || echo "unexpected: p1 up not $4" >>"$OUT"
    sleep 0.5
    {
        echo "== $1"
        echo "active: $(item runner.active_port)"
        echo "p0 up: $(item ports.p0.link_watches.up), p1 up: $(item ports.p1.link_watches.up)"
        for p in "${PORTS[@]}"; do echo "$p enabled: $("$NL" team0 -p "$p" getoption enabled 2>&1)"; done
        "$CTL" team0 state view -v
    } >>"$OUT"
    CHECKS=$((CHECKS + 1))
}

norm() {
    normalize | sed -E -e 's/(PID|pid)([": ]+)[0-9]+/\1\2<pid>/g' | missed_class
}

# same WHAT FILE_STEM: the C and rteam outputs match after normalising, and both reached
# the states the steps expect.
same() {
    grep -H unexpected "$2.C" "$2.rteam" >&2 && fail "$1: a step did not reach its expected state"
    if ! diff -u --label C --label rteam <(norm <"$2.C") <(norm <"$2.rteam") >/tmp/diff; then
        echo "FAIL: $1 differs between C teamd and rteam (-C +rteam):" >&2
        cat /tmp/diff >&2
        echo "--- rteam teamd log:" >&2
        tail -n 30 /tmp/teamd.rteam.log >&2
        echo "--- C teamd log:" >&2
        tail -n 30 /tmp/teamd.C.log >&2
        exit 1
    fi
    echo "same: $1"
}

WATCH='{"name": "arp_ping", "target_host": "192.0.2.2", "interval": 100, "missed_max": 2'

run_defaults() {
    OUT=/tmp/defaults.$1
    : >"$OUT"
    # p1's peer is silent while the team starts: a new port is enabled in the kernel until
    # the runner's disable is seen, so whether p1 gets one probe out first is a race.
    peer 1 silent
    start_team "$1" "$WATCH}"
    record "start: p0 active, idle p1 down" p0 true false
    peer 1 answer
    record "peer1 answers: disabled p1 does not probe, stays down" p0 true false
    "$CTL" team0 config dump >>"$OUT"
    "$CTL" team0 state dump | jq -S .ports.p0.link_watches >>"$OUT"
    peer 0 silent
    record "peer0 silent: p1 probes and takes over" p1 false true
    peer 0 answer
    record "peer0 back: disabled p0 does not probe, stays down" p1 false true
    stop_team
}

run_send_always() {
    OUT=/tmp/always.$1
    : >"$OUT"
    start_team "$1" "$WATCH, \"send_always\": true, \"source_host\": \"192.0.2.1\"}"
    record "start: both probe, both up" p0 true true
    peer 0 silent
    record "peer0 silent: p1 takes over" p1 false true
    peer 0 answer
    record "peer0 back: p0 up and active again" p0 true true
    peer 1 silent
    record "peer1 silent: inactive p1 goes down" p0 true false
    peer 1 answer
    stop_team
}

NOISE=()
# noise N...: foreign ARP requests from peers N... (none: stop them all).
noise() {
    local n
    if [ $# -eq 0 ]; then
        kill "${NOISE[@]}" 2>/dev/null
        wait "${NOISE[@]}" 2>/dev/null
        NOISE=()
        return
    fi
    for n in "$@"; do
        ip netns exec "peer$n" python3 /tmp/arp_noise.py "b$n" &
        NOISE+=($!)
    done
}

# run_validate_inactive IMPL: foreign ARP on both links; the inactive p1, validated, fails
# when its peer is silent; the active p0, not validated, lives on the foreign ARP alone.
run_validate_inactive() {
    OUT=/tmp/vinactive.$1
    : >"$OUT"
    start_team "$1" "$WATCH, \"send_always\": true, \"validate_inactive\": true}"
    noise 0 1
    record "start with foreign ARP on both links" p0 true true
    peer 1 silent
    record "peer1 silent: validated inactive p1 down" p0 true false
    peer 0 silent
    record "peer0 silent: unvalidated active p0 up on foreign ARP" p0 true false
    noise
    peer 0 answer
    peer 1 answer
    stop_team
}

# run_validate_active IMPL: validate_active and validate_inactive, foreign ARP on p0's link:
# when its peer is silent the active p0 fails and p1 takes over.
run_validate_active() {
    OUT=/tmp/vactive.$1
    : >"$OUT"
    start_team "$1" "$WATCH, \"send_always\": true, \"validate_active\": true, \"validate_inactive\": true}"
    noise 0
    record "start with foreign ARP on p0's link" p0 true true
    peer 0 silent
    record "peer0 silent: foreign ARP does not count, p1 takes over" p1 false true
    noise
    peer 0 answer
    stop_team
}

# failover_ms IMPL: ms from silencing peer0 to the kernel disabling p0 (one sample).
failover_ms() {
    local t0 t1
    start_team "$1" '{"name": "arp_ping", "target_host": "192.0.2.2", "interval": 100, "missed_max": 1}'
    wait_item runner.active_port p0 || fail "$1: p0 never became active"
    sleep 0.5
    t0=$(date +%s%N)
    peer 0 silent
    while [ "$("$NL" team0 -p p0 getoption enabled 2>&1)" != false ]; do :; done
    t1=$(date +%s%N)
    peer 0 answer
    stop_team
    echo $(((t1 - t0) / 1000000))
}

echo "== (a) defaults ($SECONDS s)"
for impl in C rteam; do run_defaults "$impl"; done
cat /tmp/defaults.C
same "defaults" /tmp/defaults

echo "== (b) send_always ($SECONDS s)"
for impl in C rteam; do run_send_always "$impl"; done
same "send_always" /tmp/always

echo "== (c) validation ($SECONDS s)"
for impl in C rteam; do
    run_validate_inactive "$impl"
    run_validate_active "$impl"
done
same "validate_inactive" /tmp/vinactive
same "validate_active" /tmp/vactive

echo "== (d) failover time, interval 100 ms, missed_max 1 ($SECONDS s)"
declare -A FO=([C]="" [rteam]="")
for round in 1 2; do
    for impl in C rteam; do FO[$impl]+="$(failover_ms "$impl") "; done
done
for impl in C rteam; do
    echo "failover $impl: ${FO[$impl]}ms"
    for ms in ${FO[$impl]}; do
        [ "$ms" -lt 2000 ] || fail "$impl failover took $ms ms"
    done
done

echo "teamd-arp: all passed ($CHECKS states compared) in $(($EPOCHSECONDS - t_start)) s"

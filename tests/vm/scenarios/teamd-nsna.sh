#!/bin/bash
# teamd-nsna: the nsna_ping link watch (IPv6 Neighbour Solicitation / Advertisement) of
# libteam's C teamd and ours, driven through the same steps; active port, every port's watch
# state and `teamdctl state view -v` are recorded and diffed after normalising MACs, pids
# and the `missed` counter to its side of missed_max.
#
#   guest                             netns peer0 / peer1
#   team0 (activebackup) ─┬─ p0 ═══ b0  fd00::2/64
#                         └─ p1 ═══ b1  fd00::2/64
#
# Solicitations leave through the kernel's IPv6 stack from the port's link-local address
# (DAD is off on the ports so they have one at once); a peer "stops answering" when its
# address is removed and answers again when it comes back (nodad).
#
# Only enabled ports solicit (nsna_ping has no send_always), so: the idle p1 stays down;
# when the active p0's peer goes silent every port solicits and p1 takes over; p0 stays
# down after its peer returns while p1 is active; when p1's peer goes silent too, p0 comes
# back and is active again.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

CTL=/usr/bin/teamdctl
NL=/usr/bin/teamnl
declare -A TEAMD=([C]=/usr/bin/teamd [rteam]=/opt/rteam/bin/teamd)
[ -x "${TEAMD[rteam]}" ] || fail "${TEAMD[rteam]} missing"
PORTS=(p0 p1)
PEER_IP=fd00::2
t_start=$EPOCHSECONDS
CHECKS=0

echo "== topology"
for i in 0 1; do
    mk_netns "peer$i"
    mk_veth_pair "p$i" "b$i"
    sysctl -qw "net.ipv6.conf.p$i.accept_dad=0"
    veth_to_ns "b$i" "peer$i"
    ip -n "peer$i" addr add "$PEER_IP/64" dev "b$i" nodad
done

TEAMD_PID=
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

wait_item() {
    local tries=$((${3:-15} * 10))
    while [ "$(item "$1")" != "$2" ]; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

peer() {
    if [ "$2" = silent ]; then
        ip -n "peer$1" addr del "$PEER_IP/64" dev "b$1"
    else
        ip -n "peer$1" addr add "$PEER_IP/64" dev "b$1" nodad
    fi
}

OUT=
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

run_nsna() {
    OUT=/tmp/nsna.$1
    : >"$OUT"
    # p1's peer is silent while the team starts: a new port is enabled in the kernel until
    # the runner's disable is seen, so whether p1 gets one solicitation out first is a race.
    peer 1 silent
    start_team "$1" '{"name": "nsna_ping", "target_host": "fd00::2", "interval": 100, "missed_max": 2}'
    record "start: p0 active, idle p1 down" p0 true false
    peer 1 answer
    record "peer1 answers: disabled p1 does not solicit, stays down" p0 true false
    "$CTL" team0 config dump >>"$OUT"
    "$CTL" team0 state dump | jq -S .ports.p0.link_watches >>"$OUT"
    peer 0 silent
    record "peer0 silent: every port solicits, p1 takes over" p1 false true
    peer 0 answer
    record "peer0 back: disabled p0 does not solicit, stays down" p1 false true
    peer 1 silent
    record "peer1 silent too: p0 comes back" p0 true false
    peer 1 answer
    stop_team
}

echo "== nsna_ping ($SECONDS s)"
for impl in C rteam; do run_nsna "$impl"; done
cat /tmp/nsna.C
same "nsna_ping sequence" /tmp/nsna

echo "teamd-nsna: all passed ($CHECKS states compared) in $(($EPOCHSECONDS - t_start)) s"

#!/bin/bash
# teamd-restart: restarting teamd under traffic. A peer in another namespace pings team0 every
# millisecond while teamd is restarted with the packaged unit's flags (-U -o -t team0 -f FILE,
# without -D: no bus here); the loss is the echo requests the peer's kernel sent that got no
# reply. A 6 s window without any restart first shows what the emulated guest loses by itself.
#
#   warm: ours, SIGUSR1 (the explicit warm request; under systemd a restart job does the
#         same on SIGTERM): the old teamd leaves the team device, its ports and the runner's
#         kernel state as they are and writes /run/teamd/team0.warm; the new one (-o) adopts
#         them and the saved runner state. Asserted: nothing lost, and for lacp the partner
#         (bonding) never renegotiated (its aggregator and churn counters unchanged). lacp is
#         run against the bond on the short timeout (3 s: judged only if the emulator
#         managed to start teamd in time, see warm_without_loss) and on the long one (90 s).
#   cold: C teamd and ours, SIGTERM: the old teamd removes the ports and deletes team0, the
#         new one creates it again and the script re-adds the address at once (as networkd
#         would). Losses printed, not asserted.
#   kill: SIGKILL, then a new teamd -o takes over what the dead one left (no state file):
#         printed; for ours with activebackup asserted to lose nothing (the active port is
#         kept, where C teamd disables it and picks it again).
#   bad files: a corrupt and a stale state file: teamd logs why it ignores the file and takes
#         the team over as without one (no crash, team still working).
#
#   activebackup                               lacp
#   team0 192.0.2.1 ─┬─ p0 ═══ b0 ─┐           team0 192.0.2.1 ─┬─ p0 ═══ b0 ─┐
#                    └─ p1 ═══ b1 ─┴─ br0      (lacp, fast)      └─ p1 ═══ b1 ─┴─ bond0
#                                  192.0.2.2                      (802.3ad)
#                                  (netns peer)                   192.0.2.2 (netns peer)
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

CTL=/usr/bin/teamdctl
NL=/usr/bin/teamnl
declare -A TEAMD=([C]=/usr/bin/teamd [rteam]=/opt/rteam/bin/teamd)
[ -x "${TEAMD[rteam]}" ] || fail "${TEAMD[rteam]} missing"
CONF=/run/teamd/team0.conf
WARM=/run/teamd/team0.warm
mkdir -p /run/teamd
CHECKS=0
t_start=$EPOCHSECONDS
PID=
PING_PID=
# whatever way the script ends: no ping or teamd left running, the logs kept
finish() {
    [ -n "$PING_PID" ] && kill -INT "$PING_PID" 2>/dev/null
    [ -n "$PID" ] && kill "$PID" 2>/dev/null
    cp /tmp/teamd.*.log /tmp/ping.* /results/ 2>/dev/null
}
trap finish EXIT
say() { echo "[$(($EPOCHSECONDS - t_start)) s] $*"; }
item() { "$CTL" team0 state item get "$1" 2>&1; }
enabled() { "$NL" team0 -p "$1" getoption enabled 2>&1; }

# bond_rate fast|slow: the bond's lacp_rate (bonding takes it only while the bond is down).
BOND_RATE=fast
bond_rate() {
    BOND_RATE=$1
    ip -n peer link set bond0 down
    ip -n peer link set bond0 type bond lacp_rate "$1" || fail "cannot set the bond's lacp_rate"
    ip -n peer link set bond0 up
}

# said_since LINES PATTERN: our teamd logged a line matching PATTERN after its first LINES.
said_since() { tail -n "+$(($1 + 1))" /tmp/teamd.rteam.log | matches "$2"; }

# ---- topology --------------------------------------------------------------------------

# IPv6 is off in both namespaces: a port that came up sends router solicitations and MLD
# reports from its own device, and a backup port carries the team's MAC, so the peer's bridge
# would move that MAC to the backup port and deliver the team's traffic there for a second or
# two (seen here: ~100 replies lost with no restart at all), which is no teamd's doing.
ipv6_off() {
    "$@" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

topology() {
    ipv6_off
    mk_netns peer
    ipv6_off ip netns exec peer
    local i
    for i in 0 1; do
        mk_veth_pair "p$i" "b$i"
        ip link set "b$i" netns peer
    done
    if [ "$1" = activebackup ]; then
        ip -n peer link add br0 type bridge
        ip -n peer link set br0 type bridge stp_state 0 forward_delay 0
        for i in 0 1; do
            ip -n peer link set "b$i" master br0
            ip -n peer link set "b$i" up
        done
        ip -n peer addr add 192.0.2.2/24 dev br0
        ip -n peer link set br0 up
    else
        ip -n peer link add bond0 type bond mode 802.3ad lacp_rate fast miimon 100 ||
            fail "cannot create bond0"
        BOND_RATE=fast
        for i in 0 1; do
            ip -n peer link set "b$i" master bond0
            ip -n peer link set "b$i" up
        done
        ip -n peer addr add 192.0.2.2/24 dev bond0
        ip -n peer link set bond0 up
    fi
}

teardown() {
    stop_teamd
    ip link del team0 2>/dev/null
    ip netns del peer 2>/dev/null
    ip link del p0 2>/dev/null
    ip link del p1 2>/dev/null
    rm -f "$WARM" /run/teamd/team0.sock /run/teamd/team0.pid
    sleep 0.5
}

config() {
    if [ "$1" = activebackup ]; then
        echo '{"runner": {"name": "activebackup"}, "link_watch": {"name": "ethtool"},
               "ports": {"p0": {"prio": 10}, "p1": {}}}'
    else
        echo '{"runner": {"name": "lacp", "fast_rate": true}, "ports": {"p0": {}, "p1": {}}}'
    fi
}

# ---- teamd -------------------------------------------------------------------------------

# start_teamd IMPL: teamd as the unit runs it (no -D); waits until it answers and lists both
# ports.
start_teamd() {
    "${TEAMD[$1]}" -U -o -t team0 -f "$CONF" 2>>"/tmp/teamd.$1.log" &
    PID=$!
    wait_for -t 30 test -S /run/teamd/team0.sock
    wait_for -t 20 "$CTL" team0 port present p0
    wait_for -t 20 "$CTL" team0 port present p1
}

# stop_teamd [SIGNAL]: ends the running teamd and waits for its exit.
stop_teamd() {
    [ -n "$PID" ] || return 0
    kill "-${1:-TERM}" "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
    PID=
}

# addressed: team0 up with its address (what networkd does when the device appears).
addressed() {
    ip addr add 192.0.2.1/24 dev team0 2>/dev/null
    ip link set team0 up
}

# icmp_counts: the peer namespace's ICMP echo requests sent and replies received, as its
# kernel counts them (a reply counts when it arrives, whether or not ping then reads it).
icmp_counts() {
    ip netns exec peer awk '/^Icmp:/ { if (!n++) { for (i = 2; i <= NF; i++) c[$i] = i }
        else print $c["OutEchos"], $c["InEchoReps"] }' /proc/net/snmp
}

# reaches: a ping gets an answer across the team; while the 1 ms ping runs, its replies keep
# coming instead (no extra request that could go unanswered and count as lost).
reaches() {
    if [ -z "$PING_PID" ]; then
        ip netns exec peer ping -c 1 -W 1 192.0.2.1 >/dev/null 2>&1
        return
    fi
    local a b
    read -r _ a < <(icmp_counts)
    sleep 0.3
    read -r _ b < <(icmp_counts)
    [ "$b" -gt "$a" ]
}

# converged RUNNER: traffic flows (lacp: both ports enabled and in the bond's aggregator).
converged() {
    if [ "$1" = lacp ]; then
        [ "$(enabled p0)" = true ] && [ "$(enabled p1)" = true ] &&
            ip netns exec peer grep -q 'Number of ports: 2' /proc/net/bonding/bond0 || return 1
    else
        [ "$(item runner.active_port)" = p0 ] || return 1
    fi
    reaches
}

# bond_view: what must not change over a warm restart: the active aggregator and each
# slave's aggregator and churn counters.
bond_view() {
    ip netns exec peer grep -E 'Aggregator ID|Number of ports|Churned Count|Slave Interface' \
        /proc/net/bonding/bond0
}

# ---- the 1 ms ping -----------------------------------------------------------------------

# softnet_drops: packets the guest's per-CPU backlog queues dropped (full), so far.
softnet_drops() {
    python3 -c "print(sum(int(l.split()[1], 16) for l in open('/proc/net/softnet_stat')))"
}

# ping_start NAME: the 1 ms ping. (Not real-time scheduled: on the guest's two emulated CPUs
# a SCHED_FIFO ping starves the softirq threads and the backlog queues overflow.)
ICMP0=
ping_start() {
    ICMP0=$(icmp_counts)
    ip netns exec peer ping -D -i 0.001 192.0.2.1 >"/tmp/ping.$1" 2>&1 &
    PING_PID=$!
    # replies flowing before the restart begins
    wait_for -t 10 grep -q 'bytes from' "/tmp/ping.$1"
    sleep 1
}

# ping_stop: ends the ping; COUNTS: the requests sent and replies received meanwhile as the
# peer's kernel counted them, once the replies still on their way are in. The emulated guest
# cannot always keep up with 1000 requests a second: a backlog builds up (round trips of
# hundreds of ms) and takes a while to drain after the last request.
COUNTS=
ping_stop() {
    kill -INT "$PING_PID"
    wait "$PING_PID" 2>/dev/null
    PING_PID=
    local out0 in0 out1 in1 last=-1 still=0 tries=100
    read -r out0 in0 <<<"$ICMP0"
    while [ "$tries" -gt 0 ]; do
        read -r out1 in1 < <(icmp_counts)
        [ "$((in1 - in0))" -ge "$((out1 - out0))" ] && break
        if [ "$in1" = "$last" ]; then
            still=$((still + 1))
            [ "$still" -ge 10 ] && break # nothing more for 1 s: lost
        else
            still=0
        fi
        last=$in1
        tries=$((tries - 1))
        sleep 0.1
    done
    COUNTS="$((out1 - out0)) $((in1 - in0))"
}

# loss.py FILE T_BEGIN T_END SENT ANSWERED: the echo requests the peer's kernel sent (SENT)
# that got no reply (ANSWERED came back): the loss. The kernel's count, not ping's: a request
# the partner's bond refuses to send (no aggregator) fails with ENOBUFS, which ping retries
# without counting it. Then ping's view: the longest silence between two replies, and
# whether replies came both before T_BEGIN and after T_END (the ping spans the restart).
cat >/tmp/loss.py <<'PY'
import re, sys
path, begin, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
out, back = int(sys.argv[4]), int(sys.argv[5])
stamps = []
for line in open(path, errors="replace"):
    m = re.match(r"\[(\d+\.\d+)\] \d+ bytes from .* icmp_seq=(\d+)", line)
    if m:
        stamps.append(float(m.group(1)))
if not stamps:
    print("no replies at all")
    sys.exit(1)
gap = max((b - a for a, b in zip(stamps, stamps[1:])), default=0.0)
spans = stamps[0] < begin and stamps[-1] > end
print("lost %d of %d, longest silence %.0f ms, spans restart: %s"
      % (out - back, out, gap * 1000, "yes" if spans else "NO"))
PY
lost_of() { sed -E 's/^lost ([0-9]+) .*/\1/' <<<"$1"; }
# warm_without_loss RUNNER [PATIENCE]: a warm restart of ours loses nothing. With an LACP
# partner that expires us PATIENCE s after our last LACPDU, the handover must also fit in
# that time: on real hardware it takes a fraction of a second, but this emulated guest, on a
# busy host, can take longer than 3 s merely to start teamd. So an attempt that lost replies
# after a handover that left less than 1.5 s of the partner's patience (or whose state was
# refused as too old) says nothing about teamd: it is printed and repeated, twice at most,
# and if no attempt was quick enough the function returns false (not judged). Any other loss
# fails at once.
warm_without_loss() {
    local runner=$1 patience=${2:-0} attempt
    for attempt in 1 2 3; do
        measure "$runner" rteam warm || fail "no traffic after a warm restart"
        if [ "$(lost_of "$LAST")" = 0 ]; then
            CHECKS=$((CHECKS + 1))
            echo "ok: rteam $runner warm restart: nothing lost"
            if [ "$runner" = lacp ]; then
                assert_eq "$BOND_BEFORE" "$BOND_AFTER" "bonding's view across the warm restart"
                CHECKS=$((CHECKS + 1))
                echo "ok: bonding kept its aggregator and churned nothing"
            fi
            return 0
        fi
        [ "$patience" != 0 ] || fail "rteam $runner warm restart lost replies: $LAST"
        python3 -c "import sys; sys.exit(not ('$AGE' == '' or float('$AGE') > $patience - 1.5))" ||
            fail "rteam $runner warm restart lost replies: $LAST"
        say "attempt $attempt: the handover took too long on this emulator for a partner that waits $patience s"
    done
    return 1
}

# expect_no_loss WHAT: the last measurement lost nothing and the team carried traffic again.
expect_no_loss() {
    [ "$(lost_of "$LAST")" = 0 ] || fail "$1 lost replies: $LAST"
    CHECKS=$((CHECKS + 1))
    echo "ok: $1: nothing lost"
}

# converges_within SECS RUNNER: false if the team does not carry traffic within SECS.
converges_within() {
    local end=$((SECONDS + $1))
    until converged "$2"; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.1
    done
}

RESULTS=()
BOND_BEFORE=
BOND_AFTER=
# measure RUNNER IMPL HOW: one restart of teamd IMPL under the 1 ms ping; HOW is warm
# (SIGUSR1), cold (SIGTERM) or kill (SIGKILL, then takeover). Prints and records the loss;
# a team that does not carry traffic again within 20 s is recorded as such (the ping then
# ends 20 s after the restart). False when no traffic came back.
measure() {
    local runner=$1 impl=$2 how=$3 label="$1 $2 $3" t0 t1 res back=yes drops
    [ "$runner" = lacp ] && label="$label (bond lacp_rate $BOND_RATE)"
    AGE=
    say "== $label"
    drops=$(softnet_drops)
    local log_lines
    log_lines=$(wc -l <"/tmp/teamd.$impl.log")
    ping_start "$runner.$impl.$how"
    [ "$runner" = lacp ] && BOND_BEFORE=$(bond_view)
    t0=$EPOCHREALTIME
    case $how in
    warm) stop_teamd USR1 ;;
    cold) stop_teamd TERM ;;
    kill) stop_teamd KILL ;;
    esac
    start_teamd "$impl"
    [ "$how" = cold ] && addressed
    t1=$EPOCHREALTIME
    converges_within 20 "$runner" || back=no
    # lacp: on past the partner's 3 s timeout, so that a team riding on what the partner
    # last heard from the old teamd shows its loss too
    if [ "$runner" = lacp ]; then sleep 4; else sleep 1; fi
    ping_stop
    # shellcheck disable=SC2086 # two numbers
    res=$(python3 /tmp/loss.py "/tmp/ping.$runner.$impl.$how" "$t0" "$t1" $COUNTS)
    [ "$back" = yes ] || res="NO TRAFFIC 20 s after the restart; $res"
    drops=$(($(softnet_drops) - drops))
    [ "$drops" = 0 ] || res="$res; the guest's backlog queues dropped $drops"
    if [ "$how" = warm ]; then
        # what the new teamd said about the state file
        local said
        said=$(tail -n "+$((log_lines + 1))" "/tmp/teamd.$impl.log")
        AGE=$(grep -o 'left it [0-9.]* s ago' <<<"$said" | cut -d' ' -f3)
        if [ -n "$AGE" ]; then
            res="$res; state adopted $AGE s after the old teamd's last word"
        else
            res="$res; state NOT adopted: $(grep -o 'Ignoring the warm restart state.*' <<<"$said")"
        fi
    fi
    say "$label: $res (teamd back in $(python3 -c "print('%.2f' % ($t1 - $t0))") s)"
    RESULTS+=("$label: $res")
    [ "$runner" = lacp ] && BOND_AFTER=$(bond_view)
    # no traffic back: nothing after the restart to span; the caller judges (C's lacp
    # takeover never comes back, and is only recorded)
    [ "$back" = no ] || grep -q 'spans restart: yes' <<<"$res" ||
        fail "$label: the ping did not span the restart"
    LAST=$res
    [ "$back" = yes ]
}

# setup RUNNER IMPL: fresh topology and teamd IMPL, converged.
setup() {
    teardown
    topology "$1"
    config "$1" >"$CONF"
    start_teamd "$2"
    addressed
    wait_for -t 30 converged "$1"
}

# control LABEL RUNNER: the same ping for 6 s without any restart: what the emulated guest
# loses on its own (printed; a loss here means a loss in a restart may not be teamd's).
control() {
    local label="$1 $2 (no restart)"
    say "== $label"
    ping_start "control.$2"
    local t0=$EPOCHREALTIME
    sleep 6
    local t1=$EPOCHREALTIME
    sleep 1
    ping_stop
    local res
    # shellcheck disable=SC2086 # two numbers
    res=$(python3 /tmp/loss.py "/tmp/ping.control.$2" "$t0" "$t1" $COUNTS)
    say "$label: $res"
    RESULTS+=("$label: $res")
}

# ---- activebackup ------------------------------------------------------------------------

setup activebackup rteam
control rteam activebackup
for impl in C rteam; do
    setup activebackup "$impl"
    measure activebackup "$impl" cold || fail "$impl: no traffic after a cold restart"
    measure activebackup "$impl" kill || [ "$impl" = C ] || fail "no traffic after a takeover"
done
# the takeover of a team the killed teamd left drops nothing (C drops the active port and
# picks it again)
expect_no_loss "rteam activebackup takeover after SIGKILL"

warm_without_loss activebackup
check "the state file was read and removed" test ! -e "$WARM"
check "ours said it adopted the saved state" test -n "$AGE"
check "active port still p0" test "$(item runner.active_port)" = p0

# a corrupt state file: ignored with a log line, the team is taken over as without one
stop_teamd USR1
check "SIGUSR1 left team0 behind" ip link show team0
check "and its ports" sh -c "ip -o link show p0 | grep -q 'master team0'"
check "a warm exit wrote the state file" test -s "$WARM"
echo '{"version": 1, "team": {"ifindex": "seven"' >"$WARM"
lines=$(wc -l </tmp/teamd.rteam.log)
start_teamd rteam
check "corrupt state file: logged" said_since "$lines" 'Ignoring the warm restart state.*not valid JSON'
check "corrupt state file: removed" test ! -e "$WARM"
check "corrupt state file: team works" converges_within 10 activebackup

# ---- lacp --------------------------------------------------------------------------------

setup lacp rteam
control rteam lacp
for impl in C rteam; do
    setup lacp "$impl"
    measure lacp "$impl" cold || fail "$impl: no traffic after a cold restart"
    # C teamd never sends a LACPDU from a port it finds enslaved (it never saw the port's
    # own MAC), so its takeover leaves the aggregate down for good: recorded, not asserted
    measure lacp "$impl" kill || [ "$impl" = C ] || fail "no traffic after a takeover"
done
# the bond on the short timeout (lacp_rate fast): it expires us 3 s after our last LACPDU
if ! warm_without_loss lacp 3; then
    RESULTS+=("lacp rteam warm, fast partner: NOT JUDGED, the emulator never started teamd fast enough")
    say "not judged: this emulator could not hand over within the fast partner's 3 s"
fi
for p in p0 p1; do
    check "$p current after the warm restart" test "$(item "ports.$p.runner.state")" = current
done
# the bond on the long timeout: 90 s for the handover, however slow the emulator
bond_rate slow
slow_partner() {
    local st
    st=$(item ports.p0.runner.partner_lacpdu_info.state) && [ $((st & 2)) = 0 ] &&
        st=$(item ports.p1.runner.partner_lacpdu_info.state) && [ $((st & 2)) = 0 ]
}
wait_for -t 30 slow_partner
wait_for -t 30 converged lacp
warm_without_loss lacp 90 || fail "rteam lacp warm restart, slow partner: every attempt too slow"

# a state file older than the partner's 3 s timeout: not adopted (the partner has given up
# on us by then), the team is taken over cold and renegotiates
bond_rate fast
fast_partner() {
    local st
    st=$(item ports.p0.runner.partner_lacpdu_info.state) && [ $((st & 2)) = 2 ] &&
        st=$(item ports.p1.runner.partner_lacpdu_info.state) && [ $((st & 2)) = 2 ]
}
wait_for -t 30 fast_partner
lines=$(wc -l </tmp/teamd.rteam.log)
stop_teamd USR1
sleep 3.5
start_teamd rteam
check "stale state file: logged" said_since "$lines" 'Ignoring the warm restart state.*old'
check "stale state file: team converges again" converges_within 30 lacp
teardown

echo "== losses (1 ms ping from the peer namespace across each restart)"
printf '%s\n' "${RESULTS[@]}"
echo "teamd-restart: $CHECKS checks passed in $(($EPOCHSECONDS - t_start)) s"

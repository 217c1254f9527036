#!/bin/bash
# Helpers shared by the lacp-* scenarios: `source /opt/rteam/tests/guest/lacp.sh` after lib.sh.
#
#   root namespace (the team under test)     netns "peer" (the partner)
#   team0 192.0.2.1/24 ─┬─ p0 ═══ b0 ─┬─ team1 (C teamd) or bond0 (bonding 802.3ad)
#                       ├─ p1 ═══ b1 ─┤      192.0.2.2/24
#                       └─ ...       ─┘
#
# The team under test is C teamd ("C") or ours ("rteam"); the partner is always the same,
# so each step's record can be diffed between the two.

CTL=/usr/bin/teamdctl
NL=/usr/bin/teamnl
declare -A TEAMD=([C]=/usr/bin/teamd [rteam]=/opt/rteam/bin/teamd)
[ -x "${TEAMD[rteam]}" ] || fail "${TEAMD[rteam]} missing"
mkdir -p /var/run/teamd

# lacp_topology N: netns peer and N veth pairs pI (root) <-> bI (peer), all down.
lacp_topology() {
    local i
    mk_netns peer
    for ((i = 0; i < $1; i++)); do
        mk_veth_pair "p$i" "b$i"
        ip link set "b$i" netns peer
    done
}

PEER_PID=
# peer_teamd CONFIG PORTS...: C teamd in the peer namespace on team1 with PORTS, team1
# addressed and up, its ports up.
peer_teamd() {
    local p
    printf '%s\n' "$1" >/tmp/team1.conf
    shift
    ip netns exec peer /usr/bin/teamd -f /tmp/team1.conf 2>>/tmp/teamd.peer.log &
    PEER_PID=$!
    wait_for -t 30 test -S /var/run/teamd/team1.sock
    for p in "$@"; do wait_for -t 20 ip netns exec peer "$CTL" team1 port present "$p"; done
    ip -n peer addr add 192.0.2.2/24 dev team1
    ip -n peer link set team1 up
    for p in "$@"; do ip -n peer link set "$p" up; done
}

# peer_silence: the partner stops speaking (SIGSTOP) without its links going down, as a
# hung partner would; stop_peer_teamd wakes it to end it.
peer_silence() { kill -STOP "$PEER_PID"; }

stop_peer_teamd() {
    kill "$PEER_PID" 2>/dev/null
    kill -CONT "$PEER_PID" 2>/dev/null
    wait "$PEER_PID" 2>/dev/null
    wait_for -t 20 sh -c '! ip -n peer link show team1'
    rm -f /var/run/teamd/team1.sock
}

TEAMD_PID=
TEAMD_LOG=
# start_team IMPL CONFIG PORTS...: teamd IMPL on CONFIG, waits until PORTS are in. The team
# and its ports stay down: bring_up does that (and starts the clock).
start_team() {
    local impl=$1 p
    printf '%s\n' "$2" >/tmp/team0.conf
    shift 2
    for p in "$@"; do ip link set "$p" down; done
    TEAMD_LOG=/tmp/teamd.$impl.log
    "${TEAMD[$impl]}" -f /tmp/team0.conf 2>>"$TEAMD_LOG" &
    TEAMD_PID=$!
    wait_for -t 30 test -S /var/run/teamd/team0.sock
    for p in "$@"; do wait_for -t 20 "$CTL" team0 port present "$p"; done
    ip addr add 192.0.2.1/24 dev team0
}

stop_team() {
    kill "$TEAMD_PID" 2>/dev/null
    wait "$TEAMD_PID" 2>/dev/null
    wait_for -t 20 sh -c '! ip link show team0'
    rm -f /var/run/teamd/team0.sock
}

MON_PID=
# monitor_start: timestamped `teamnl team0 monitor` (changed options and ports) into /tmp/mon.
monitor_start() {
    : >/tmp/mon
    (stdbuf -oL "$NL" team0 monitor | while IFS= read -r line; do
        printf '%s %s\n' "$EPOCHREALTIME" "$line"
    done >>/tmp/mon) &
    MON_PID=$!
    # subscribed once a set (which the kernel always announces) shows up
    local tries=100
    while ! grep -q mcast_rejoin_interval /tmp/mon; do
        "$NL" team0 setoption mcast_rejoin_interval 0
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || fail "teamnl monitor shows no events"
        sleep 0.1
    done
}

monitor_stop() {
    kill -- -"$MON_PID" 2>/dev/null || pkill -P "$MON_PID" 2>/dev/null
    kill "$MON_PID" 2>/dev/null
    wait "$MON_PID" 2>/dev/null
}

# bring_up PORTS...: team0 and the ports up; prints the start time (EPOCHREALTIME).
bring_up() {
    local p t0
    t0=$EPOCHREALTIME
    ip link set team0 up
    for p in "$@"; do ip link set "$p" up; done
    echo "$t0"
}

item() { "$CTL" team0 state item get "$1" 2>&1; }
peer_item() { ip netns exec peer "$CTL" team1 state item get "$1" 2>&1; }

# wait_item PATH VALUE [SECS]: teamd reports VALUE for state item PATH; false on timeout.
wait_item() {
    local nap_ms=50 slept_ms=0
    while [ "$(item "$1")" != "$2" ]; do
        [ "$slept_ms" -lt $((${3:-20} * 1000)) ] || return 1
        nap_next
    done
}

enabled() { "$NL" team0 -p "$1" getoption enabled 2>&1; }

# wait_enabled PORT VALUE [SECS]: the kernel's enabled option of PORT reaches VALUE.
wait_enabled() {
    local nap_ms=50 slept_ms=0
    while [ "$(enabled "$1")" != "$2" ]; do
        [ "$slept_ms" -lt $((${3:-20} * 1000)) ] || return 1
        nap_next
    done
}

# lacp_settled MODE PORTS...: the LACP exchange on PORTS (pI, partner port bI) has nothing
# left to change. A port without carrier must be "disabled" or "defaulted" (the team coming
# up expires every port, linked or not; 3 s later it defaults). Otherwise, MODE "up": both ends
# "current", and each end's partner info is the other end's actor info; MODE "silent" (team0
# admin-down, so it sends nothing): ours "current" with the partner's actor info, the
# partner "defaulted".
lacp_settled() {
    local mode=$1 ours peer p c down=()
    shift
    for p in "$@"; do
        c=0
        read -r c 2>/dev/null <"/sys/class/net/$p/carrier"
        [ "$c" = 1 ] || down+=("$p")
    done
    ours=$("$CTL" team0 state dump 2>/dev/null) || return 1
    peer=$(ip netns exec peer "$CTL" team1 state dump 2>/dev/null) || return 1
    # one jq for all ports: the guest is slow to start processes
    jq -e -n --argjson o "$ours" --argjson q "$peer" --arg mode "$mode" \
        --arg ports "$*" --arg down "${down[*]}" '
        ($down | split(" ")) as $d
        | all($ports | split(" ")[]; . as $p
            | $o.ports[$p].runner as $a | $q.ports["b" + $p[1:]].runner as $b
            | if any($d[]; . == $p) then $a.state == "disabled" or $a.state == "defaulted"
              else $a.state == "current" and $a.partner_lacpdu_info == $b.actor_lacpdu_info
                  and if $mode == "up"
                      then $b.state == "current" and $b.partner_lacpdu_info == $a.actor_lacpdu_info
                      else $b.state == "defaulted" end
              end)' >/dev/null
}

# wait_settled MODE SECS PORTS...: lacp_settled within SECS, else the scenario fails.
wait_settled() {
    local mode=$1 secs=$2 end=$((SECONDS + $2)) p nap_ms=100 slept_ms=0 nap_max_ms=800
    shift 2
    while ! lacp_settled "$mode" "$@"; do
        if [ "$SECONDS" -ge "$end" ]; then
            for p in "$@"; do
                echo "$p: carrier $(cat "/sys/class/net/$p/carrier" 2>&1)" >&2
                "$CTL" team0 state dump | jq -c ".ports.$p.runner" >&2
                ip netns exec peer "$CTL" team1 state dump | jq -c ".ports.b${p#p}.runner" >&2
            done
            fail "LACP on $* not settled ($mode) after $secs s"
        fi
        # each try is three teamdctl calls and a jq: about 0.7 s of guest CPU
        nap_next
    done
}

# lacp_changes: the LACP port state changes team0's teamd and the partner have logged.
lacp_changes() { grep -h 'Changed port state' "$TEAMD_LOG" /tmp/teamd.peer.log; }

# settled_record MODE "PORTS" FILE CMD...: CMD's output appended to FILE, taken once LACP on
# PORTS is settled (wait_settled MODE) and taken again if either end changed a port's state
# meanwhile. A starved guest (CI logs "some periodic function calls missed") can expire a
# fast-rate port between the settle check and the record, which then shows the flap (the
# partner's expired bit) rather than what the runner settles to. Each retry says what moved.
settled_record() {
    local mode=$1 ports=$2 file=$3 try before p
    shift 3
    for try in 1 2 3 4 5; do
        # shellcheck disable=SC2086
        wait_settled "$mode" 30 $ports
        before=$(lacp_changes | wc -l)
        "$@" >/tmp/settled_record
        # shellcheck disable=SC2086
        if lacp_settled "$mode" $ports; then
            [ "$(lacp_changes | wc -l)" = "$before" ] && { cat /tmp/settled_record >>"$file"; return; }
            say "LACP moved while recording \"$*\" (try $try): logged meanwhile:"
            lacp_changes | tail -n +"$((before + 1))"
        else
            say "LACP moved while recording \"$*\" (try $try): not settled after it:"
            for p in $ports; do
                echo "$p: ours $("$CTL" team0 state dump | jq -c ".ports.$p.runner | del(.aggregator)")"
                echo "$p: peer $(ip netns exec peer "$CTL" team1 state dump | jq -c ".ports.b${p#p}.runner | del(.aggregator)")"
            done
        fi
        grep -h 'periodic function calls missed' "$TEAMD_LOG" /tmp/teamd.peer.log | tail -n 3
    done
    fail "LACP never held still for \"$*\""
}

# agg_names: a sed -E script naming each of team0's aggregator ids after its first port
# ("<p0>") in teamdctl's text, JSON and item output. The id is the lead port's ifindex, and
# which port leads depends on which LACPDU came first (in C too).
agg_names() {
    "$CTL" team0 state dump | jq -r '
        [.ports | to_entries[] | {id: .value.runner.aggregator.id, p: .key}]
        | group_by(.id)[] | select(.[0].id != 0) | .[0].id as $i | (map(.p) | min) as $n
        | "s/aggregator ID: \($i)\\b/aggregator ID: <\($n)>/g",
          "s/\"id\": \($i),/\"id\": \"<\($n)>\",/g",
          "s/(aggregator\\.id: )\($i) /\\1<\($n)> /g"'
}

# converged_at T0 PORTS...: seconds from T0 until the last of PORTS was enabled, from the
# monitor log (the latest "enabled (port:P) true" line per port).
converged_at() {
    local t0=$1 p t last=0
    shift
    for p in "$@"; do
        t=$(awk -v want="enabled (port:$p) true" 'index($0, want) { t = $1 } END { print t }' /tmp/mon)
        [ -n "$t" ] || { echo "never"; return; }
        last=$(python3 -c "print(max($last, $t))")
    done
    python3 -c "print('%.3f' % ($last - $t0))"
}

# say MSG: MSG with the scenario's elapsed seconds.
say() { echo "[$SECONDS s] $*"; }

# norm: MACs, ifindexes (team0 is recreated between the runs, so its JSON "ifindex" too),
# pids normalised, and the C partner's link-watch down counts (whether its port saw one
# more flap while the topology was brought up is a race, not the runner under test);
# timing-dependent LACP bits are not touched here.
norm() {
    normalize | sed -E -e 's/(PID|pid)([": ]+)[0-9]+/\1\2<pid>/g' \
        -e 's/("ifindex": )[0-9]+/\1<ifindex>/g' \
        -e 's/^(peer: +down count: )[0-9]+/\1<n>/'
}

# same WHAT FILE_STEM: FILE_STEM.C and FILE_STEM.rteam match after norm.
same() {
    if ! diff -u --label C --label rteam <(norm <"$2.C") <(norm <"$2.rteam") >/tmp/diff; then
        echo "FAIL: $1 differs between C teamd and rteam (-C +rteam):" >&2
        cat /tmp/diff >&2
        echo "--- rteam teamd log:" >&2
        tail -n 40 /tmp/teamd.rteam.log >&2
        echo "--- C teamd log:" >&2
        tail -n 20 /tmp/teamd.C.log >&2
        exit 1
    fi
    CHECKS=$((CHECKS + 1))
    echo "same: $1"
}

CHECKS=0

#!/bin/bash
# rteam bench (guest side): C teamd and rteam's teamd measured the same way, in this one
# boot, one after the other. Run by `cargo xtask bench`, which sets the BENCH_* sizes
# below and turns what this writes into target/bench/report.{md,json}.
#
# Observation is done by rteam-bench-monitor, a process separate from both daemons: it
# stamps kernel events (carrier, Team options) and D-Bus name owners with CLOCK_MONOTONIC.
# Written to /results:
#   events/ROW.IMPL.log    monitor (and stamp) lines, paired into latencies on the host
#   samples/KEY.IMPL.txt   one sample a line (ns)
#   values.txt             "KEY IMPL NUMBER" (kB, ms, counts: the report knows the unit)
#   notes.txt              "KEY IMPL TEXT": why a row could not be measured
#   meta.txt               "KEY VALUE": the sizes used, kernel, versions
# A row that cannot run for one daemon says why in notes.txt; nothing here fails on a number.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

REPS=${BENCH_REPS:-20}
CALLS=${BENCH_CALLS:-1000}
LEAK_CALLS=${BENCH_LEAK_CALLS:-10000}
FLAPS=${BENCH_FLAPS:-1000}
MANY_PORTS=${BENCH_MANY_PORTS:-32}
BIG_PORTS=${BENCH_BIG_PORTS:-64}
TEAMS=${BENCH_TEAMS:-50}
IDLE_SECS=${BENCH_IDLE_SECS:-60}
IMPLS=(C rteam)

B=/opt/rteam/bin
MON=$B/rteam-bench-monitor
CTLB=$B/rteam-bench-ctl
CTL=/usr/bin/teamdctl
NL=/usr/bin/teamnl
for f in "$MON" "$CTLB" "$B/teamd"; do [ -x "$f" ] || fail "$f missing"; done
# Both daemons run from tmpfs: the 9p root has no page cache, so every start would otherwise
# read the executable over 9p again (the larger one, ours, paying more).
mkdir -p /tmp/bench-bin/C /tmp/bench-bin/rteam
cp /usr/bin/teamd /tmp/bench-bin/C/teamd
cp "$B/teamd" /tmp/bench-bin/rteam/teamd
declare -A TEAMD=([C]=/tmp/bench-bin/C/teamd [rteam]=/tmp/bench-bin/rteam/teamd)

R=/results
mkdir -p $R/events $R/samples $R/logs
: >$R/values.txt
: >$R/notes.txt
t_start=$(date +%s)

val() { echo "$1 $2 $3" >>$R/values.txt; }
note() {
    local key=$1 impl=$2
    shift 2
    echo "$key $impl $*" >>$R/notes.txt
    echo "  note: $key $impl: $*"
}
meta() { echo "$1 $2" >>$R/meta.txt; }
section() { echo "== $* ($(($(date +%s) - t_start)) s)"; }

{
    echo "reps $REPS"
    echo "calls $CALLS"
    echo "leak_calls $LEAK_CALLS"
    echo "flaps $FLAPS"
    echo "many_ports $MANY_PORTS"
    echo "big_ports $BIG_PORTS"
    echo "teams $TEAMS"
    echo "idle_secs $IDLE_SECS"
    echo "kernel $(uname -r)"
    echo "c_teamd $(dpkg-query -W -f '${Version}' libteam-utils 2>/dev/null)"
    echo "cpus $(nproc)"
} >$R/meta.txt

# -- the system bus, with rteam's policy (it allows what Debian's allows, for both daemons)
cp /opt/rteam/src/dbus/policy/teamd.conf /etc/dbus-1/system.d/teamd.conf
mkdir -p /run/dbus
dbus-daemon --system --fork --print-pid >/tmp/dbus.pid || fail "no system bus"
wait_for -t 20 test -S /run/dbus/system_bus_socket

# -- helpers ----------------------------------------------------------------------------

# conf FILE JSON: write a teamd config
conf() { printf '%s\n' "$2" >"$1"; }

# ports_json PREFIX N [EXTRA]: "PREFIX0": {EXTRA}, ... for N ports
ports_json() {
    local i out=
    for ((i = 0; i < $2; i++)); do out+="${out:+, }\"$1$i\": {${3:-}}"; done
    echo "$out"
}

# port_names CONF: the ports a config names
port_names() { jq -r '.ports | keys_unsorted[]' "$1"; }

DAEMON_PIDS=()
READY_NS=
# start IMPL CONF...: set the configs' ports down (enslaving needs it), start one daemon
# per config through the monitor and wait until all are ready (ports enslaved, D-Bus name
# owned). READY_NS is the monitor's start-to-ready time; false if not ready in time.
start() {
    local impl=$1 c p args=()
    shift
    for c in "$@"; do
        for p in $(port_names "$c"); do ip link set "$p" down; done
        args+=(--config "$c")
    done
    rm -f /tmp/pids
    READY_NS=$("$MON" ready --dbus "${args[@]}" --pids /tmp/pids --timeout 120 \
        --log "/tmp/teamd.$impl.log" -- "${TEAMD[$impl]}" -D -f '{}')
    local rc=$?
    mapfile -t DAEMON_PIDS </tmp/pids 2>/dev/null
    return $rc
}

# alive PID: the process exists and is not a zombie (daemons started by the monitor are
# reparented to init once it exits, and reaped whenever init gets to it)
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# stop: end the daemons started by start (by pid) and wait until their teams are gone.
stop() {
    local pid dev
    for pid in "${DAEMON_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    # A daemon that has not exited after 60 s is killed: a benchmark reports, it does not
    # stop on a daemon's bug (C teamd has hung at exit with 50 teams, in a netlink wait).
    for pid in "${DAEMON_PIDS[@]}"; do
        local tries=600
        while alive "$pid" && [ "$tries" -gt 0 ]; do
            tries=$((tries - 1))
            sleep 0.1
        done
        if alive "$pid"; then
            echo "  stop: $(cat /proc/$pid/comm 2>/dev/null) pid $pid still running 60 s after SIGTERM: killed"
            echo "hung_at_exit $(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null)" >>$R/meta.txt
            kill -9 "$pid" 2>/dev/null
            sleep 1
        fi
    done
    DAEMON_PIDS=()
    for dev in $(ip -o link show type team | awk -F': ' '{ print $2 }'); do
        ip link del "${dev%@*}" 2>/dev/null
    done
    rm -f /var/run/teamd/*.sock /var/run/teamd/*.pid
}

# ports_up CONF: the config's ports up (the far ends are already up)
ports_up() {
    local p
    for p in $(port_names "$1"); do ip link set "$p" up; done
}

# until_ok SECS CMD...: rerun CMD every 0.1 s until it succeeds; false after SECS (unlike
# wait_for, a row that does not converge is reported, not the end of the bench)
until_ok() {
    local tries=$(($1 * 10))
    shift
    while ! "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

item() { "$CTL" "${2:-team0}" state item get "$1" 2>/dev/null; }

# wait_item PATH VALUE [SECS] [TEAM]: the daemon reports VALUE at PATH; false on timeout
wait_item() {
    local tries=$((${3:-20} * 10))
    while [ "$(item "$1" "${4:-team0}")" != "$2" ]; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

# wait_watch_up CONF: every port of CONF reports its link watch up
wait_watch_up() {
    local p dev
    dev=$(jq -r .device "$1")
    for p in $(port_names "$1"); do
        wait_item "ports.$p.link_watches.up" true 30 "$dev" || return 1
    done
}

MON_PID=
# monitor_start LOG: the event monitor, appending to LOG, ready to observe
monitor_start() {
    : >"$1"
    "$MON" events --option activeport --option enabled --option user_linkup >>"$1" 2>>/tmp/monitor.err &
    MON_PID=$!
    wait_for -t 20 grep -q ' ready$' "$1"
}
monitor_stop() {
    kill "$MON_PID" 2>/dev/null
    wait "$MON_PID" 2>/dev/null
}

# mem KEY IMPL PID...: RSS and PSS (kB, summed over PIDs) from smaps_rollup
mem() {
    local key=$1 impl=$2 rss=0 pss=0 anon=0 r p a
    shift 2
    for pid in "$@"; do
        read -r r p a < <(awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 } /^Anonymous:/ { a = $2 }
            END { print r + 0, p + 0, a + 0 }' "/proc/$pid/smaps_rollup")
        rss=$((rss + r))
        pss=$((pss + p))
        anon=$((anon + a))
    done
    val "${key}_rss" "$impl" "$rss"
    val "${key}_pss" "$impl" "$pss"
    val "${key}_anon" "$impl" "$anon"
    echo "  $impl $key: rss $rss kB, pss $pss kB, anonymous $anon kB"
}

# probe IMPL CONF WORD: does the daemon run with CONF, its state dump naming WORD (the
# runner or watch asked for)? Its last log line goes to PROBE_MSG.
PROBE_MSG=
probe() {
    local impl=$1 c=$2 word=$3 p pid dev tries=150 ok=1
    dev=$(jq -r .device "$c")
    for p in $(port_names "$c"); do ip link set "$p" down; done
    "${TEAMD[$impl]}" -f "$c" >/tmp/probe.log 2>&1 &
    pid=$!
    while [ "$tries" -gt 0 ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        if "$CTL" "$dev" state dump 2>/dev/null | matches "\"$word\""; then
            ok=0
            break
        fi
        tries=$((tries - 1))
        sleep 0.1
    done
    PROBE_MSG=$(grep -v '^$' /tmp/probe.log | tail -n 1)
    [ "$ok" = 0 ] || PROBE_MSG=${PROBE_MSG:-"no $word in its state"}
    cp /tmp/probe.log "$R/logs/probe.$impl.$word.log"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    ip link del "$dev" 2>/dev/null
    rm -f "/var/run/teamd/$dev.sock" "/var/run/teamd/$dev.pid"
    return $ok
}

# -- topology ---------------------------------------------------------------------------
section "topology"
# failover pair: p0/p1 in the root namespace, far ends b0/b1 up in netns "peer"
mk_netns peer
for i in 0 1; do
    mk_veth_pair "p$i" "b$i"
    veth_to_ns "b$i" peer
done
# arp_ping: a0..a3, each far end alone in netns apeerN answering for 192.0.2.2
for i in 0 1 2 3; do
    mk_netns "apeer$i"
    mk_veth_pair "a$i" "ab$i"
    veth_to_ns "ab$i" "apeer$i"
    ip -n "apeer$i" addr add 192.0.2.2/24 dev "ab$i"
done
# many ports: q0..q(BIG-1), far ends in netns "many"
mk_netns many
{
    for ((i = 0; i < BIG_PORTS; i++)); do
        echo "link add q$i type veth peer name r$i netns many"
    done
} | ip -batch - || fail "cannot create the many-port veths"
{ for ((i = 0; i < BIG_PORTS; i++)); do echo "link set r$i up"; done; } | ip -n many -batch -
# many teams: s<T>x<P>, far ends in netns "hosts"
mk_netns hosts
{
    for ((t = 0; t < TEAMS; t++)); do
        for i in 0 1; do echo "link add s${t}x$i type veth peer name h${t}x$i netns hosts"; done
    done
} | ip -batch - || fail "cannot create the many-team veths"
{
    for ((t = 0; t < TEAMS; t++)); do
        for i in 0 1; do echo "link set h${t}x$i up"; done
    done
} | ip -n hosts -batch -

# lacp: l0/l1 in the root namespace, partner team1 (always C teamd) on m0/m1 in netns "lpeer"
mk_netns lpeer
for i in 0 1; do
    mk_veth_pair "l$i" "m$i"
    ip link set "m$i" netns lpeer
done

# -- configs ----------------------------------------------------------------------------
conf /tmp/ab.conf '{"device": "team0", "runner": {"name": "activebackup"},
    "link_watch": {"name": "ethtool"},
    "ports": {"p0": {"prio": 10}, "p1": {"prio": 5}}}'
# send_always: the backup port probes too, so it is known up when the active one fails
# (without it an idle port's watch decays to down and there is nothing to fail over to).
ARP_WATCH='{"name": "arp_ping", "interval": 100, "missed_max": 1, "send_always": true,
    "source_host": "192.0.2.1", "target_host": "192.0.2.2"}'
conf /tmp/arp.conf "{\"device\": \"team0\", \"runner\": {\"name\": \"activebackup\"},
    \"link_watch\": $ARP_WATCH,
    \"ports\": {\"a0\": {\"prio\": 10}, \"a1\": {\"prio\": 5}}}"
conf /tmp/arp4.conf "{\"device\": \"team0\", \"runner\": {\"name\": \"activebackup\"},
    \"link_watch\": $ARP_WATCH, \"ports\": {$(ports_json a 4)}}"
conf /tmp/eth4.conf "{\"device\": \"team0\", \"runner\": {\"name\": \"activebackup\"},
    \"link_watch\": {\"name\": \"ethtool\"}, \"ports\": {$(ports_json a 4)}}"
conf /tmp/many.conf "{\"device\": \"team0\", \"runner\": {\"name\": \"activebackup\"},
    \"link_watch\": {\"name\": \"ethtool\"}, \"ports\": {$(ports_json q "$MANY_PORTS")}}"
conf /tmp/big.conf "{\"device\": \"team0\", \"runner\": {\"name\": \"activebackup\"},
    \"link_watch\": {\"name\": \"ethtool\"}, \"ports\": {$(ports_json q "$BIG_PORTS")}}"
LACP_RUNNER='{"name": "lacp", "active": true, "fast_rate": true}'
conf /tmp/lacp.conf "{\"device\": \"team0\", \"runner\": $LACP_RUNNER,
    \"link_watch\": {\"name\": \"ethtool\"}, \"ports\": {\"l0\": {}, \"l1\": {}}}"
conf /tmp/lacp-partner.conf "{\"device\": \"team1\", \"runner\": $LACP_RUNNER,
    \"link_watch\": {\"name\": \"ethtool\"}, \"ports\": {\"m0\": {}, \"m1\": {}}}"
TEAM_CONFS=()
for ((t = 0; t < TEAMS; t++)); do
    conf "/tmp/t$t.conf" "{\"device\": \"tm$t\", \"runner\": {\"name\": \"activebackup\"},
        \"link_watch\": {\"name\": \"ethtool\"},
        \"ports\": {\"s${t}x0\": {\"prio\": 10}, \"s${t}x1\": {}}}"
    TEAM_CONFS+=("/tmp/t$t.conf")
done

# -- probes: rows whose feature rteam may not have yet ------------------------------------
section "probes"
declare -A HAS_ARP HAS_LACP
for impl in "${IMPLS[@]}"; do
    if probe "$impl" /tmp/arp.conf arp_ping; then
        HAS_ARP[$impl]=1
    else
        HAS_ARP[$impl]=0
        echo "  $impl: arp_ping not available (teamd said: $PROBE_MSG)"
    fi
    if probe "$impl" /tmp/lacp.conf lacp; then
        HAS_LACP[$impl]=1
    else
        HAS_LACP[$impl]=0
        echo "  $impl: lacp not available (teamd said: $PROBE_MSG)"
    fi
done

# -- 1. failover, activebackup + ethtool ----------------------------------------------------
section "1. failover (ethtool)"
for impl in "${IMPLS[@]}"; do
    start "$impl" /tmp/ab.conf || { note failover_ethtool "$impl" "daemon not ready"; stop; continue; }
    ports_up /tmp/ab.conf
    ip -n peer link set b0 up
    ip -n peer link set b1 up
    if ! wait_watch_up /tmp/ab.conf || ! wait_item runner.active_port p0; then
        note failover_ethtool "$impl" "ports never came up"
        stop
        continue
    fi
    monitor_start "$R/events/failover_ethtool.$impl.log"
    for ((r = 0; r < REPS; r++)); do
        ip -n peer link set b0 down
        wait_item runner.active_port p1 || echo "  $impl: no failover to p1 (rep $r)"
        ip -n peer link set b0 up
        # p0 has the higher prio and is not sticky: it becomes active again
        wait_item runner.active_port p0 || echo "  $impl: no failback to p0 (rep $r)"
        wait_item ports.p0.link_watches.up true
    done
    monitor_stop
    stop
done

# -- 2. failover, activebackup + arp_ping (100 ms, missed_max 1) ----------------------------
section "2. failover (arp_ping)"
arp_ignore() { ip netns exec "apeer$1" sh -c "echo $2 >/proc/sys/net/ipv4/conf/ab$1/arp_ignore"; }
for impl in "${IMPLS[@]}"; do
    if [ "${HAS_ARP[$impl]}" != 1 ]; then
        note failover_arp "$impl" "arp_ping not available"
        continue
    fi
    start "$impl" /tmp/arp.conf || { note failover_arp "$impl" "daemon not ready"; stop; continue; }
    ports_up /tmp/arp.conf
    ip addr add 192.0.2.1/24 dev team0
    ip link set team0 up
    if ! wait_watch_up /tmp/arp.conf || ! wait_item runner.active_port a0; then
        note failover_arp "$impl" "arp_ping never saw its peers"
        "$CTL" team0 state dump >"$R/logs/failover_arp.$impl.state.json" 2>&1
        stop
        continue
    fi
    LOG=$R/events/failover_arp.$impl.log
    monitor_start "$LOG"
    for ((r = 0; r < REPS; r++)); do
        # the peer of the active port stops answering ARP (8: reply to nothing)
        ip netns exec apeer0 "$MON" stamp --write /proc/sys/net/ipv4/conf/ab0/arp_ignore 8 \
            noreply a0 >>"$LOG"
        wait_item runner.active_port a1 || echo "  $impl: no failover to a1 (rep $r)"
        arp_ignore 0 0
        wait_item runner.active_port a0 || echo "  $impl: no failback to a0 (rep $r)"
        wait_item ports.a0.link_watches.up true
    done
    monitor_stop
    stop
done

# -- 3. start to ready ------------------------------------------------------------------
section "3. start to ready"
for impl in "${IMPLS[@]}"; do
    for ((r = 0; r < REPS; r++)); do
        if start "$impl" /tmp/ab.conf; then
            echo "$READY_NS" >>"$R/samples/ready.$impl.txt"
        else
            echo "  $impl: not ready (rep $r)"
        fi
        stop
    done
done

# -- 4. control round trips, 5. memory at 2 ports and after load ----------------------------
section "4/5. control calls, memory (2 ports)"
for impl in "${IMPLS[@]}"; do
    start "$impl" /tmp/ab.conf || { note ctl_usock "$impl" "daemon not ready"; stop; continue; }
    ports_up /tmp/ab.conf
    wait_watch_up /tmp/ab.conf
    pid=${DAEMON_PIDS[0]}
    sleep 2
    mem mem_idle2 "$impl" "$pid"
    "$CTLB" usock team0 "$CALLS" --out "$R/samples/ctl_usock.$impl.txt" ||
        note ctl_usock "$impl" "calls failed"
    "$CTLB" dbus team0 "$CALLS" --out "$R/samples/ctl_dbus.$impl.txt" ||
        note ctl_dbus "$impl" "calls failed"
    "$CTLB" usock team0 "$LEAK_CALLS" || note mem_after "$impl" "control calls failed"
    # port flaps: each port set down and up by rtnetlink in batches (a port's own admin
    # state reaches teamd at once; a far end's carrier would be rate-limited by linkwatch)
    left=$FLAPS
    while [ "$left" -gt 0 ]; do
        n=$((left < 100 ? left : 100))
        for ((i = 0; i < n; i++)); do
            echo "link set p$((i % 2)) down"
            echo "link set p$((i % 2)) up"
        done | ip -batch -
        left=$((left - n))
        sleep 0.2
    done
    wait_watch_up /tmp/ab.conf || note mem_after "$impl" "ports not up after the flaps"
    sleep 2
    if alive "$pid"; then
        mem mem_after "$impl" "$pid"
    else
        note mem_after "$impl" "daemon died under load"
    fi
    stop
done

section "5. memory ($MANY_PORTS ports), 6. scale ($BIG_PORTS ports)"
for impl in "${IMPLS[@]}"; do
    for size in many big; do
        if start "$impl" "/tmp/$size.conf"; then
            val "ready_$size" "$impl" "$READY_NS"
            sleep 2
            mem "mem_$size" "$impl" "${DAEMON_PIDS[0]}"
        else
            note "mem_$size" "$impl" "daemon not ready"
        fi
        stop
    done
done

# -- 6. many teams ----------------------------------------------------------------------
section "6. $TEAMS teams"
for impl in "${IMPLS[@]}"; do
    if start "$impl" "${TEAM_CONFS[@]}"; then
        val "ready_teams" "$impl" "$READY_NS"
        sleep 2
        mem mem_teams "$impl" "${DAEMON_PIDS[@]}"
    else
        note mem_teams "$impl" "not all $TEAMS daemons ready"
        tail -n 5 "/tmp/teamd.$impl.log" | sed 's/^/    /'
    fi
    echo "  $impl: started ($(($(date +%s) - t_start)) s)"
    stop
    echo "  $impl: stopped ($(($(date +%s) - t_start)) s)"
done

# -- 7. lacp convergence ----------------------------------------------------------------
section "7. lacp"
for impl in "${IMPLS[@]}"; do
    if [ "${HAS_LACP[$impl]}" != 1 ]; then
        note lacp "$impl" "lacp runner not available"
        continue
    fi
    ip -n lpeer link set m0 down
    ip -n lpeer link set m1 down
    ip netns exec lpeer /usr/bin/teamd -f /tmp/lacp-partner.conf 2>>/tmp/partner.log &
    partner=$!
    if ! start "$impl" /tmp/lacp.conf; then
        note lacp "$impl" "daemon not ready"
    else
        ports_up /tmp/lacp.conf
        ip link set team0 up
        until_ok 30 ip netns exec lpeer "$NL" team1 ports || echo "  partner team1 not up"
        ip -n lpeer link set team1 up
        LOG=$R/events/lacp.$impl.log
        monitor_start "$LOG"
        for ((r = 0; r < REPS; r++)); do
            # both ends up at once: the far ports (already in team1) up in one batch
            printf 'link set m0 up\nlink set m1 up\n' | ip -n lpeer -batch -
            until_ok 30 sh -c "[ \"\$($NL team0 -p l0 getoption enabled)\" = true ] &&
                [ \"\$($NL team0 -p l1 getoption enabled)\" = true ]" ||
                echo "  $impl: lacp did not converge (rep $r)"
            printf 'link set m0 down\nlink set m1 down\n' | ip -n lpeer -batch -
            until_ok 30 sh -c "[ \"\$($NL team0 -p l0 getoption enabled)\" = false ] &&
                [ \"\$($NL team0 -p l1 getoption enabled)\" = false ]"
        done
        monitor_stop
    fi
    stop
    kill "$partner" 2>/dev/null
    wait "$partner" 2>/dev/null
    ip -n lpeer link del team1 2>/dev/null
done

# -- 8. idle CPU ------------------------------------------------------------------------
# cpu IMPL KEY: CPU time (ms) and context switches of all the daemon's threads (each
# switch is a sleep or a preemption: the wakeups) over IDLE_SECS of idling
idle() {
    local impl=$1 key=$2 pid=${DAEMON_PIDS[0]} t0 t1 c0 c1
    ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
    switches() {
        cat /proc/"$pid"/task/*/status | awk '/ctxt_switches/ { s += $2 } END { print s }'
    }
    sleep 1
    t0=$(ticks)
    c0=$(switches)
    sleep "$IDLE_SECS"
    t1=$(ticks)
    c1=$(switches)
    val "${key}_cpu_ms" "$impl" $(((t1 - t0) * 1000 / $(getconf CLK_TCK)))
    val "${key}_wakeups" "$impl" "$(awk -v a="$c0" -v b="$c1" -v s="$IDLE_SECS" 'BEGIN { printf "%.2f", (b - a) / s }')"
    echo "  $impl $key: $(((t1 - t0) * 1000 / $(getconf CLK_TCK))) ms CPU, $((c1 - c0)) switches"
}
for watch in arp eth; do
    section "8. idle CPU, 4 ports, $watch watch, $IDLE_SECS s"
    for impl in "${IMPLS[@]}"; do
        if [ "$watch" = arp ] && [ "${HAS_ARP[$impl]}" != 1 ]; then
            note idle_arp "$impl" "arp_ping not available"
            continue
        fi
        start "$impl" "/tmp/${watch}4.conf" || { note "idle_$watch" "$impl" "daemon not ready"; stop; continue; }
        ports_up "/tmp/${watch}4.conf"
        ip addr add 192.0.2.1/24 dev team0
        ip link set team0 up
        if wait_watch_up "/tmp/${watch}4.conf"; then
            idle "$impl" "idle_$watch"
        else
            note "idle_$watch" "$impl" "ports never came up"
        fi
        stop
    done
done

section "10. NetworkManager config change"
bash "${BASH_SOURCE[0]%/*}/nm-bench.sh" || echo "  nm-bench.sh failed (exit $?)"

section "done"
cp /tmp/teamd.*.log /tmp/partner.log /tmp/monitor.err "$R/logs/" 2>/dev/null
echo "bench: finished in $(($(date +%s) - t_start)) s"

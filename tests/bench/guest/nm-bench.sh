#!/bin/bash
# Section 10 of the bench (guest side, run by bench.sh at its end): NetworkManager changes a
# team's config the way an admin does, `nmcli con mod ...` then `nmcli con up t0`, on an
# activebackup team with a ping every 5 ms across it; for C teamd and for ours (bound over
# /usr/bin/teamd in NM's mount namespace, as nm-restart does). Measured: the longest silence
# between two ping replies and the replies lost (requests the kernel sent, minus replies).
# Two changes: a link-watch change (team.config) and a port prio change (team-port.prio of
# pn1's profile). NM 1.42 detaches both ports before it stops teamd and attaches them to the
# new one (its log: "detached team port"), and refuses `nmcli dev reapply` for any team
# setting, so the silence is bounded below by NM's own detach-to-attach time, whichever
# teamd runs; what teamd adds is its start-to-ready.
# Each change is made BENCH_NM_REPS times (the value alternating, so each is a change).
# Writes samples/nm_change_{lw,prio}_{silence,lost}.IMPL.txt (ns; a count) and notes.txt lines.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
source /opt/rteam/tests/guest/nm-lib.sh

R=/results
B=/opt/rteam/bin
REPS=${BENCH_NM_REPS:-3}
mkdir -p $R/samples
note() { echo "$1 $2 $3" >>$R/notes.txt; echo "  note: $*"; }

rm -f /usr/share/dbus-1/system-services/org.freedesktop.nm_dispatcher.service
# its own ports and peer, apart from bench.sh's: pn0, pn1 (NM manages p*) to netns nmpeer,
# br0 198.51.100.2
bridge_peer_as nmpeer 198.51.100.2/24 pn nb 2
# bench.sh's system bus (the same policies) serves NM too
[ -S /run/dbus/system_bus_socket ] || nm_bus_start

# silence.py FILE: "SILENCE_MS REPLIES" from `ping -D` output: the longest gap between two
# replies, in ms, and how many replies came.
cat >/tmp/silence.py <<'PY'
import re, sys
stamps = [float(m.group(1)) for line in open(sys.argv[1], errors="replace")
          for m in [re.match(r"\[(\d+\.\d+)\] \d+ bytes from", line)] if m]
gap = max((b - a for a, b in zip(stamps, stamps[1:])), default=-1.0)
print("%.0f %d" % (gap * 1000, len(stamps)))
PY

# icmp_out: echo requests the kernel has sent (the kernel's count: a request that cannot be
# sent while no port is enslaved fails with an error ping does not count).
icmp_out() { awk '$1 == "Icmp:" { if (!n) { for (i = 2; i <= NF; i++) if ($i == "OutEchos") c = i; n = 1 } else print $c }' /proc/net/snmp; }

# change IMPL KEY WHAT...: with a ping running, apply the change (WHAT: an nmcli con mod
# argument list), `nmcli con up t0`, wait until the team is connected and pings again.
change() {
    local impl=$1 key=$2 pid out0 out1 r
    shift 2
    out0=$(icmp_out)
    ping -D -i 0.005 198.51.100.2 >/tmp/nm-ping.out 2>&1 &
    pid=$!
    sleep 2
    if ! nmcli con mod "$@" || ! nmcli --wait 60 con up t0 >/dev/null 2>&1; then
        note "nm_change_$key" "$impl" "nmcli con mod/up failed"
    fi
    wait_wall 60 nm_connected nmteam0 || note "nm_change_$key" "$impl" "team not connected again"
    sleep 3
    kill -INT "$pid"
    wait "$pid"
    out1=$(icmp_out)
    read -r silence r < <(python3 /tmp/silence.py /tmp/nm-ping.out)
    echo "$((silence * 1000000))" >>"$R/samples/nm_change_${key}_silence.$impl.txt"
    echo "$((out1 - out0 - r))" >>"$R/samples/nm_change_${key}_lost.$impl.txt"
    echo "  $impl $key: longest silence $silence ms, $((out1 - out0 - r)) of $((out1 - out0)) lost"
}

run() {
    local impl=$1 teamd=${2:-} rep
    nm_start "bench.$impl" "$teamd"
    nmcli con add type team con-name t0 ifname nmteam0 \
        team.config '{"runner": {"name": "activebackup"}, "link_watch": {"name": "ethtool"}}' \
        ipv4.method manual ipv4.addresses 198.51.100.1/24 ipv6.method disabled \
        connection.autoconnect no connection.autoconnect-slaves yes >/dev/null
    nmcli con add type ethernet con-name t0p0 ifname pn0 master nmteam0 slave-type team \
        connection.autoconnect no team-port.prio 10 >/dev/null
    nmcli con add type ethernet con-name t0p1 ifname pn1 master nmteam0 slave-type team \
        connection.autoconnect no >/dev/null
    nmcli --wait 60 con up t0 >/dev/null 2>&1
    if wait_wall 60 nm_connected nmteam0 && wait_wall 30 ping -c 1 -W 1 198.51.100.2; then
        for ((rep = 0; rep < REPS; rep++)); do
            change "$impl" lw t0 team.config "{\"runner\": {\"name\": \"activebackup\"},
                \"link_watch\": {\"name\": \"ethtool\", \"delay_up\": $((50 + rep % 2))}}"
            change "$impl" prio t0p1 team-port.prio $((5 + rep % 2))
        done
    else
        note nm_change_lw "$impl" "the team never came up under NetworkManager"
        note nm_change_prio "$impl" "the team never came up under NetworkManager"
    fi
    nmcli --wait 30 con down t0 >/dev/null 2>&1
    wait_wall 20 sh -c '! ip link show nmteam0'
    nmcli con delete t0 t0p0 t0p1 >/dev/null 2>&1
    nm_stop
    rm -f /var/run/teamd/nmteam0.sock /var/run/teamd/nmteam0.pid
}

run C
run rteam "$B/teamd"

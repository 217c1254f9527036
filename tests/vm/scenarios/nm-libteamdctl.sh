#!/bin/bash
# nm-libteamdctl: rteam's libteamdctl.so.0 (nm-plugin) in place of Debian's libteamdctl0.
#  (1) ABI: same soname, same exported functions as Debian's library.
#  (2) Debian's own teamdctl binary, run once with Debian's library and once with ours
#      (LD_LIBRARY_PATH), drives a C teamd through a set of commands over usock and D-Bus,
#      including failing ones and the library's log lines: stdout, stderr and status diffed.
#  (3) Debian's NetworkManager (binary unchanged) with our library bound over Debian's in
#      its mount namespace, and our teamd: `nmcli con up` connects an activebackup team,
#      NM reads ConfigDumpActual into TEAM.CONFIG, a changed port profile reaches teamd
#      through PortConfigUpdate, `con down` leaves nothing behind.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
source /opt/rteam/tests/guest/nm-lib.sh

R=/opt/rteam/bin
LIB=$R/libteamdctl.so.0
[ -f "$LIB" ] || fail "$LIB missing (not staged)"
checks=0
t_start=$EPOCHSECONDS
step() { echo "[$(($EPOCHSECONDS - t_start)) s] $*"; }

rm -f /usr/share/dbus-1/system-services/org.freedesktop.nm_dispatcher.service

step "(1) ABI"
python3 /opt/rteam/tests/guest/elf-exports.py "$NM_LIBTEAMDCTL" >/tmp/abi.C || fail "cannot read Debian's library"
python3 /opt/rteam/tests/guest/elf-exports.py "$LIB" >/tmp/abi.rteam || fail "cannot read our library"
[ "$(grep -c '^func ' /tmp/abi.C)" = 20 ] || fail "Debian's library: unexpected export count"
assert_eq "$(</tmp/abi.C)" "$(</tmp/abi.rteam)" "soname and exported functions"
checks=$((checks + 1))
# the library and our teamdctl run from tmpfs copies (see local_copy)
LOCAL_LIB=$(local_copy "$LIB")
LIBDIR=$(dirname "$LOCAL_LIB")
CTL=$(local_copy "$R/teamdctl")
# ldd's output read whole first (pkg-rpm says why)
deps=$(LD_LIBRARY_PATH=$LIBDIR ldd /usr/bin/teamdctl)
grep -qF "libteamdctl.so.0 => $LOCAL_LIB" <<<"$deps" \
    || fail "Debian's teamdctl does not pick up our library with LD_LIBRARY_PATH: $deps"
checks=$((checks + 1))

step "(2) Debian's teamdctl on both libraries"
nm_bus_start
mk_veth_pair p0 b0
mk_veth_pair p1 b1
mk_veth_pair p2 b2
cat >/tmp/team0.conf <<'CONF'
{"device": "team0", "runner": {"name": "activebackup"},
 "ports": {"p0": {"prio": 5}, "p1": {"sticky": true}}}
CONF
# a fresh C teamd for each library: the commands change its state. Link watch down counts
# are not compared: whether a freshly enslaved port's watch sees a transient up is a race
# inside C teamd (CI saw 1 with one library and 0 with the other), not the library's doing.
start_teamd() {
    ip link set p0 down; ip link set p1 down; ip link set p2 down
    teamd -d -D -f /tmp/team0.conf || fail "C teamd did not start"
    wait_wall 30 sh -c "busctl --system list | grep -q org.libteam.teamd.team0"
}
stop_teamd() {
    teamd -k -t team0
    wait_wall 30 sh -c '! ip link show team0'
}

# ctl LIB ARGS...: Debian's teamdctl with LIB (C = Debian's); status, stdout, stderr
ctl() {
    local lib=$1 out err rc
    shift
    if [ "$lib" = rteam ]; then
        out=$(LD_LIBRARY_PATH=$LIBDIR timeout 20 teamdctl "$@" 2>/tmp/ctl.err)
    else
        out=$(timeout 20 teamdctl "$@" 2>/tmp/ctl.err)
    fi
    rc=$?
    err=$(</tmp/ctl.err)
    printf '$ teamdctl %s\nrc=%s\n%s\n--stderr\n%s\n' "$*" "$rc" "$out" "$err" \
        | sed -E -e 's/("?(pid|PID)"?[": ]+)[0-9]+/\1<pid>/g' -e 's/("ifindex": )[0-9]+/\1<ifindex>/g' \
            -e 's/("down_count": |down count: )[0-9]+/\1<n>/' \
        | normalize
}

commands() {
    local lib=$1 force
    start_teamd
    # every command on the default transport (usock) ...
    ctl "$lib" team0 config dump
    ctl "$lib" team0 config dump actual
    ctl "$lib" -o team0 config dump noports
    ctl "$lib" team0 state dump
    ctl "$lib" -v team0 state view
    ctl "$lib" team0 state item get runner.active_port
    ctl "$lib" team0 state item get setup.nosuchitem
    ctl "$lib" team0 port present p0
    ctl "$lib" team0 port present p2
    ctl "$lib" team0 port config dump p1
    ctl "$lib" team0 port config dump p2
    ctl "$lib" team0 port config update p2 '{"prio": 3}'
    ctl "$lib" team0 port config update p2 '{"prio": 3, "prio": 4}'
    ctl "$lib" team0 port add p2
    ctl "$lib" team0 port config dump p2
    ctl "$lib" team0 state item set runner.active_port p2
    ctl "$lib" team0 state item get runner.active_port
    ctl "$lib" team0 port remove p2
    ctl "$lib" team0 port remove p2
    ctl "$lib" team0 port add nosuchdev
    # ... and a sample forced onto each transport
    for force in -D -U; do
        ctl "$lib" $force team0 config dump actual
        ctl "$lib" $force team0 state item get runner.active_port
        ctl "$lib" $force team0 state item set runner.active_port p0
        ctl "$lib" $force team0 state item get setup.nosuchitem
        ctl "$lib" $force team0 port config dump nosuchdev
        ctl "$lib" $force team0 port present p1
    done
    # the library's own log lines
    TEAMDCTL_LOG=debug ctl "$lib" team0 state item get setup.nosuchitem
    TEAMDCTL_LOG=info ctl "$lib" -D team0 port config dump nosuchdev
    TEAMDCTL_LOG=0 ctl "$lib" team0 port config dump nosuchdev
    stop_teamd
    # transports and targets that do not work
    ctl "$lib" -Z tcp://127.0.0.1:1 team0 config dump
    ctl "$lib" team1 config dump
    ip link add team9 type team
    ctl "$lib" team9 config dump
    ctl "$lib" -D team9 config dump
    ip link del team9
}

commands C >/tmp/ctl.C
commands rteam >/tmp/ctl.rteam
assert_eq "$(</tmp/ctl.C)" "$(</tmp/ctl.rteam)" "Debian's teamdctl with Debian's vs our libteamdctl"
checks=$((checks + 1))
n=$(grep -c '^\$ teamdctl' /tmp/ctl.rteam)
grep -q '"kernel_team_mode_name": "activebackup"' /tmp/ctl.rteam || fail "state dump missing"
checks=$((checks + 1))
echo "  $n teamdctl commands identical on both libraries"
ip link del p2

step "(3) NetworkManager with our libteamdctl.so.0 and our teamd"
mk_netns peer
ip -n peer link add br0 type bridge
ip -n peer link set br0 type bridge stp_state 0 forward_delay 0
ip -n peer addr add 192.0.2.2/24 dev br0
ip -n peer link set br0 up
for i in 0 1; do
    ip link set "p$i" down
    ip link set "p$i" address 02:00:00:00:00:01
    veth_to_ns "b$i" peer
    ip -n peer link set "b$i" master br0
done
nm_start rteam-lib "$R/teamd" "$LIB"
# NM's process has our file mapped (the path is Debian's: it is a bind mount)
our_ino=$(stat -L -c %i "$LOCAL_LIB")
awk -v ino="$our_ino" '$5 == ino && /libteamdctl/ { found = 1 } END { exit !found }' \
    "/proc/$NM_PID/maps" || fail "NM did not load our libteamdctl.so.0"
checks=$((checks + 1))

nmcli con add type team con-name t0 ifname nmteam0 team.runner activebackup \
    ipv4.method manual ipv4.addresses 192.0.2.1/24 ipv6.method disabled \
    connection.autoconnect no connection.autoconnect-slaves yes >/dev/null || fail "add t0"
nmcli con add type ethernet con-name t0p0 ifname p0 master nmteam0 slave-type team \
    connection.autoconnect no team-port.prio 10 >/dev/null || fail "add t0p0"
nmcli con add type ethernet con-name t0p1 ifname p1 master nmteam0 slave-type team \
    connection.autoconnect no team-port.prio 5 team-port.sticky yes >/dev/null || fail "add t0p1"
nmcli --wait 60 con up t0 >/dev/null || fail "nmcli con up t0 failed"
for d in nmteam0 p0 p1; do
    wait_wall 60 nm_connected "$d" || fail "$d not connected"
    checks=$((checks + 1))
done
peer_answers || fail "no ping across the team"
checks=$((checks + 1))
# ConfigDumpActual as NM stored it (its 5-s re-read after the ports came)
has_ports() { nm_team_config nmteam0 | jq -e '.ports.p0 and .ports.p1'; }
wait_wall 20 has_ports || fail "TEAM.CONFIG lacks the ports: $(nm_team_config nmteam0)"
nm_config=$(nm_team_config nmteam0)
actual=$(timeout 12 "$CTL" -o nmteam0 config dump actual)
[ "$(echo "$nm_config" | jq -cS .)" = "$(echo "$actual" | jq -cS .)" ] \
    || fail "TEAM.CONFIG differs from ConfigDumpActual: $nm_config vs $actual"
checks=$((checks + 1))
[ "$(timeout 12 "$CTL" nmteam0 port config dump p0 | jq -c .prio)" = 10 ] || fail "p0 prio not 10"
checks=$((checks + 1))

step "port profile change -> PortConfigUpdate"
nmcli con mod t0p0 team-port.prio 20 || fail "con mod t0p0"
nmcli --wait 60 con up t0p0 >/dev/null || fail "re-activating t0p0 failed"
teamd_prio20() { [ "$(timeout 12 "$CTL" nmteam0 port config dump p0 | jq -c .prio)" = 20 ]; }
wait_wall 30 teamd_prio20 || fail "PortConfigUpdate did not reach teamd: $(timeout 12 "$CTL" nmteam0 port config dump p0)"
checks=$((checks + 1))
nm_prio20() { [ "$(nm_team_config nmteam0 | jq -c .ports.p0.prio)" = 20 ]; }
wait_wall 30 nm_prio20 || fail "NM did not re-read the actual config: $(nm_team_config nmteam0)"
checks=$((checks + 1))
wait_wall 30 nm_connected p0 || fail "p0 not connected again"
peer_answers || fail "no ping after the port change"
checks=$((checks + 1))

nmcli --wait 30 con down t0 >/dev/null || fail "con down"
wait_wall 20 sh -c '! ip link show nmteam0' || fail "team device left behind"
wait_wall 10 sh -c '[ -z "$(pgrep -x teamd)" ]' || fail "teamd left running"
[ ! -e /var/run/teamd/nmteam0.sock ] || fail "socket file left behind"
checks=$((checks + 3))
grep -q "nmteam0" "/results/nm.rteam-lib.log" || fail "no NM log"
nm_stop
echo "nm-libteamdctl: $checks checks passed in $(($EPOCHSECONDS - t_start)) s"

#!/bin/bash
# dbus-compat: teamd's org.libteam.teamd service on a real system bus with rteam's policy
# installed. Every method is called with busctl against C teamd and against ours: same
# replies, same error names and messages. Debian's C teamdctl -D drives our teamd; a
# non-root caller is refused; the name appears only once the ports are in the team; our
# teamd survives the bus going away and takes its name again when the bus is back.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

R=/opt/rteam/bin
checks=0
cp /opt/rteam/src/dbus/policy/teamd.conf /etc/dbus-1/system.d/teamd.conf
mkdir -p /run/dbus
dbus-daemon --system --fork --print-pid >/tmp/dbus.pid || fail "no system bus"
wait_for -t 20 test -S /run/dbus/system_bus_socket

cat >/tmp/team0.conf <<'CONF'
{"device": "team0", "runner": {"name": "activebackup"},
 "ports": {"p0": {"prio": 5}, "p1": {"sticky": true}}}
CONF

# call METHOD ARGS...: one call to the running teamd with string arguments; the reply
# (or the error name and message) and the status, as text
call() {
    local method=$1 out rc a
    shift
    local args=()
    for a in "$@"; do args+=("string:$a"); done
    out=$(dbus-send --system --print-reply --dest=org.libteam.teamd.team0 /org/libteam/teamd \
        "org.libteam.teamd.$method" "${args[@]}" 2>&1)
    rc=$?
    printf 'rc=%s\n%s\n' "$rc" "$out" | sed -E 's/^method return .*/method return/' | normalize
}

setup_ports() {
    ip link del p0 2>/dev/null
    ip link del p1 2>/dev/null
    mk_veth_pair p0 q0
    mk_veth_pair p1 q1
    ip link set q0 up
}

# start TEAMD: run it with -D; wait for its name (the readiness signal)
start() {
    setup_ports
    "$1" -d -D -f /tmp/team0.conf || fail "$1 did not start"
    wait_for -t 30 sh -c "busctl --system list | grep -q org.libteam.teamd.team0"
    # p1 (sticky) comes up only once p0 (prio 5) is active: which port is active must not
    # depend on which link the kernel reported first
    wait_for -t 30 sh -c '[ "$(teamdctl team0 state item get runner.active_port)" = p0 ]'
    ip link set q1 up
    wait_for -t 30 sh -c '[ "$(teamdctl team0 state item get ports.p1.link_watches.up)" = true ]'
}
stop() {
    "$1" -k -t team0
    wait_for -t 30 sh -c "! ip link show team0 2>/dev/null"
}

# the calls compared between the two daemons
script() {
    call ConfigDump
    call ConfigDumpActual
    call StateItemValueGet runner.active_port
    call StateItemValueGet setup.runner_name
    call StateItemValueGet no.such.item
    call StateItemValueSet setup.runner_name x
    call PortConfigDump p0
    call PortConfigDump nosuchport
    call PortConfigUpdate p1 '{"prio": 3}'
    call PortConfigUpdate p1 'not json'
    call PortConfigUpdate nosuchdev '{}'
    call PortAdd nosuchdev
    call PortRemove nosuchdev
    call PortRemove p1
    sleep 1
    call ConfigDumpActual
    call StateItemValueSet runner.active_port nosuchport
}

# Wrong argument lists, a deliberate difference (known-differences: dbus-compat
# dbus-args): C teamd answers its own InvalidArgs error for a missing argument and ignores
# an extra one; zbus checks the signature first and answers the standard
# org.freedesktop.DBus.Error.InvalidArgs to both.
bad_args() {
    call StateItemValueGet >"/tmp/args.$1.missing"
    call StateItemValueGet runner.active_port extra >"/tmp/args.$1.extra"
}

start /usr/bin/teamd
want=$(script)
bad_args C
stop /usr/bin/teamd
start $R/teamd
got=$(script)
bad_args rteam
assert_eq "$want" "$got" "D-Bus replies"
checks=$((checks + 1))
known_diff_load dbus-compat
for what in missing extra; do
    grep -q 'Error org.freedesktop.DBus.Error.InvalidArgs' "/tmp/args.rteam.$what" ||
        fail "$what argument: $(<"/tmp/args.rteam.$what")"
    known_diff dbus-args "$what-argument" "$(tr '\n' ' ' <"/tmp/args.C.$what")" \
        "$(tr '\n' ' ' <"/tmp/args.rteam.$what")" || fail "$what argument: not listed"
done
known_diff_done
checks=$((checks + 1))

# Debian's C teamdctl over D-Bus against our teamd
for cmd in "config dump" "config dump actual" "state" "state dump" "state item get runner.active_port" \
    "port config dump p0" "port present p0"; do
    # shellcheck disable=SC2086
    teamdctl -D team0 $cmd >/tmp/c.out 2>&1 || fail "teamdctl -D team0 $cmd failed: $(</tmp/c.out)"
    checks=$((checks + 1))
done
# ... and the commands that change things (p1 was removed by the calls above)
dctl() { teamdctl -D team0 "$@" >/tmp/c.out 2>&1 || fail "teamdctl -D team0 $* failed: $(</tmp/c.out)"; }
ip link set p1 down
dctl port add p1
wait_for -t 10 sh -c "teamdctl -D team0 port present p1"
dctl state -v
dctl port config update p1 '{"prio": 7}'
teamdctl -D team0 port config dump p1 | matches '"prio": 7' || fail "port config update over D-Bus"
dctl state item set runner.active_port p1
wait_for -t 10 sh -c "teamdctl -D team0 state item get runner.active_port | grep -qx p1"
dctl state item set setup.debug_level 1
dctl port remove p1
wait_for -t 10 sh -c "! teamdctl -D team0 port present p1"
checks=$((checks + 7))
teamdctl -D team0 port add nosuchdev >/tmp/c.out 2>&1 && fail "port add of a missing device succeeded"
grep -q 'org.libteam.teamdNoSuchDev' /tmp/c.out || fail "no NoSuchDev error name: $(</tmp/c.out)"
# our teamdctl over D-Bus too
$R/teamdctl -D team0 state item get runner.active_port | matches -x p0 || fail "rteam teamdctl -D"
checks=$((checks + 2))

# Non-root callers are refused, mutating or not; the name cannot be taken by them.
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
out=$(nobody busctl --system call org.libteam.teamd.team0 /org/libteam/teamd org.libteam.teamd PortRemove s p0 2>&1) &&
    fail "non-root PortRemove was allowed"
grep -qi 'denied\|not allowed' <<<"$out" || fail "unexpected non-root error: $out"
ip -o link | matches 'p0.*master team0' || fail "p0 left the team after a refused call"
out=$(nobody busctl --system call org.libteam.teamd.team0 /org/libteam/teamd org.libteam.teamd StateDump 2>&1) &&
    fail "non-root StateDump was allowed"
# dbus-send asks the bus for the name on its own connection
out=$(nobody dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.RequestName string:org.libteam.teamd.evil uint32:4 2>&1) &&
    fail "non-root took a teamd name: $out"
grep -qi 'denied\|not allowed' <<<"$out" || fail "unexpected error taking the name: $out"
checks=$((checks + 3))

# Readiness: when the name shows up, both ports are already in the kernel's team.
stop $R/teamd
setup_ports
$R/teamd -D -f /tmp/team0.conf >/tmp/teamd.log 2>&1 &
for _ in $(seq 1 600); do
    if busctl --system list 2>/dev/null | matches org.libteam.teamd.team0; then
        ports=$(teamnl team0 ports 2>/dev/null | grep -c 'p[01]:')
        [ "$ports" = 2 ] || fail "name appeared with $ports of 2 ports enslaved"
        break
    fi
    sleep 0.05
done
busctl --system list | matches org.libteam.teamd.team0 || fail "name never appeared"
checks=$((checks + 1))

# The bus goes away and comes back: teamd keeps the team, serves the socket meanwhile,
# and takes its name again.
kill "$(</tmp/dbus.pid)"
sleep 3
kill -0 %1 2>/dev/null || fail "teamd exited when the bus went away: $(</tmp/teamd.log)"
$R/teamdctl team0 state item get runner.active_port >/dev/null || fail "usock stopped working"
rm -f /run/dbus/pid
dbus-daemon --system --fork --print-pid >/tmp/dbus.pid || fail "bus restart"
wait_for -t 30 sh -c "busctl --system list | grep -q org.libteam.teamd.team0"
teamdctl -D team0 state >/dev/null || fail "C teamdctl -D after the bus came back"
checks=$((checks + 1))
kill %1
wait
echo "dbus-compat: $checks checks passed"

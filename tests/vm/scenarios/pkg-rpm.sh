#!/bin/bash
# pkg-rpm: our .rpm (from `cargo xtask package` on the host) installed with Debian's rpm into
# a scratch root, since the guest is Debian: the payload unpacks and verifies, and what it
# holds runs here. The root's teamd drives an activebackup team that fails over when the
# active port loses carrier; the root's teamdctl reads its state, and so does Debian's own
# /usr/bin/teamdctl on the root's libteamdctl.so.0 (LD_LIBRARY_PATH). A system bus whose only
# service policy is the rpm's teamd.conf lets root own org.libteam.teamd.team0 and refuses
# user nobody both the name and the calls.
#
#   guest                       netns "peer"
#   team0 ─┬─ p0 ═══ b0 ──┬─ br0
#          └─ p1 ═══ b1 ──┘
#
# vm-needs: packages
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

shopt -s nullglob
rpms=("$PKGS"/rteam-[0-9]*.x86_64.rpm)
devel=("$PKGS"/rteam-devel-[0-9]*.x86_64.rpm)
shopt -u nullglob
[ ${#rpms[@]} -eq 1 ] && [ ${#devel[@]} -eq 1 ] ||
    fail "want one rteam and one rteam-devel .rpm in $PKGS, found: ${rpms[*]} ${devel[*]}" \
        "(run 'cargo xtask package' on the host first)"
command -v rpm >/dev/null || fail "no rpm in the guest image (guest.rs PACKAGES)"
ROOT=/tmp/rpmroot
BIN=$ROOT/usr/bin
LIB=$ROOT/usr/lib64

echo "== rpm -i --root $ROOT $(basename "${rpms[0]}") $(basename "${devel[0]}")"
# --nodeps: the scratch root has no glibc of its own; the programs run on the guest's
rpm -i --force-debian --nodeps --root "$ROOT" "${rpms[0]}" "${devel[0]}" >/tmp/rpm.log 2>&1 || {
    cat /tmp/rpm.log
    fail "rpm -i failed"
}
assert_eq "rteam
rteam-devel" "$(rpm --root "$ROOT" -qa --qf '%{NAME}\n' | sort)" "packages in the root"
# sizes, digests, modes and link targets of every file, as installed (--nodeps: as above)
rpm --root "$ROOT" -V --nodeps rteam rteam-devel || fail "rpm -V finds installed files changed"
for f in "$BIN/teamd" "$BIN/teamdctl" "$BIN/teamnl" "$LIB/libteamdctl.so.0" \
    "$LIB/libteamdctl.so" "$LIB/pkgconfig/libteamdctl.pc" "$ROOT/usr/include/teamdctl.h" \
    "$ROOT/usr/share/dbus-1/system.d/teamd.conf" "$ROOT/usr/lib/systemd/system/teamd@.service"; do
    [ -s "$f" ] || fail "$f is missing or empty"
done
# (stripping and the soname are checked on the host: the guest has no readelf)
grep -q 'INPUT(libteamdctl\.so\.0)' "$LIB/libteamdctl.so" || fail "libteamdctl.so is no linker script"
# Debian's teamdctl must load the root's library, not libteamdctl0's
# (ldd's output read whole first: the loader writes it a line at a time, and a grep -q that
# has matched and gone makes the next write a SIGPIPE, which pipefail reports as failure)
deps=$(LD_LIBRARY_PATH=$LIB ldd /usr/bin/teamdctl)
grep -qF "libteamdctl.so.0 => $LIB/libteamdctl.so.0" <<<"$deps" ||
    fail "Debian's teamdctl does not load $LIB/libteamdctl.so.0: $deps"
dteamdctl() { LD_LIBRARY_PATH=$LIB /usr/bin/teamdctl "$@"; }

echo "== a system bus with the rpm's policy only"
# As Debian's system.conf: everyone may connect, nobody may own names or call methods
# unless a service's policy file says so; here the only such file is the rpm's.
mkdir -p /run/dbus
cat >/tmp/system-bus.conf <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include>$ROOT/usr/share/dbus-1/system.d/teamd.conf</include>
</busconfig>
EOF
dbus-daemon --config-file=/tmp/system-bus.conf --fork --print-pid >/tmp/dbus.pid ||
    fail "dbus-daemon does not start with the rpm's policy"
wait_for -t 20 test -S /run/dbus/system_bus_socket

echo "== topology"
mk_netns peer
ip -n peer link add br0 type bridge
ip -n peer link set br0 type bridge stp_state 0 forward_delay 0
ip -n peer link set br0 up
for i in 0 1; do
    mk_veth_pair "p$i" "b$i"
    veth_to_ns "b$i" peer
    ip -n peer link set "b$i" master br0
done

echo "== the root's teamd, activebackup over p0 and p1"
cat >/tmp/team0.conf <<'EOF'
{
  "device": "team0",
  "runner": { "name": "activebackup" },
  "link_watch": { "name": "ethtool" },
  "ports": { "p0": { "prio": 10 }, "p1": {} }
}
EOF
"$BIN/teamd" -d -D -f /tmp/team0.conf 2>/tmp/teamd.log || fail "teamd -d failed: $(</tmp/teamd.log)"
# the name is taken last, once the ports are in: with it the policy let root own it
wait_for -t 30 sh -c 'busctl --system list --no-legend | grep -q "^org\.libteam\.teamd\.team0 "'
pid=$(</var/run/teamd/team0.pid) || fail "no pid file"
assert_eq "$BIN/teamd" "$(readlink "/proc/$pid/exe")" "the running teamd"
ip link set team0 up
ip link set p0 up
ip link set p1 up
active() { "$BIN/teamdctl" team0 state item get runner.active_port; }
wait_for -t 20 sh -c "[ \"\$($BIN/teamdctl team0 state item get runner.active_port)\" = p0 ]"
"$BIN/teamdctl" team0 state >/tmp/state.txt || fail "the root's teamdctl state failed"
cat /tmp/state.txt
grep -q 'runner: activebackup' /tmp/state.txt || fail "teamdctl state shows no activebackup runner"
grep -q 'active port: p0' /tmp/state.txt || fail "teamdctl state shows p0 not active"

echo "== carrier loss on p0 fails over to p1"
ip -n peer link set b0 down
wait_for -t 20 sh -c "[ \"\$($BIN/teamdctl team0 state item get runner.active_port)\" = p1 ]"
"$BIN/teamdctl" team0 state | matches 'active port: p1' || fail "the root's teamdctl state: p1 not active"
# Debian's teamdctl on the root's library, over the socket and over D-Bus
assert_eq p1 "$(dteamdctl team0 state item get runner.active_port 2>&1)" "Debian's teamdctl (usock)"
assert_eq p1 "$(dteamdctl -D team0 state item get runner.active_port 2>&1)" "Debian's teamdctl -D"
dteamdctl -D team0 state | matches 'active port: p1' || fail "Debian's teamdctl -D state"
ip -n peer link set b0 up
# p1 is not sticky: p0's higher prio takes the team back
wait_for -t 20 sh -c "[ \"\$($BIN/teamdctl team0 state item get runner.active_port)\" = p0 ]"
echo "active: $(active)"

echo "== the policy: root may call; user nobody can neither call nor own a name"
busctl --system call org.libteam.teamd.team0 /org/libteam/teamd org.libteam.teamd StateDump \
    >/tmp/dump.root 2>&1 || fail "root's StateDump failed: $(</tmp/dump.root)"
# busctl prints the JSON reply as a quoted string
grep -q 'active_port' /tmp/dump.root || fail "root's StateDump has no active_port: $(</tmp/dump.root)"
nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
if nobody busctl --system call org.libteam.teamd.team0 /org/libteam/teamd org.libteam.teamd \
    StateDump >/tmp/dump.nobody 2>&1; then
    fail "user nobody may call StateDump"
fi
grep -qi 'access denied\|AccessDenied' /tmp/dump.nobody ||
    fail "nobody's call failed for another reason: $(</tmp/dump.nobody)"
if nobody dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.RequestName string:org.libteam.teamd.evil uint32:4 >/tmp/own.nobody 2>&1; then
    fail "user nobody took a teamd name: $(</tmp/own.nobody)"
fi
grep -qi 'denied\|not allowed' /tmp/own.nobody ||
    fail "nobody's RequestName failed for another reason: $(</tmp/own.nobody)"
# root may own any org.libteam.teamd name, and no name outside it (the default policy)
dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.RequestName string:org.libteam.teamd.other uint32:4 >/tmp/own.root 2>&1 ||
    fail "root may not own org.libteam.teamd.other: $(</tmp/own.root)"
if dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.RequestName string:org.example.other uint32:4 >/dev/null 2>&1; then
    fail "the test bus lets root own any name: the policy check above proves nothing"
fi

echo "== teamd -k"
"$BIN/teamd" -k -t team0 || fail "teamd -k failed"
wait_for -t 20 sh -c '! ip link show team0'
kill "$(</tmp/dbus.pid)" 2>/dev/null
echo "pkg-rpm: all checks passed"

#!/bin/bash
# pkg-deb: our .deb on an installed Debian 12 booted by systemd. `apt-get install ./rteam_*.deb`
# replaces libteam-utils and libteamdctl0 without taking NetworkManager with them; a team comes
# up through teamd@team0.service from /run/teamd/team0.conf and fails over; its D-Bus name is
# root's alone; NetworkManager, as installed (its own binaries and team plugin, loading our
# libteamdctl.so.0 and spawning our /usr/bin/teamd), activates a team and its ports; then
# `apt-get install libteam-utils rteam-` gives the system back to libteam.
#
#   guest                                    netns "peer"
#   team0 192.0.2.1/24 ─┬─ p0 ═══ b0 ──┬─ br0 192.0.2.2/24
#                       └─ p1 ═══ b1 ──┘
#
# vm-boot: systemd
# vm-needs: packages
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
export DEBIAN_FRONTEND=noninteractive

our_deb
deb=$DEB

# installed PKG: dpkg has PKG fully installed
installed() {
    [ "$(dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}
# owner PATH: the package that owns PATH
owner() {
    dpkg-query -S "$1" 2>/dev/null | cut -d: -f1
}
# apt_or_fail WHAT ARGS...: apt-get ARGS, its output shown if it fails
apt_or_fail() {
    local what=$1
    shift
    apt-get -y -q "$@" >/tmp/apt.log 2>&1 || {
        cat /tmp/apt.log
        fail "$what: apt-get $* failed"
    }
}

echo "== before: Debian's libteam"
for p in libteam-utils libteamdctl0 network-manager; do
    installed "$p" || fail "$p is not installed before the test"
done
assert_eq libteam-utils "$(owner /usr/bin/teamd)" "owner of /usr/bin/teamd before"

echo "== apt-get install ./$(basename "$deb")"
apt_or_fail "install ours" install "$deb"
installed rteam || fail "rteam is not installed"
for p in libteam-utils libteamdctl0; do
    ! installed "$p" || fail "$p is still installed next to rteam"
done
installed network-manager || fail "installing rteam removed network-manager"
apt-get check -q >/dev/null || fail "apt-get check reports broken dependencies"
for f in /usr/bin/teamd /usr/bin/teamdctl /usr/bin/teamnl /usr/share/dbus-1/system.d/teamd.conf \
    /usr/lib/systemd/system/teamd@.service; do
    assert_eq rteam "$(owner "$f")" "owner of $f"
done
lib=$(ldconfig -p | awk '/libteamdctl\.so\.0 .*x86-64/ && !n++ { print $NF }')
[ -n "$lib" ] || fail "the linker cache has no libteamdctl.so.0"
assert_eq rteam "$(owner "$(readlink -f "$lib")")" "owner of $lib"
# a template: the package enables and starts nothing
[ -z "$(systemctl list-units --no-legend 'teamd@*')" ] || fail "a teamd@ unit runs after install"
echo "installed $(dpkg-query -W -f '${Package} ${Version}' rteam); libteamdctl: $lib"

echo "== topology"
bridge_peer 2

echo "== teamd@team0.service"
mkdir -p /run/teamd
cat >/run/teamd/team0.conf <<'EOF'
{
  "device": "team0",
  "runner": { "name": "activebackup" },
  "link_watch": { "name": "ethtool" },
  "ports": { "p0": { "prio": 10 }, "p1": {} }
}
EOF
systemctl start teamd@team0 || {
    systemctl status --no-pager teamd@team0
    fail "systemctl start teamd@team0 failed"
}
assert_eq active "$(systemctl is-active teamd@team0)" "teamd@team0 state"
pid=$(systemctl show -p MainPID --value teamd@team0)
assert_eq /usr/bin/teamd "$(readlink "/proc/$pid/exe")" "the unit's teamd"
busctl --system list --no-legend | matches '^org\.libteam\.teamd\.team0 ' ||
    fail "busctl does not list org.libteam.teamd.team0"
ip addr add 192.0.2.1/24 dev team0
ip link set team0 up
ip link set p0 up
ip link set p1 up
wait_for -t 20 sh -c '[ "$(teamdctl team0 state item get runner.active_port)" = p0 ]'
teamdctl team0 state | matches 'runner: activebackup' || fail "teamdctl state (usock) shows no runner"
peer_answers || fail "no ping across team0 (p0 active)"

echo "== D-Bus policy: root may call, others may not"
busctl --system call org.libteam.teamd.team0 /org/libteam/teamd org.libteam.teamd StateDump \
    >/tmp/dump.root 2>&1 || fail "root's StateDump call failed: $(</tmp/dump.root)"
grep -q 'active_port' /tmp/dump.root || fail "root's StateDump has no active_port"
if setpriv --reuid=nobody --regid=nogroup --clear-groups \
    busctl --system call org.libteam.teamd.team0 /org/libteam/teamd org.libteam.teamd StateDump \
    >/tmp/dump.nobody 2>&1; then
    fail "user nobody may call StateDump"
fi
grep -qi 'access denied\|AccessDenied' /tmp/dump.nobody ||
    fail "nobody's call failed for another reason: $(</tmp/dump.nobody)"
echo "nobody: $(head -n1 /tmp/dump.nobody)"

echo "== failover"
ip -n peer link set b0 down
wait_for -t 20 sh -c '[ "$(teamdctl team0 state item get runner.active_port)" = p1 ]'
peer_answers || fail "no ping across team0 after failover"
ip -n peer link set b0 up
# p1 is not sticky: p0's higher prio takes the team back
wait_for -t 20 sh -c '[ "$(teamdctl -D team0 state item get runner.active_port)" = p0 ]'

echo "== systemctl stop removes the team"
systemctl stop teamd@team0
wait_for -t 20 sh -c '! ip link show team0'
[ ! -S /var/run/teamd/team0.sock ] || fail "the control socket outlived teamd"

echo "== NetworkManager, as installed, on our teamd and libteamdctl"
mkdir -p /etc/NetworkManager/conf.d
# no "Wired connection" profiles on the test's veths
printf '[main]\nno-auto-default=*\n' >/etc/NetworkManager/conf.d/90-rteam-test.conf
systemctl start NetworkManager || fail "NetworkManager does not start"
wait_for -t 60 sh -c 'nmcli -t -f RUNNING general | grep -q running'
nmcli con add type team ifname team0 con-name team0 team.runner activebackup \
    ipv4.method manual ipv4.addresses 192.0.2.1/24 ipv6.method disabled >/dev/null ||
    fail "nmcli con add type team failed"
for p in p0 p1; do
    nmcli con add type team-slave ifname "$p" master team0 con-name "team0-$p" >/dev/null ||
        fail "nmcli con add type team-slave $p failed"
done
nmcli con up team0 >/dev/null || fail "nmcli con up team0 failed"
for p in p0 p1; do
    nmcli con up "team0-$p" >/dev/null || fail "nmcli con up team0-$p failed"
done
wait_for -t 60 sh -c 'nmcli -g GENERAL.STATE dev show team0 | grep -q "^100"'
nm_teamd=$(pgrep -x teamd) || fail "NetworkManager started no teamd"
assert_eq /usr/bin/teamd "$(readlink "/proc/$nm_teamd/exe")" "NetworkManager's teamd"
for p in p0 p1; do
    wait_for -t 30 teamdctl team0 port present "$p"
done
teamdctl team0 config dump actual | matches '"activebackup"' ||
    fail "NetworkManager's team runs no activebackup runner"
peer_answers || fail "no ping across NetworkManager's team0"
nmcli con down team0 >/dev/null || fail "nmcli con down team0 failed"
for c in team0-p0 team0-p1 team0; do nmcli con delete "$c" >/dev/null; done
wait_for -t 30 sh -c '! ip link show team0'
systemctl stop NetworkManager

echo "== apt-get install libteam-utils rteam- gives the system back"
apt_or_fail "give back" install libteam-utils rteam-
! installed rteam || fail "rteam is still installed"
for p in libteam-utils libteamdctl0 network-manager; do
    installed "$p" || fail "$p is not installed after giving the system back"
done
assert_eq libteam-utils "$(owner /usr/bin/teamd)" "owner of /usr/bin/teamd after"
[ ! -e /usr/lib/systemd/system/teamd@.service ] || fail "our unit outlived the package"
[ ! -e /usr/share/dbus-1/system.d/teamd.conf ] || fail "our D-Bus policy outlived the package"
apt-get check -q >/dev/null || fail "apt-get check reports broken dependencies after"
echo "pkg-deb: all checks passed"

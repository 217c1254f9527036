#!/bin/bash
# networkd-team: a team from systemd-networkd files only. Before systemd starts (preinit) our
# .deb is installed and /etc/systemd/network gets a Kind=team .netdev, port .network files with
# Team= and [TeamPort], the team's own .network (static address and DHCP) and a catch-all for
# p*; nothing is enabled by hand. The boot (teamd-networkd-generator, teamd-networkd.service,
# teamd@team0, networkd) must bring team0 up: ports enslaved and left unmanaged by networkd,
# its static address and a DHCP lease from dnsmasq in the peer namespace, `networkctl status`
# configured, `systemd-networkd-wait-online -i team0` returning. A second team, team1, has a
# bad key: its error is in the journal and team0 comes up anyway. Then: failover keeps a ping
# going, a changed [TeamPort] Priority= is applied live (same ifindex, new prio, active port
# follows), and with the files removed what a boot runs (generators on daemon-reload, the
# helper) leaves no team behind.
#
#   guest                                         netns "peer"
#   team0 192.0.2.1/24 + DHCP ─┬─ p0 ═══ b0 ──┬─ br0 192.0.2.2/24, dnsmasq
#                              └─ p1 ═══ b1 ──┘
#   team1 (bad Runner=)     ── p2 ═══ q2 (left alone)
#
# Next boot: the guest's root is thrown away after each run, so the removal is checked on what
# a boot would run, not by a second boot: `systemctl daemon-reload` reruns the generators (the
# unit that makes team0 must be gone), the helper removes its files and stops teamd@team0.
#
# vm-boot: systemd
# vm-units: systemd-networkd.service
# vm-needs: packages
# vm-hooks: preinit early
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
NET=/etc/systemd/network

preinit() {
    install_our_deb
    mkdir -p "$NET"
    cat >"$NET/20-team0.netdev" <<'EOF'
[NetDev]
Name=team0
Kind=team

[Team]
Runner=activebackup
LinkWatch=ethtool
EOF
    cat >"$NET/20-team0-p0.network" <<'EOF'
[Match]
Name=p0

[Network]
Team=team0

[TeamPort]
Priority=10
EOF
    cat >"$NET/20-team0-p1.network" <<'EOF'
[Match]
Name=p1

[Network]
Team=team0

[TeamPort]
Priority=5
EOF
    cat >"$NET/30-team0.network" <<'EOF'
[Match]
Name=team0

[Network]
Address=192.0.2.1/24
DHCP=ipv4
EOF
    cat >"$NET/20-team1.netdev" <<'EOF'
[NetDev]
Name=team1
Kind=team

[Team]
Runner=bogus
EOF
    cat >"$NET/20-team1-p2.network" <<'EOF'
[Match]
Name=p2

[Network]
Team=team1
EOF
    # would make networkd manage the ports (and so unset their master) if the helper's
    # files did not come first
    cat >"$NET/90-ports.network" <<'EOF'
[Match]
Name=p*

[Network]
LinkLocalAddressing=ipv6
EOF
    echo "preinit: $(dpkg-query -W -f '${Package} ${Version}' rteam) installed, files in $NET"
}

early() {
    bridge_peer 2
    mk_veth_pair p2 q2
    # stays in rteam-early.service (RemainAfterExit=yes) for the whole boot
    ip netns exec peer dnsmasq --keep-in-foreground --port=0 --no-resolv --no-hosts \
        --user=root --interface=br0 --bind-interfaces \
        --dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h \
        --dhcp-leasefile=/run/rteam-dnsmasq.leases --log-dhcp --log-facility=/run/rteam-dnsmasq.log \
        </dev/null >/dev/null 2>&1 &
    echo "early: veths, peer namespace, dnsmasq up"
}

case "${1:-}" in
preinit) preinit; exit 0 ;;
early) early; exit 0 ;;
esac

echo "== the boot set up team0"
assert_eq active "$(systemctl is-active teamd@team0)" "teamd@team0 state" \
    systemctl status --no-pager teamd@team0
[ -L /run/systemd/generator/network.target.wants/teamd@team0.service ] ||
    fail "the generator did not pull in teamd@team0"
assert_eq active "$(systemctl is-active systemd-networkd)" "systemd-networkd state"
# networkd has no team kind: it must skip the .netdev (and the [Team]/[TeamPort] sections,
# Team= keys) with a warning, not fail; what it said about them:
journalctl -b --no-pager -u systemd-networkd | grep -E 'team|Team' || true
[ "$(networkctl list --no-legend | wc -l)" -ge 5 ] || fail "networkctl list: $(networkctl list)"
ip -d link show team0 | matches -w team || fail "team0 is not a team device: $(ip -d link show team0)"
# the JSON the helper wrote, as our teamd took it
teamdctl team0 config dump >/tmp/dump.json || fail "teamdctl team0 config dump failed"
jq -e '.runner.name == "activebackup" and .link_watch.name == "ethtool"
    and .ports.p0.prio == 10 and .ports.p1.prio == 5' /tmp/dump.json >/dev/null ||
    fail "team0's config is not the .netdev's: $(</tmp/dump.json)"
for p in p0 p1; do
    wait_for -t 30 teamdctl team0 port present "$p"
    ip -o link show "$p" | matches "master team0" || fail "$p is not enslaved to team0"
    assert_eq unmanaged "$(networkctl list --no-legend "$p" | awk '{ print $5 }')" \
        "networkd's setup state of $p" networkctl status "$p"
done
# the catch-all still applies where the helper wrote nothing: p2 of the broken team
networkctl list --no-legend p2 | matches -w unmanaged && fail "p2 unmanaged: the broken team1 wrote files"

echo "== networkd configured team0: static address, DHCP, wait-online"
/lib/systemd/systemd-networkd-wait-online -i team0 --timeout=90 ||
    fail "systemd-networkd-wait-online -i team0 failed"
wait_for -t 60 sh -c 'networkctl status team0 | grep -q "State: routable (configured)"'
networkctl status --no-pager team0
ip -4 addr show dev team0 | matches 'inet 192\.0\.2\.1/24' || fail "team0 lacks 192.0.2.1/24"
wait_for -t 90 sh -c "ip -4 addr show dev team0 | grep -Eq 'inet 192\.0\.2\.(1[0-4][0-9]|150)/24.*dynamic'"
echo "DHCP: $(ip -4 -o addr show dev team0 | awk '/dynamic/ { print $4 }')"
peer_answers || fail "no ping across team0"

echo "== team1's bad key: reported, team0 unaffected"
! ip link show team1 >/dev/null 2>&1 || fail "team1 exists despite its bad Runner="
[ "$(systemctl is-active teamd@team1)" != active ] || fail "teamd@team1 runs"
journalctl -b --no-pager | grep -E '20-team1\.netdev:[0-9]+: \[Team\] Runner=' ||
    fail "the journal does not name team1's bad Runner="

echo "== failover keeps a ping"
wait_for -t 20 sh -c '[ "$(teamdctl team0 state item get runner.active_port)" = p0 ]'
ping -c 40 -i 0.2 -W 1 192.0.2.2 >/tmp/ping.log 2>&1 &
ping_pid=$!
sleep 3
ip -n peer link set b0 down
wait_for -t 20 sh -c '[ "$(teamdctl team0 state item get runner.active_port)" = p1 ]'
wait "$ping_pid"
received=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' /tmp/ping.log)
echo "ping across the failover: ${received:-?} of 40 replies"
[ "${received:-0}" -ge 30 ] || fail "failover lost the ping: $(tail -n 3 /tmp/ping.log)"
ip -4 addr show dev team0 | matches 'inet 192\.0\.2\.1/24' || fail "team0 lost its address on failover"
ip -n peer link set b0 up
wait_for -t 20 sh -c '[ "$(teamdctl team0 state item get runner.active_port)" = p0 ]'

echo "== a changed Priority= is applied live"
ifindex=$(</sys/class/net/team0/ifindex)
sed -i 's/^Priority=5$/Priority=20/' "$NET/20-team0-p1.network"
networkctl reload
# teamd-networkd.path starts the helper, which reloads teamd@team0
wait_for -t 60 sh -c 'teamdctl team0 config dump | jq -e ".ports.p1.prio == 20"'
wait_for -t 30 sh -c '[ "$(teamdctl team0 state item get runner.active_port)" = p1 ]'
assert_eq "$ifindex" "$(</sys/class/net/team0/ifindex)" "team0's ifindex after the reload"
assert_eq active "$(systemctl is-active teamd@team0)" "teamd@team0 after the reload"
teamdctl team0 state
peer_answers || fail "no ping after the reload"

echo "== a burst of edits (an editor's swap file, a config tool) keeps the watch alive"
for i in $(seq 1 8); do
    touch "$NET/20-team0-p1.network"
    sleep 1
done
sleep 3
assert_eq active "$(systemctl is-active teamd-networkd.path)" "teamd-networkd.path after a burst" \
    systemctl status --no-pager teamd-networkd.path teamd-networkd.service
systemctl show -p Result --value teamd-networkd.service | matches -x start-limit-hit &&
    fail "teamd-networkd.service hit its start limit"

echo "== files removed: what the next boot runs makes no team"
rm -f "$NET"/20-team0* "$NET/30-team0.network" "$NET"/20-team1*
systemctl daemon-reload
[ ! -e /run/systemd/generator/network.target.wants/teamd@team0.service ] ||
    fail "the generator still pulls in teamd@team0"
[ ! -e /run/systemd/generator/teamd@team0.service.d ] || fail "the generator's drop-in is left"
# the .path unit may have run it already; a run more is harmless
systemctl start teamd-networkd.service || fail "teamd-networkd.service failed"
wait_for -t 30 sh -c '! ip link show team0'
[ ! -e /run/teamd/team0.conf ] || fail "/run/teamd/team0.conf is left"
ls /run/systemd/network/ | matches teamd && fail "helper files left: $(ls /run/systemd/network/)"
echo "networkd-team: all checks passed"

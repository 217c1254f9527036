#!/bin/bash
# networkd-cmdline: a team from the kernel command line alone, as dracut users write it:
# `team=team0:eth1,eth2:lacp ip=team0:dhcp`. Our .deb is installed before systemd starts
# (preinit), /etc/systemd/network stays empty; eth1 and eth2 are veths to a bonding 802.3ad
# peer with dnsmasq (early). teamd-networkd-generator pulls in teamd@team0 with the lacp
# runner, systemd-network-generator writes team0's DHCP .network for `ip=`, networkd gets
# team0 a lease over the aggregated ports.
#
#   guest                              netns "peer"
#   team0 (DHCP) ─┬─ eth1 ═══ b0 ──┬─ bond0 802.3ad 192.0.2.2/24, dnsmasq
#                 └─ eth2 ═══ b1 ──┘
#
# vm-boot: systemd
# vm-units: systemd-networkd.service systemd-network-generator.service
# vm-needs: packages
# vm-hooks: preinit early
# vm-cmdline: team=team0:eth1,eth2:lacp ip=team0:dhcp
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

preinit() {
    install_our_deb
    echo "preinit: $(dpkg-query -W -f '${Package} ${Version}' rteam) installed"
}

early() {
    mk_netns peer
    for i in 0 1; do
        mk_veth_pair "eth$((i + 1))" "b$i"
        ip link set "b$i" netns peer || fail "cannot move b$i"
    done
    peer_bond 2
    # stays in rteam-early.service (RemainAfterExit=yes) for the whole boot
    ip netns exec peer dnsmasq --keep-in-foreground --port=0 --no-resolv --no-hosts \
        --user=root --interface=bond0 --bind-interfaces \
        --dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h \
        --dhcp-leasefile=/run/rteam-dnsmasq.leases --log-dhcp --log-facility=/run/rteam-dnsmasq.log \
        </dev/null >/dev/null 2>&1 &
    echo "early: veths, 802.3ad peer, dnsmasq up"
}

case "${1:-}" in
preinit) preinit; exit 0 ;;
early) early; exit 0 ;;
esac

echo "== the command line's team"
cat /proc/cmdline
assert_eq active "$(systemctl is-active teamd@team0)" "teamd@team0 state" \
    systemctl status --no-pager teamd@team0
[ -f /run/systemd/network/90-team0.network ] ||
    fail "systemd-network-generator wrote no 90-team0.network: $(ls /run/systemd/network)"
teamdctl team0 config dump >/tmp/dump.json || fail "teamdctl team0 config dump failed"
jq -e '.runner.name == "lacp" and (.ports | keys) == ["eth1", "eth2"]' /tmp/dump.json >/dev/null ||
    fail "team0's config is not the command line's: $(</tmp/dump.json)"
for p in eth1 eth2; do
    wait_for -t 30 teamdctl team0 port present "$p"
    ip -o link show "$p" | matches "master team0" || fail "$p is not enslaved to team0"
done

echo "== LACP with the bond, then DHCP"
for p in eth1 eth2; do
    wait_for -t 60 sh -c "teamdctl team0 state item get ports.$p.runner.selected | grep -qx true"
done
/lib/systemd/systemd-networkd-wait-online -i team0 --timeout=120 ||
    fail "systemd-networkd-wait-online -i team0 failed"
wait_for -t 90 sh -c "ip -4 addr show dev team0 | grep -Eq 'inet 192\.0\.2\.(1[0-4][0-9]|150)/24.*dynamic'"
echo "DHCP: $(ip -4 -o addr show dev team0 | awk '/dynamic/ { print $4 }')"
networkctl status --no-pager team0
networkctl status team0 | matches "(configured)" || fail "networkd did not configure team0"
peer_answers || fail "no ping to the bonding peer"
echo "networkd-cmdline: all checks passed"

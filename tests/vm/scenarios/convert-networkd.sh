#!/bin/bash
# convert-networkd: teamd-convert's networkd output booted by systemd. Before systemd starts
# (preinit) our .deb is installed and its /usr/bin/teamd-convert writes into
# /etc/systemd/network (`--to networkd --out`):
#   team0 from a kickstart `network --teamslaves` line: activebackup, ethtool watch, p0
#         prio 10, p1 prio 5, 192.0.2.1/24, --noipv6;
#   team1 from ifcfg-team1/-p2/-p3: loadbalance (tx_hash eth, ipv4), p2 prio 7,
#         198.51.100.1/24 (NETMASK).
# The boot (teamd-networkd-generator, teamd@, networkd) must bring both up: teamd's runner,
# ports and port prios as converted, the addresses from the team's .network, the peer
# answering across each team (team0 also with its active port's peer down), and all of it
# again after `systemctl restart systemd-networkd`.
#
#   guest                                   netns "peer"
#   team0 192.0.2.1/24    ─┬─ p0 ═══ b0 ──┐
#                          └─ p1 ═══ b1 ──┤
#   team1 198.51.100.1/24 ─┬─ p2 ═══ b2 ──┼─ br0 192.0.2.2/24, 198.51.100.2/24
#                          └─ p3 ═══ b3 ──┘
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
    mkdir -p /tmp/conv/ifcfg "$NET"
    cat >/tmp/conv/ks.cfg <<'KS'
network --device=team0 --bootproto=static --ip=192.0.2.1 --netmask=255.255.255.0 --noipv6 --activate --teamslaves="p0'{\"prio\": 10}',p1'{\"prio\": 5}'" --teamconfig="{\"runner\": {\"name\": \"activebackup\"}, \"link_watch\": {\"name\": \"ethtool\"}}"
KS
    cat >/tmp/conv/ifcfg/ifcfg-team1 <<'EOF'
DEVICE=team1
DEVICETYPE=Team
BOOTPROTO=none
IPADDR=198.51.100.1
NETMASK=255.255.255.0
TEAM_CONFIG='{"runner": {"name": "loadbalance", "tx_hash": ["eth", "ipv4"]}, "link_watch": {"name": "ethtool"}}'
EOF
    printf 'DEVICE=p2\nDEVICETYPE=TeamPort\nTEAM_MASTER=team1\nTEAM_PORT_CONFIG='"'"'{"prio": 7}'"'"'\n' \
        >/tmp/conv/ifcfg/ifcfg-p2
    printf 'DEVICE=p3\nDEVICETYPE=TeamPort\nTEAM_MASTER=team1\n' >/tmp/conv/ifcfg/ifcfg-p3
    /usr/bin/teamd-convert kickstart /tmp/conv/ks.cfg --to networkd --out "$NET" ||
        fail "teamd-convert kickstart --to networkd failed"
    /usr/bin/teamd-convert ifcfg /tmp/conv/ifcfg --to networkd --out "$NET" ||
        fail "teamd-convert ifcfg --to networkd failed"
    echo "preinit: $(dpkg-query -W -f '${Package} ${Version}' rteam) installed; $NET: $(ls "$NET")"
}

early() {
    bridge_peer 4 02:00:00:00:00:01
    # team1's ports share a MAC of their own (its runner leaves port MACs alone)
    ip link set p2 address 02:00:00:00:00:03
    ip link set p3 address 02:00:00:00:00:03
    ip -n peer addr add 198.51.100.2/24 dev br0
    echo "early: veths and the peer namespace up"
}

case "${1:-}" in
preinit) preinit; exit 0 ;;
early) early; exit 0 ;;
esac

CHECKS=0
active_port() { [ "$(teamdctl team0 state item get runner.active_port 2>/dev/null)" = "$1" ]; }
has_addr() { ip -4 -o addr show dev "$1" | matches " $2 "; }
pings() { peer_answers "$1" 2>/dev/null; }
enslaved() { ip -o link show "$1" | matches "master $2 "; }

echo "== files teamd-convert wrote"
for f in "$NET"/*; do
    echo "--- $f"
    cat "$f"
done

# teams: TEAM RUNNER ADDRESS PEER PORT:PRIO...
teams_up() {
    local team=$1 runner=$2 addr=$3 peer=$4 pp p prio
    shift 4
    check "$team: teamd@$team active" wait_for -t 60 systemctl is-active --quiet "teamd@$team"
    check_eq "$runner" "$(teamdctl "$team" config dump actual | jq -r .runner.name)" \
        "$team: runner"
    for pp in "$@"; do
        p=${pp%:*} prio=${pp#*:}
        check "$team: $p is a port" wait_for -t 30 teamdctl "$team" port present "$p"
        check "$team: $p enslaved" enslaved "$p" "$team"
        check_eq "$prio" "$(teamdctl "$team" port config dump "$p" | jq -r '.prio // 0')" \
            "$team: $p prio"
    done
    check "$team: has $addr" wait_for -t 90 has_addr "$team" "$addr"
    check "$team: the peer $peer answers" wait_for -t 60 pings "$peer"
}

echo "== the boot set up team0 (kickstart) and team1 (ifcfg)"
teams_up team0 activebackup 192.0.2.1/24 192.0.2.2 p0:10 p1:5
teams_up team1 loadbalance 198.51.100.1/24 198.51.100.2 p2:7 p3:0
check_eq '["eth","ipv4"]' "$(teamdctl team1 config dump actual | jq -c .runner.tx_hash)" \
    "team1: tx_hash"
check "networkd-wait-online -i team0 -i team1" \
    /lib/systemd/systemd-networkd-wait-online -i team0 -i team1 --timeout=90

echo "== team0: the active port's peer goes down"
check "team0: p0 (prio 10) active" wait_for -t 20 active_port p0
ip -n peer link set b0 down
check "team0: p1 active with p0 lost" wait_for -t 20 active_port p1
check "team0: the peer answers with p0 lost" wait_for -t 20 pings 192.0.2.2
ip -n peer link set b0 up
check "team0: p0 back and active" wait_for -t 20 active_port p0

echo "== systemctl restart systemd-networkd"
check "networkd restarted" systemctl restart systemd-networkd
teams_up team0 activebackup 192.0.2.1/24 192.0.2.2 p0:10 p1:5
teams_up team1 loadbalance 198.51.100.1/24 198.51.100.2 p2:7 p3:0

echo "convert-networkd: $CHECKS checks passed"

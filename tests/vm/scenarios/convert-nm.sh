#!/bin/bash
# convert-nm: NetworkManager keyfiles made by teamd-convert from a kickstart file and from
# ifcfg files, loaded by Debian's NetworkManager 1.42 (headless, nm-lib.sh) running our
# teamd. Each case on its own, from an empty keyfile directory:
#   * `teamd-convert ... --to nm --out /etc/NetworkManager/system-connections` writes the
#     team's and the ports' keyfiles, each mode 0600;
#   * `nmcli con reload` loads the three, `nmcli con up nmteam0` connects team and ports;
#   * the teamd NM runs for nmteam0 is ours (the staged binary), `teamdctl config dump
#     actual` has the runner, `port config dump` each port's config (prio), nmteam0 the
#     address;
#   * the peer answers across the team, and still does after the far end of the active port
#     (other runners: of p0) went down; the port comes back;
#   * deleting the profiles in NM removes the files, the team and teamd.
# (a) kickstart `network --teamslaves ... --teamconfig ...`: activebackup, p0 prio 10, p1
#     prio 5 (p0 is active, p1 takes over, p0 takes back); peer: a bridge. p1 is named by
#     its MAC address in --teamslaves (as anaconda binds it: `[ethernet] mac-address=`,
#     no interface-name), so p1 gets a MAC of its own for this case.
# (b) ifcfg-nmteam0/ifcfg-p0/ifcfg-p1: loadbalance (tx_hash, basic balancer), p0 prio 100,
#     p1 prio -10; peer: a bridge.
# (c) kickstart (`--opt=value` spelling, port JSON with a comma inside the port list):
#     lacp (fast rate, tx_hash), p0 prio 100 and lacp_prio 10, p1 prio -10; peer: bonding
#     in 802.3ad mode.
#
#   guest (NM)                              netns "peer"
#   nmteam0 192.0.2.1/24 ─┬─ p0 ═══ b0 ──┐
#                         └─ p1 ═══ b1 ──┴─ br0 (a, b), bond0 802.3ad (c)  192.0.2.2/24
#
# The names are nm-lib.sh's (NM manages p* and nmteam* only), and NM's keyfile directory
# (/tmp/nm/conns there) is made a link to /etc/NetworkManager/system-connections.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
source /opt/rteam/tests/guest/nm-lib.sh
source /opt/rteam/tests/guest/lacp.sh

R=/opt/rteam/bin
CONV=$R/teamd-convert
[ -x "$CONV" ] || fail "$CONV missing"
CTL=$(local_copy "$R/teamdctl")
OURS=$(local_copy "$R/teamd")
KEYS=/etc/NetworkManager/system-connections
t_start=$EPOCHSECONDS

item() { timeout 12 "$CTL" nmteam0 state item get "$1" 2>&1; }
pings() { peer_answers 2>/dev/null; }

bridge_peer 2 02:00:00:00:00:01
# (a) binds p1 by MAC: p1 has its own from the start, which NM takes as its permanent one
ip link set p1 address 02:00:00:00:00:02
nm_bus_start
# no nm-dispatcher: nothing here uses it, and its scripts cost seconds per event
rm -f /usr/share/dbus-1/system-services/org.freedesktop.nm_dispatcher.service
say "start NetworkManager with our teamd"
nm_start rteam "$R/teamd"
mkdir -p "$KEYS"
rm -rf "$NM_DIR/conns"
ln -s "$KEYS" "$NM_DIR/conns" || fail "cannot link NM's keyfile directory"

# our_teamd: exactly one teamd runs for nmteam0, and it is the staged binary NM was given
our_teamd() {
    local p
    p=$(teamd_pids nmteam0)
    [ -n "$p" ] && [ "$(wc -l <<<"$p")" = 1 ] && cmp -s "/proc/$p/exe" "$OURS"
}

# failover RUNNER: the peer answers across the team; the far end of the active port (other
# runners: of p0) goes down, teamd moves off it, the peer still answers; the port comes back.
failover() {
    local runner=$1
    check "$runner: the peer answers across nmteam0" wait_wall 60 pings
    case $runner in
    activebackup)
        check "$runner: p0 (prio 10) is active" wait_item runner.active_port p0 20
        ip -n peer link set b0 down
        check "$runner: p0 lost, p1 active" wait_item runner.active_port p1 20
        check "$runner: the peer answers with p0 lost" pings
        ip -n peer link set b0 up
        check "$runner: p0 back, active again (higher prio)" wait_item runner.active_port p0 20
        ;;
    lacp)
        check "$runner: p0 selected" wait_item ports.p0.runner.aggregator.selected true 30
        check "$runner: p1 selected" wait_item ports.p1.runner.aggregator.selected true 30
        ip -n peer link set b0 down
        check "$runner: p0 lost, unselected" wait_item ports.p0.runner.aggregator.selected false 20
        check "$runner: the peer answers with p0 lost" pings
        ip -n peer link set b0 up
        check "$runner: p0 back, selected" wait_item ports.p0.runner.aggregator.selected true 30
        ;;
    *)
        ip -n peer link set b0 down
        check "$runner: p0 lost" wait_item ports.p0.link_watches.up false 20
        check "$runner: the peer answers with p0 lost" pings
        ip -n peer link set b0 up
        check "$runner: p0 back" wait_item ports.p0.link_watches.up true 20
        ;;
    esac
    check "$runner: the peer answers with both ports" wait_wall 30 pings
}

# nm_case NAME RUNNER PORT0 PORT1 ARGS...: `teamd-convert ARGS --to nm` into $KEYS, then
# everything listed at the top (PORTn: pn's config as `jq -cS` prints it, without the
# link_watch teamd fills in when the team names none); ends with $KEYS empty and no team.
nm_case() {
    local name=$1 runner=$2 port0=$3 port1=$4 f n=0 out
    shift 4
    say "== $name: teamd-convert $*"
    "$CONV" "$@" --to nm --out "$KEYS" || fail "$name: teamd-convert $* failed"
    for f in "$KEYS"/*.nmconnection; do
        echo "--- $f"
        cat "$f"
        check_eq 600 "$(stat -c %a "$f")" "$name: $(basename "$f") is mode 0600"
        n=$((n + 1))
    done
    check_eq 3 "$n" "$name: three keyfiles (team, two ports)"
    check "$name: nmcli con reload" nmcli con reload
    check_eq 3 "$(nmcli -g FILENAME con | grep -c "^$NM_DIR/conns/")" \
        "$name: NM loaded the three keyfiles"
    say "$name: con up"
    out=$(nmcli --wait 90 con up nmteam0 2>&1) || fail "$name: nmcli con up nmteam0: $out"
    CHECKS=$((CHECKS + 1))
    echo "ok: $name: nmcli con up nmteam0"
    for f in nmteam0 p0 p1; do check "$name: $f connected" wait_wall 60 nm_connected "$f"; done
    check "$name: NM runs our teamd for nmteam0" our_teamd
    check_eq "$runner" "$(timeout 12 "$CTL" nmteam0 config dump actual | jq -r .runner.name)" \
        "$name: teamd's runner is $runner"
    check "$name: both ports in the team" wait_wall 30 sh -c \
        "$CTL nmteam0 port present p0 && $CTL nmteam0 port present p1"
    check_eq "$port0" "$(timeout 12 "$CTL" nmteam0 port config dump p0 | jq -cS 'del(.link_watch)')" \
        "$name: p0's config is $port0"
    check_eq "$port1" "$(timeout 12 "$CTL" nmteam0 port config dump p1 | jq -cS 'del(.link_watch)')" \
        "$name: p1's config is $port1"
    check_eq 192.0.2.1/24 "$(ip -4 -o addr show dev nmteam0 | awk '{ print $4 }')" \
        "$name: nmteam0 has 192.0.2.1/24"
    failover "$runner"
    say "$name: delete the profiles"
    # shellcheck disable=SC2046 # one UUID a word
    check "$name: nmcli con delete" nmcli con delete $(nmcli -g UUID con)
    check_eq "" "$(ls -A "$KEYS")" "$name: NM removed the keyfiles"
    check "$name: nmteam0 gone" wait_wall 30 sh -c '! ip link show nmteam0'
    check "$name: teamd gone" wait_wall 20 sh -c '[ -z "$(pgrep -x teamd)" ]'
}

mkdir -p /tmp/ks /tmp/ifcfg
# pykickstart's shlex: the port list is one word, each port's JSON inside single quotes
cat >/tmp/ks/ks.cfg <<'KS'
text
network --device=lo --hostname=convert-nm
network --device nmteam0 --bootproto static --ip 192.0.2.1 --netmask 255.255.255.0 --noipv6 --activate --teamslaves="p0'{\"prio\": 10}',02:00:00:00:00:02'{\"prio\": 5}'" --teamconfig='{"runner": {"name": "activebackup"}, "link_watch": {"name": "ethtool"}}'
%packages
@core
%end
KS
mac_bound() {
    "$CONV" kickstart /tmp/ks/ks.cfg --to nm 2>/dev/null | awk '
        /^### / { f = $2 } f ~ /slave_2/ && /^interface-name=/ { bad = 1 }
        f ~ /slave_2/ && $0 == "mac-address=02:00:00:00:00:02" { ok = 1 }
        END { exit !(ok && !bad) }'
}
check "kickstart: the port named by MAC is bound by mac-address=, not by name" mac_bound
nm_case kickstart activebackup '{"prio":10}' '{"prio":5}' kickstart /tmp/ks/ks.cfg
# the other cases' runners leave port MACs alone: both ports take the shared MAC again, and
# p1 is up again as NM left it (a managed link without carrier is not activated)
ip link set p1 down
ip link set p1 address 02:00:00:00:00:01
ip link set p1 up

cat >/tmp/ifcfg/ifcfg-nmteam0 <<'EOF2'
DEVICE=nmteam0
NAME=nmteam0
DEVICETYPE=Team
ONBOOT=yes
BOOTPROTO=none
IPADDR=192.0.2.1
PREFIX=24
TEAM_CONFIG='{"runner": {"name": "loadbalance", "tx_hash": ["eth", "ipv4", "l4"], "tx_balancer": {"name": "basic"}}, "link_watch": {"name": "ethtool"}}'
EOF2
for p in p0 p1; do
    prio=100
    [ "$p" = p1 ] && prio=-10
    cat >"/tmp/ifcfg/ifcfg-$p" <<EOF2
DEVICE=$p
NAME="nmteam0 port $p"
DEVICETYPE=TeamPort
ONBOOT=yes
TEAM_MASTER=nmteam0
TEAM_PORT_CONFIG='{"prio": $prio}'
EOF2
done
nm_case ifcfg loadbalance '{"prio":100}' '{"prio":-10}' ifcfg /tmp/ifcfg

say "peer: bridge -> bonding 802.3ad"
bridge_peer_release 2
peer_bond 2

cat >/tmp/ks/ks-lacp.cfg <<'KS'
network --device=nmteam0 --bootproto=static --ip=192.0.2.1 --netmask=255.255.255.0 --noipv6 --teamslaves="p0'{\"prio\": 100, \"lacp_prio\": 10}',p1'{\"prio\": -10}'" --teamconfig="{\"runner\": {\"name\": \"lacp\", \"fast_rate\": true, \"tx_hash\": [\"eth\", \"ipv4\"]}}"
KS
nm_case kickstart-lacp lacp '{"lacp_prio":10,"prio":100}' '{"prio":-10}' \
    kickstart /tmp/ks/ks-lacp.cfg

nm_stop
echo "convert-nm: $CHECKS checks passed in $(($EPOCHSECONDS - t_start)) s"

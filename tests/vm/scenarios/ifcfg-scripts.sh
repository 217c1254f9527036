#!/bin/bash
# ifcfg-scripts: rteam's ifup-Team, ifdown-Team, ifup-TeamPort and ifdown-TeamPort
# (packaging/network-scripts, i.e. `teamd-convert network-script`) on ifcfg files, as
# RHEL's network-scripts call them (`ifup-Team ifcfg-team0`), on the plain-booted guest:
# no systemd (teamd is started with -d), no initscripts (no ifup-eth: the scripts set the
# team's address themselves). Our teamd and teamdctl are named by RTEAM_TEAMD/RTEAM_TEAMDCTL.
#   (a) ifup-Team ifcfg-team0: teamd (ours) runs the activebackup config of TEAM_CONFIG,
#       p0 (TEAM_PORT_CONFIG prio 10) and p1 are ports, team0 has 192.0.2.1/24; the peer
#       answers, and still does after the far end of the active port went down; a second
#       ifup-Team changes nothing.
#   (b) ifdown-TeamPort / ifup-TeamPort p1: p1 leaves and comes back.
#   (c) ifdown-Team team0: no team0, no teamd, no /run/teamd/team0.conf, ports free.
#   (d) ifup-TeamPort p0 with its team down starts the team first (both ports join).
#   (e) a port file with a bad TEAM_PORT_CONFIG: an error naming file, line and key, and
#       nothing done; an ifup-Team of a port file is refused.
#
#   guest                                   netns "peer"
#   team0 192.0.2.1/24 ─┬─ p0 ═══ b0 ──┐
#                       └─ p1 ═══ b1 ──┴─ br0 192.0.2.2/24
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

R=/opt/rteam/bin
SCRIPTS=/etc/sysconfig/network-scripts
export TEAMD_CONVERT=$R/teamd-convert RTEAM_TEAMD=$R/teamd RTEAM_TEAMDCTL=$R/teamdctl
CTL=$R/teamdctl
for x in "$TEAMD_CONVERT" "$RTEAM_TEAMD" "$CTL"; do [ -x "$x" ] || fail "$x missing"; done
t_start=$EPOCHSECONDS

say() { echo "[$SECONDS s] $*"; }
item() { timeout 12 "$CTL" team0 state item get "$1" 2>/dev/null; }
item_is() { [ "$(item "$1")" = "$2" ]; }
wait_item() { wait_for -t "$3" item_is "$1" "$2"; }
pings() { peer_answers 2>/dev/null; }
ports() { "$CTL" team0 port present "$1" >/dev/null 2>&1; }
master_of() { basename "$(readlink "/sys/class/net/$1/master" 2>/dev/null)" 2>/dev/null; }
teamd_pid() { pgrep -x teamd || true; }
no_team() {
    ! ip link show team0 >/dev/null 2>&1 && [ -z "$(teamd_pid)" ] &&
        [ ! -e /run/teamd/team0.conf ] && [ -z "$(master_of p0)" ] && [ -z "$(master_of p1)" ]
}
up_ok() {
    [ "$(master_of p0)" = team0 ] && [ "$(master_of p1)" = team0 ] && ports p0 && ports p1
}

say "topology"
bridge_peer 2 02:00:00:00:00:01
mkdir -p "$SCRIPTS"
for s in ifup-Team ifdown-Team ifup-TeamPort ifdown-TeamPort; do
    install -m 755 "/opt/rteam/src/packaging/network-scripts/$s" "$SCRIPTS/$s"
done
cat >"$SCRIPTS/ifcfg-team0" <<'EOF'
DEVICE=team0
DEVICETYPE=Team
TEAM_CONFIG='{"runner": {"name": "activebackup"}, "link_watch": {"name": "ethtool"}}'
BOOTPROTO=none
IPADDR=192.0.2.1
PREFIX=24
ONBOOT=yes
EOF
cat >"$SCRIPTS/ifcfg-p0" <<'EOF'
DEVICE=p0
DEVICETYPE=TeamPort
TEAM_MASTER=team0
TEAM_PORT_CONFIG='{"prio": 10}'
EOF
cat >"$SCRIPTS/ifcfg-p1" <<'EOF'
DEVICE="p1"
DEVICETYPE=TeamPort
TEAM_MASTER=team0
EOF
# a file for another team, which the scripts must leave alone
cat >"$SCRIPTS/ifcfg-eth9" <<'EOF'
DEVICE=eth9
BOOTPROTO=dhcp
EOF
cd "$SCRIPTS" || fail "no $SCRIPTS"

say "(a) ifup-Team ifcfg-team0"
./ifup-Team ifcfg-team0 || fail "ifup-Team ifcfg-team0 failed"
pid=$(teamd_pid)
check "one teamd runs, and it is ours" \
    test -n "$pid" -a "$(wc -w <<<"$pid")" = 1
check "teamd is $RTEAM_TEAMD" cmp -s "/proc/$pid/exe" "$RTEAM_TEAMD"
check "the config was written to /run/teamd/team0.conf" test -s /run/teamd/team0.conf
check_eq activebackup "$("$CTL" team0 config dump actual | jq -r .runner.name)" "(a) runner"
check_eq ethtool "$("$CTL" team0 config dump actual | jq -r .link_watch.name)" "(a) link watch"
check "(a) p0 and p1 are ports of team0" up_ok
check_eq 10 "$("$CTL" team0 port config dump p0 | jq -r .prio)" "(a) p0 prio (TEAM_PORT_CONFIG)"
check_eq "null" "$("$CTL" team0 port config dump p1 | jq -r .prio)" "(a) p1 has no port config"
has_addr() { ip -4 -o addr show dev team0 | matches ' 192.0.2.1/24 '; }
is_up() { ip -o link show team0 | matches 'state UP'; }
check "(a) team0 has 192.0.2.1/24" has_addr
check "(a) team0 is up" wait_for -t 10 is_up
check "(a) p0 (prio 10) is active" wait_item runner.active_port p0 20
check "(a) the peer answers across team0" wait_for -t 30 pings
ip -n peer link set b0 down
check "(a) p0 lost, p1 active" wait_item runner.active_port p1 20
check "(a) the peer answers with p0 lost" wait_for -t 20 pings
ip -n peer link set b0 up
check "(a) p0 back and active (higher prio)" wait_item runner.active_port p0 20
check "(a) a second ifup-Team succeeds" ./ifup-Team team0
check_eq "$pid" "$(teamd_pid)" "(a) the same teamd runs after the second ifup-Team"
check "(a) both ports still in" up_ok

say "(b) ifdown-TeamPort / ifup-TeamPort p1"
check "(b) ifdown-TeamPort ifcfg-p1" ./ifdown-TeamPort ifcfg-p1
check "(b) p1 left team0" test -z "$(master_of p1)"
check "(b) teamd has no p1" test -z "$(ports p1 && echo yes)"
check "(b) ifup-TeamPort p1 (by device name)" ./ifup-TeamPort p1
check "(b) p1 is back" up_ok
check "(b) the peer answers" wait_for -t 20 pings

say "(c) ifdown-Team ifcfg-team0"
check "(c) ifdown-Team ifcfg-team0" ./ifdown-Team ifcfg-team0
check "(c) nothing is left" wait_for -t 20 no_team

say "(d) ifup-TeamPort ifcfg-p0 with the team down"
check "(d) ifup-TeamPort ifcfg-p0" ./ifup-TeamPort ifcfg-p0
check "(d) team0 started, both ports in" up_ok
check "(d) the peer answers" wait_for -t 30 pings
check "(d) ifdown-Team team0" ./ifdown-Team team0
check "(d) nothing is left" wait_for -t 20 no_team

say "(e) bad input"
cat >"$SCRIPTS/ifcfg-p1" <<'EOF'
DEVICE=p1
DEVICETYPE=TeamPort
TEAM_MASTER=team0
TEAM_PORT_CONFIG='{"prio": 10'
EOF
out=$(./ifup-TeamPort ifcfg-p1 2>&1)
rc=$?
echo "$out"
check_eq 1 "$rc" "(e) ifup-TeamPort of a bad file fails"
check "(e) the error names file, line and key" \
    grep -q "ifup-TeamPort: error: $SCRIPTS/ifcfg-p1:4: \"TEAM_PORT_CONFIG\"" <<<"$out"
check "(e) nothing was started" no_team
out=$(./ifup-Team ifcfg-p0 2>&1)
check_eq 1 "$?" "(e) ifup-Team of a port file fails"
check "(e) ... saying so" grep -q 'DEVICETYPE=TeamPort is not Team' <<<"$out"
check "(e) nothing was started" no_team

echo "PASS: ifcfg-scripts (${CHECKS:-0} checks, $(($EPOCHSECONDS - t_start)) s)"

#!/bin/bash
# teamd-reload: a live team carrying a ping gets new configs (`teamdctl team0 config reload`,
# SIGHUP): port prio, watch lists, sticky, the runner itself and its options. After each
# step the kernel and the state show the change; ports leave the team only for a change of
# kernel mode (the driver refuses one while it has ports); refused configs change nothing.
# C teamd has no reload, so there is no oracle run: the checks are on the kernel's view.
#
#   guest                                  netns "peer"
#   team0 192.0.2.1/24 ─┬─ p0 ═══ b0 ──┐
#                       └─ p1 ═══ b1 ──┴─ br0 192.0.2.2/24
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

TEAMD=/opt/rteam/bin/teamd
CTL=/opt/rteam/bin/teamdctl
NL=/usr/bin/teamnl
[ -x "$TEAMD" ] || fail "$TEAMD missing"
checks=0
ok() {
    checks=$((checks + 1))
    echo "ok: $*"
}

echo "== topology"
# one MAC on both ports: frames for the team are accepted on either in every mode
bridge_peer 2 02:00:00:00:00:01

item() { "$CTL" team0 state item get "$1" 2>&1; }
wait_item() { wait_for -t "${3:-20}" sh -c "[ \"\$($CTL team0 state item get $1 2>&1)\" = '$2' ]"; }
state() { "$CTL" team0 state dump; }
opt() { "$NL" team0 getoption "$@"; }

# conf FILE JSON: write a config file.
conf() { printf '%s\n' "$2" >"$1"; }

# reload JSON: apply JSON with `teamdctl team0 config reload FILE`; must succeed.
reload() {
    conf /tmp/new.conf "$1"
    "$CTL" team0 config reload /tmp/new.conf || fail "config reload refused: $1"
}

# no_port_left SINCE_LINE: the port monitor logged no removal after line SINCE_LINE.
no_port_left() {
    if tail -n +"$(($1 + 1))" /tmp/ports.mon | matches -E '^\s*-[0-9]+:'; then
        cat /tmp/ports.mon >&2
        fail "a port left the team: $2"
    fi
}
mon_lines() { wc -l </tmp/ports.mon; }

echo "== start: activebackup, p0 prio 10, p1 prio 0"
conf /tmp/team0.conf '{
    "device": "team0",
    "runner": {"name": "activebackup"},
    "link_watch": {"name": "ethtool"},
    "ports": {"p0": {"prio": 10}, "p1": {}}
}'
"$TEAMD" -f /tmp/team0.conf 2>/tmp/teamd.log &
TEAMD_PID=$!
wait_for -t 30 test -S /var/run/teamd/team0.sock
for p in p0 p1; do wait_for -t 20 "$CTL" team0 port present "$p"; done
ip addr add 192.0.2.1/24 dev team0
ip link set team0 up
ip link set p0 up
ip link set p1 up
for p in p0 p1; do wait_item "ports.$p.link_watches.up" true; done
wait_item runner.active_port p0
TEAM_IFINDEX=$(</sys/class/net/team0/ifindex)
TEAM_MAC=$(</sys/class/net/team0/address)
wait_for -t 20 ping -c1 -W1 192.0.2.2
"$NL" team0 monitor ports >/tmp/ports.mon 2>&1 &
MON_PID=$!
ping -i 0.1 192.0.2.2 >/tmp/ping.log 2>&1 &
PING_PID=$!
sleep 1
start=$(mon_lines)

echo "== 1: p1 prio 20 takes over (no restart, no port leaves)"
reload '{"device": "team0", "runner": {"name": "activebackup"}, "link_watch": {"name": "ethtool"},
         "ports": {"p0": {"prio": 10}, "p1": {"prio": 20}}}'
wait_item runner.active_port p1 || fail "p1 did not become active"
assert_eq 20 "$(opt priority -p p1 2>&1)" "p1 kernel priority"
[ "$(state | jq .ports.p1.link_watches.list.link_watch_0.name)" = '"ethtool"' ] || fail "p1 watch lost"
ok "prio change applied live, active port follows"

echo "== 2: more watches: two on p0, an arp_ping on the active p1; then back to the global one"
reload '{"device": "team0", "runner": {"name": "activebackup"}, "link_watch": {"name": "ethtool"},
         "ports": {"p0": {"prio": 10, "link_watch": [{"name": "ethtool", "delay_down": 500},
                                                     {"name": "ethtool", "delay_up": 300}]},
                   "p1": {"prio": 20, "link_watch": {"name": "arp_ping", "interval": 100,
                          "missed_max": 3, "source_host": "192.0.2.1", "target_host": "192.0.2.2"}}}}'
# each port: its own watches, then the global one (both lists apply, as in C teamd)
assert_eq 3 "$(state | jq '.ports.p0.link_watches.list | length')" "p0 watch count"
assert_eq 2 "$(state | jq '.ports.p1.link_watches.list | length')" "p1 watch count"
assert_eq 500 "$(state | jq '[.ports.p0.link_watches.list[] | .delay_down] | max')" "p0 delay_down"
assert_eq '"arp_ping"' "$(state | jq '[.ports.p1.link_watches.list[] | select(.name == "arp_ping")][0].name')" "p1 arp_ping watch"
# the peer answers the new watch's probes: it stays up for a dozen intervals
sleep 1.5
assert_eq true "$(state | jq '[.ports.p1.link_watches.list[] | select(.name == "arp_ping")][0].up')" "p1 arp_ping up"
assert_eq true "$(item ports.p0.link_watches.up)" "p0 link after the watch change"
assert_eq p1 "$(item runner.active_port)" "active port after the watch change"
reload '{"device": "team0", "runner": {"name": "activebackup"}, "link_watch": {"name": "ethtool"},
         "ports": {"p0": {"prio": 10}, "p1": {"prio": 20}}}'
assert_eq 1 "$(state | jq '.ports.p0.link_watches.list | length')" "p0 watch count after removal"
assert_eq '["ethtool"]' "$(state | jq -c '[.ports.p1.link_watches.list[] | .name]')" "p1 watches after removal"
ok "watch lists change live"

echo "== 3: SIGHUP re-reads the start-up file (p0 prio 30 sticky)"
conf /tmp/team0.conf '{"device": "team0", "runner": {"name": "activebackup"},
    "link_watch": {"name": "ethtool"}, "ports": {"p0": {"prio": 30, "sticky": true}, "p1": {"prio": 20}}}'
kill -HUP "$TEAMD_PID"
wait_item runner.active_port p0 || fail "SIGHUP reload did not apply"
assert_eq true "$("$CTL" team0 config dump | jq .ports.p0.sticky)" "sticky in ConfigDump"
assert_eq 30 "$(opt priority -p p0 2>&1)" "p0 kernel priority"
no_port_left "$start" "steps 1-3"
ok "SIGHUP reload"

echo "== 4: refused configs change nothing"
before=$("$CTL" team0 config dump)
conf /tmp/bad.conf '{"device": "team9", "runner": {"name": "activebackup"}}'
"$CTL" team0 config reload /tmp/bad.conf >/tmp/r.out 2>/tmp/r.err && fail "device change accepted"
grep -q 'cannot change on a running team' /tmp/r.err || { cat /tmp/r.err >&2; fail "device refusal message"; }
conf /tmp/bad.conf '{"runner": {"name": "activebackup"}, "link_watch": {"name": "sonar"}}'
"$CTL" team0 config reload /tmp/bad.conf >/tmp/r.out 2>/tmp/r.err && fail "unknown watch accepted"
grep -q 'No link_watch named "sonar"' /tmp/r.err || { cat /tmp/r.err >&2; fail "watch refusal message"; }
conf /tmp/bad.conf '{"runner": '
"$CTL" team0 config reload /tmp/bad.conf >/tmp/r.out 2>/tmp/r.err && fail "broken JSON accepted"
grep -q 'Failed to parse config' /tmp/r.err || { cat /tmp/r.err >&2; fail "JSON refusal message"; }
assert_eq "$before" "$("$CTL" team0 config dump)" "config after refused reloads"
assert_eq p0 "$(item runner.active_port)" "active port after refused reloads"
ok "refusals name the problem and change nothing"

echo "== 5: runner activebackup -> loadbalance (another kernel mode)"
reload '{"device": "team0", "runner": {"name": "loadbalance", "tx_hash": ["eth", "ipv4"]},
         "link_watch": {"name": "ethtool"}, "ports": {"p0": {"prio": 30}, "p1": {"prio": 20}}}'
assert_eq loadbalance "$(opt mode 2>&1)" "kernel mode"
for p in p0 p1; do
    wait_for -t 20 "$CTL" team0 port present "$p"
    wait_for -t 20 sh -c "[ \"\$($NL team0 getoption enabled -p $p)\" = true ]"
done
assert_eq "$TEAM_IFINDEX" "$(</sys/class/net/team0/ifindex)" "team0 ifindex (device kept)"
assert_eq "$TEAM_MAC" "$(</sys/class/net/team0/address)" "team0 MAC"
ip -4 addr show team0 | matches 192.0.2.1/24 || fail "team0 lost its address"
assert_eq '"loadbalance"' "$(state | jq .setup.runner_name)" "runner in the state"
wait_for -t 10 ping -c1 -W1 192.0.2.2
ok "runner change in place"

echo "== 6: loadbalance tx_hash change (same mode: no port leaves)"
sleep 1
mark=$(mon_lines)
hash_before=$(opt bpf_hash_func)
reload '{"device": "team0", "runner": {"name": "loadbalance", "tx_hash": ["ipv4", "l4"]},
         "link_watch": {"name": "ethtool"}, "ports": {"p0": {"prio": 30}, "p1": {"prio": 20}}}'
[ "$hash_before" != "$(opt bpf_hash_func)" ] || fail "bpf_hash_func unchanged"
assert_eq '["ipv4","l4"]' "$("$CTL" -o team0 config dump | jq -c .runner.tx_hash)" "tx_hash in ConfigDump"
sleep 1
no_port_left "$mark" "step 6"
ok "runner options change live"

echo "== ping over all steps"
sleep 1
kill -INT "$PING_PID"
wait "$PING_PID" 2>/dev/null
stats=$(grep 'packets transmitted' /tmp/ping.log)
echo "$stats"
sent=$(echo "$stats" | awk '{print $1}')
got=$(echo "$stats" | awk '{print $4}')
lost=$((sent - got))
echo "ping: $sent sent, $got received, $lost lost (one mode change included)"
# a mode change re-enslaves both ports: allow about one second of loss for it
[ "$lost" -le 10 ] || fail "ping lost $lost packets"
ok "ping kept flowing ($lost of $sent lost)"

kill "$MON_PID" 2>/dev/null
kill "$TEAMD_PID"
wait "$TEAMD_PID"
wait_for -t 20 sh -c '! ip link show team0'
grep -q 'Config reloaded' /tmp/teamd.log || { cat /tmp/teamd.log >&2; fail "no reload log lines"; }
echo "teamd-reload: $checks checks passed"

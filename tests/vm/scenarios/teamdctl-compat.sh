#!/bin/bash
# teamdctl-compat: our teamdctl against libteam's, both talking to libteam's C teamd.
# Every invocation runs with both tools under the same argv[0] and must give byte-identical
# stdout, stderr and exit status. Commands that change teamd's state run with C teamdctl,
# are undone, then run with ours from the same starting point. Finally raw usock messages
# (malformed ones included) pin down how C teamd answers the framing.
#
#   team0: activebackup, ports p0 (prio 10) and p1, ethtool watchers
#   team1: loadbalance, ports p2 and p3, arp_ping + nsna_ping watchers (slow, so stable)
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh
known_diff_load teamdctl-compat

C=/usr/bin/teamdctl
R=/opt/rteam/bin/teamdctl
[ -x "$R" ] || fail "$R missing"
mkdir -p /var/run/teamd
checks=0

# run TOOL PREFIX ARGS...: stdout, stderr and status of one call into PREFIX.{out,err,rc}.
run() {
    local tool=$1 prefix=$2
    shift 2
    (exec -a teamdctl "$tool" "$@") >"$prefix.out" 2>"$prefix.err"
    echo "rc=$?" >"$prefix.rc"
}

# compare WHAT: the last C run (/tmp/c.*) and rteam run (/tmp/r.*) match byte for byte.
compare() {
    local f
    # our help has one command more than C's (config reload; known-differences: teamdctl
    # help config-reload): it must be there, then it is taken out so that the rest
    # compares byte for byte
    if grep -qx '    config dump actual' /tmp/c.out; then
        grep -qx '    config reload \[FILE\]' /tmp/r.out || fail "teamdctl $1: help lacks config reload"
        known_diff help config-reload "$(grep -c 'config reload' /tmp/c.out)" \
            "$(grep -c 'config reload' /tmp/r.out)" >/dev/null || fail "teamdctl $1: help differs, not listed"
        sed -i '/^    config reload \[FILE\]$/d' /tmp/r.out
    fi
    for f in rc out err; do
        if ! cmp -s "/tmp/c.$f" "/tmp/r.$f"; then
            echo "FAIL: teamdctl $1: $f differs (-C +rteam):" >&2
            diff -u --label C --label rteam "/tmp/c.$f" "/tmp/r.$f" >&2
            exit 1
        fi
    done
    checks=$((checks + 1))
    echo "same: teamdctl $1 ($(</tmp/c.rc))"
}

# same ARGS...: both tools answer alike.
same() {
    run "$C" /tmp/c "$@"
    run "$R" /tmp/r "$@"
    compare "$*"
}

# same_status ARGS...: both tools exit alike; the texts are shown, not compared.
same_status() {
    run "$C" /tmp/c "$@"
    run "$R" /tmp/r "$@"
    echo "status only: teamdctl $* (C: $(</tmp/c.rc), rteam: $(</tmp/r.rc))"
    sed 's/^/  C stderr: /' /tmp/c.err
    sed 's/^/  rteam stderr: /' /tmp/r.err
    cmp -s /tmp/c.rc /tmp/r.rc || fail "teamdctl $*: exit status differs"
    checks=$((checks + 1))
}

# ok TOOL ARGS...: a call that must succeed (used for set-up and undo).
ok() {
    local tool=$1
    shift
    "$tool" "$@" >/dev/null || fail "$tool $* failed"
}

item() { "$C" "$1" state item get "$2" 2>/dev/null; }

# wait_item TEAM PATH VALUE: teamd reports VALUE for state item PATH.
wait_item() {
    wait_for -t 20 sh -c "[ \"\$($C $1 state item get $2 2>/dev/null)\" = '$3' ]"
}

# start_team NAME CONFIG PORTS...: veth pairs (ports down, as enslaving needs), C teamd,
# then everything up and every port's link watchers reporting up.
start_team() {
    local team=$1 conf=$2 p
    shift 2
    for p in "$@"; do mk_veth_pair "$p" "peer_$p"; done
    printf '%s\n' "$conf" >"/tmp/$team.conf"
    teamd -d -f "/tmp/$team.conf" || fail "C teamd for $team did not start"
    wait_for -t 20 test -S "/var/run/teamd/$team.sock"
    ip link set "$team" up
    for p in "$@"; do
        wait_for -t 20 "$C" "$team" port present "$p"
        ip link set "peer_$p" up
        ip link set "$p" up
    done
}

echo "== command line only (no teamd involved)"
same
same -h
same --help
same -x team0 state
same --bogus team0 state
same --force team0 state
same --help=1
same -Z
same team0
same team0 bogus
same team0 configx dump
same team0 port
same team0 port add
same team0 port config update p0
same team0 state item set x
same team0 state dump extra
same nosuchdev state
same -v nosuchdev state item get setup.pid

echo "== team0: activebackup"
start_team team0 '{
    "device": "team0",
    "runner": {"name": "activebackup"},
    "link_watch": {"name": "ethtool"},
    "ports": {"p0": {"prio": 10}, "p1": {}}
}' p0 p1
wait_for -t 20 sh -c "[ \"\$($C team0 state item get ports.p0.link_watches.up)\" = true ]"
wait_for -t 20 sh -c "[ \"\$($C team0 state item get ports.p1.link_watches.up)\" = true ]"
wait_item team0 runner.active_port p0
sleep 1

same team0 state
same team0 s
same team0 state view
same team0 state -v
same -vv team0 state view
same --verbose team0 s v
same team0 state dump
same -o team0 state dump
same team0 config dump
same -o team0 config dump
same --oneline team0 c d
same team0 config dump noports
same -o team0 config dump noports
same team0 config dump actual
same team0 c d a
same -U team0 state
same team0 -- state dump
same team0 state item get runner.active_port
same team0 state item get setup.runner_name
same team0 state item get setup.pid
same team0 state item get team_device.ifinfo.ifname
same team0 state item get ports.p0.link.up
same team0 state item get 'ports."p1".link_watches.list.link_watch_0.name'
same team0 state item get ports.p0.setup.runner_name
same team0 state item get nope.nope
same team0 state item get ports.nope.link.up
same team0 state item get setup
same team0 state item set setup.pid 1
same team0 state item set nope.nope 1
same team0 state item set runner.active_port nope
same team0 state item set setup.debug_level notanumber
same team0 port present p0
same team0 port present p1
same team0 port present nope
same team0 port present ''
same team0 port config dump p0
same team0 port config dump p1
same team0 port config dump nosuchdev
same team0 port config dump lo
same team0 port config dump 12345678901234567
same team0 port config update nosuchdev '{}'
same team0 port config update p1 '{"prio": 1, "prio": 2}'
same team0 port config update p1 'not json'
same team0 port add nosuchdev
same team0 port remove nosuchdev
same team0 port remove lo
same team0 port add p0
# No system bus runs here: both fail to reach it over D-Bus, with the same words.
same -D team0 state
# Debian's teamdctl is built without ZeroMQ too: both refuse -Z alike.
same -Z tcp://127.0.0.1:5555 team0 state
grep -qx 'ZeroMQ support is not compiled-in' /tmp/r.err || fail "rteam -Z message: $(</tmp/r.err)"

echo "== team0: commands that change state (C first, undone, then ours)"
run "$C" /tmp/c team0 state item set runner.active_port p1
wait_item team0 runner.active_port p1
ok "$C" team0 state item set runner.active_port p0
wait_item team0 runner.active_port p0
run "$R" /tmp/r team0 state item set runner.active_port p1
wait_item team0 runner.active_port p1
compare "team0 state item set runner.active_port p1"
same team0 state
ok "$C" team0 state item set runner.active_port p0
wait_item team0 runner.active_port p0

run "$C" /tmp/c team0 state item set setup.debug_level 1
ok "$C" team0 state item set setup.debug_level 0
run "$R" /tmp/r team0 state item set setup.debug_level 1
compare "team0 state item set setup.debug_level 1"
same team0 state item get setup.debug_level
ok "$C" team0 state item set setup.debug_level 0

run "$C" /tmp/c team0 port config update p1 '{"prio": 5, "sticky": true}'
# the stored C result would be overwritten by the next check
for f in rc out err; do cp "/tmp/c.$f" "/tmp/stash.$f"; done
same team0 port config dump p1
# quirk: with the port present, an update without "prio" fails (ConfigUpdateFail) yet
# the stored config is replaced, which is all the undo needs
"$C" team0 port config update p1 '{}' 2>/dev/null
run "$R" /tmp/r team0 port config update p1 '{"prio": 5, "sticky": true}'
for f in rc out err; do cp "/tmp/stash.$f" "/tmp/c.$f"; done
compare "team0 port config update p1 {\"prio\": 5, \"sticky\": true}"
same team0 port config dump p1
same team0 config dump
# arguments with newlines and backslashes go through the client's escaping
run "$C" /tmp/c team0 port config update p1 "$(printf '{\n"prio": 7,\n"x": "a\\"b"\n}')"
run "$R" /tmp/r team0 port config update p1 "$(printf '{\n"prio": 7,\n"x": "a\\"b"\n}')"
compare "team0 port config update p1 (multi-line JSON)"
same team0 port config dump p1
# C teamd's argument decoder skips the character after each escape: an escaped
# backslash followed by another one is mangled, so this valid JSON is refused
run "$C" /tmp/c team0 port config update p1 '{"x": "a\\b"}'
run "$R" /tmp/r team0 port config update p1 '{"x": "a\\b"}'
compare "team0 port config update p1 {\"x\": \"a\\\\b\"}"
ok "$C" team0 port config update p1 '{"prio": 0}'

run "$C" /tmp/c team0 port remove p1
wait_for -t 20 sh -c "! $C team0 port present p1"
for f in rc out err; do cp "/tmp/c.$f" "/tmp/stash.$f"; done
same team0 port present p1
same team0 state
same team0 config dump actual
ip link set p1 down
ok "$C" team0 port add p1
wait_for -t 20 "$C" team0 port present p1
run "$R" /tmp/r team0 port remove p1
wait_for -t 20 sh -c "! $C team0 port present p1"
for f in rc out err; do cp "/tmp/stash.$f" "/tmp/c.$f"; done
compare "team0 port remove p1"
ip link set p1 down
run "$C" /tmp/c team0 port add p1
wait_for -t 20 "$C" team0 port present p1
ok "$C" team0 port remove p1
wait_for -t 20 sh -c "! $C team0 port present p1"
ip link set p1 down
run "$R" /tmp/r team0 port add p1
wait_for -t 20 "$C" team0 port present p1
compare "team0 port add p1"
ip link set p1 up
# port add of an UP device: the kernel refuses (EBUSY) and teamd says PortAddFail
ip link add p9 type veth peer name peer_p9
ip link set p9 up
same team0 port add p9

echo "== team1: loadbalance with ping watchers"
start_team team1 '{
    "device": "team1",
    "runner": {"name": "loadbalance", "tx_hash": ["eth", "ipv4", "l4"]},
    "link_watch": [
        {"name": "arp_ping", "target_host": "192.0.2.2", "interval": 100000,
         "init_wait": 100000, "missed_max": 5, "validate_active": true},
        {"name": "nsna_ping", "target_host": "fe80::1", "interval": 100000,
         "init_wait": 100000}
    ],
    "ports": {"p2": {"queue_id": 1}, "p3": {}},
    "x_unknown": {"\u00e9t\u00e9": "\u00fc\ud83d\ude00/\t\"\\", "real": 0.1, "big": 1e20,
                  "neg": -5, "tiny": 2.5e-7, "whole": 3.0, "arr": [[], {}, null, true],
                  "Z": 1, "_": 2, "a": 3}
}' p2 p3
sleep 1
"$C" -v team1 state
same team1 state
same team1 state -v
same team1 state dump
same -o team1 state dump
same team1 config dump
same team1 config dump actual
same team1 config dump noports
same team1 port config dump p2
same -o team1 port config dump p2
same -o team1 config dump
same team1 port present p3
same team1 state item get ports.p2.link_watches.list.link_watch_0.target_host
same team1 state item get runner.active_port

echo "== devices that teamd does not (or differently) control"
ip link add team9 type team
same team9 state
same -U team9 state
TEAMDCTL_LOG=0 same -U team9 state
TEAMDCTL_LOG=err same team9 state
# a socket that leads to the wrong teamd
ln -s /var/run/teamd/team0.sock /var/run/teamd/team9.sock
same team9 state
same team9 config dump
rm /var/run/teamd/team9.sock

echo "== raw usock messages against C teamd"
cat >/tmp/raw.py <<'EOF'
import socket, sys
# Send each message on one connection; print the reply or NO REPLY after 1.5 s.
sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
sock.connect(sys.argv[1])
sock.settimeout(1.5)
for arg in sys.argv[2:]:
    sock.send(arg.encode().decode("unicode_escape").encode("latin-1"))
    try:
        print(repr(sock.recv(1 << 20).decode()))
    except socket.timeout:
        print("NO REPLY")
EOF
raw() { python3 /tmp/raw.py /var/run/teamd/team0.sock "$@"; }
expect_raw() {
    local want=$1 got
    shift
    got=$(raw "$@")
    assert_eq "$want" "$got" "raw usock $*"
    checks=$((checks + 1))
    echo "raw ok: $*"
}
expect_raw "'REPLY_SUCCESS\\np0'" 'REQUEST\nStateItemValueGet\nrunner.active_port\n'
expect_raw "'REPLY_SUCCESS\\np0'" '\n\nREQUEST\n\n\nStateItemValueGet\n\nrunner.active_port'
expect_raw "'REPLY_SUCCESS\\np0'" 'REQUEST\nStateItemValueGet\nrunner.active_port\nextra\\q\n'
expect_raw "'REPLY_ERROR\\nInvalidArgs\\nDid not receive correct message arguments.\\n'" 'REQUEST\nPortAdd\n'
expect_raw "'REPLY_ERROR\\nInvalidArgs\\nDid not receive correct message arguments.\\n'" 'REQUEST\nPortConfigDump\np\\t0\n'
expect_raw "'REPLY_ERROR\\nInvalidArgs\\nDid not receive correct message arguments.\\n'" 'REQUEST\nPortConfigUpdate\np1\n'
expect_raw "'REPLY_ERROR\\nPathDoesNotExist\\nItem path does not exist.\\n'" 'REQUEST\nStateItemValueGet\nno\\\\pe\n'
expect_raw "'REPLY_ERROR\\nNoSuchDev\\nNo such device.\\n'" 'REQUEST\nPortAdd\n\\n\n'
# no reply at all: not a request, unknown or lower-case method, empty message, reply-typed
expect_raw "NO REPLY" 'HELLO\nStateDump\n'
expect_raw "NO REPLY" 'REQUEST\nPortPresent\np0\n'
expect_raw "NO REPLY" 'REQUEST\nstatedump\n'
expect_raw "NO REPLY" 'REQUEST\n'
expect_raw "NO REPLY" '\n\n'
expect_raw "NO REPLY" 'REPLY_SUCCESS\n{}'
# the connection survives ignored messages
expect_raw "$(printf '%s\n' "NO REPLY" "'REPLY_SUCCESS\\np0'")" 'junk' 'REQUEST\nStateItemValueGet\nrunner.active_port\n'
# C teamd's argument decoder skips the character after each escape sequence (see
# unescape_arg in ctl-proto's usock.rs): "\\\\b" on the wire fails, and an
# escaped newline followed by another one leaves a literal "\n" behind
expect_raw "'REPLY_ERROR\\nInvalidArgs\\nDid not receive correct message arguments.\\n'" 'REQUEST\nStateItemValueGet\na\\\\\\\\b\n'
expect_raw "'REPLY_SUCCESS\\n'" 'REQUEST\nPortConfigUpdate\np1\n{\\n"prio": 3}\n'
expect_raw "'REPLY_ERROR\\nConfigUpdateFail\\nFailed to update config.\\n'" 'REQUEST\nPortConfigUpdate\np1\n{\\n\\n"prio": 3}\n'

teamd -k -t team1 || true
teamd -k -t team0 || true
known_diff_done
echo "teamdctl-compat: all $checks checks passed"

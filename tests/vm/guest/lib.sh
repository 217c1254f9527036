#!/bin/bash
# rteam guest helper library: `source /opt/rteam/tests/guest/lib.sh` from a scenario script.
# Scenarios run in the VM as root, one fresh guest per scenario; /results is kept on the host.

# fail MSG...: print MSG to stderr and end the scenario with status 1.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# assert_eq EXPECTED ACTUAL WHAT [EXPLAIN...]: compare two (multi-line) strings; on mismatch
# print a unified diff (expected -> actual), then what the command EXPLAIN prints (on stderr:
# failure tails end with it), and fail.
assert_eq() {
    if [ "$1" != "$2" ]; then
        echo "FAIL: $3 differs (-expected +actual):" >&2
        diff -u --label expected --label actual <(printf '%s\n' "$1") <(printf '%s\n' "$2") >&2
        if [ $# -gt 3 ]; then
            "${@:4}" >&2
        fi
        exit 1
    fi
}

# mk_veth_pair A B: create veth pair A <-> B, both left down (ports must be down to enslave).
# For up to 1 s the kernel has not yet applied the new pair's carrier-off, and team.ko takes
# a port enslaved then as link up: a scenario that enslaves them while both ends stay down
# waits that out (teamd-config).
mk_veth_pair() {
    ip link add "$1" type veth peer name "$2" || fail "cannot create veth $1/$2"
    ip link set "$1" down
    ip link set "$2" down
}

# mk_netns NAME: create network namespace NAME with its loopback up.
mk_netns() {
    ip netns add "$1" || fail "cannot create netns $1"
    ip -n "$1" link set lo up
}

# veth_to_ns IFACE NS: move IFACE into namespace NS and bring it up there.
veth_to_ns() {
    ip link set "$1" netns "$2" || fail "cannot move $1 to netns $2"
    ip -n "$2" link set "$1" up
}

# wait_for [-t SECS] CMD...: rerun CMD (quietly) every 0.1 s until it succeeds; fail after
# SECS seconds (default 10).
wait_for() {
    local secs=10
    if [ "$1" = "-t" ]; then
        secs=$2
        shift 2
    fi
    local tries=$((secs * 10))
    while ! "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || fail "timed out after ${secs} s waiting for: $*"
        sleep 0.1
    done
}

# normalize: stdin -> stdout filter replacing MAC addresses with <mac> and ifindex numbers
# (ip's "N: ", "@ifN", "ifindex N", teamnl's "N: port") with <ifindex>.
normalize() {
    sed -E \
        -e 's/([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}/<mac>/g' \
        -e 's/^([[:space:]]*)[0-9]+: /\1<ifindex>: /' \
        -e 's/@if[0-9]+/@if<ifindex>/g' \
        -e 's/\b(ifindex|link-netnsid)([ =:]+)[0-9]+/\1\2<ifindex>/g'
}

# cleanup_teams: delete every team device.
cleanup_teams() {
    local dev
    for dev in $(ip -o link show type team | awk -F': ' '{ print $2 }'); do
        ip link del "${dev%@*}"
    done
}

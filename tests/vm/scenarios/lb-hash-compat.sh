#!/bin/bash
# lb-hash-compat: the tx_hash BPF program and tx_balancer settings of crate
# teamd-loadbalance against C teamd. For each runner config, C teamd builds team0 and
# installs its program; `teamnl getoption bpf_hash_func` must equal what
# /opt/rteam/bin/rteam-bpf-hash prints for the same tx_hash value (and likewise
# lb_tx_method / lb_stats_refresh_interval for tx_balancer).
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

[ -x /opt/rteam/bin/rteam-bpf-hash ] || fail "/opt/rteam/bin/rteam-bpf-hash missing"
# A private copy: the host's staging directory is shared live and may be restaged by
# another build while this runs.
R=/tmp/rteam-bpf-hash
cp /opt/rteam/bin/rteam-bpf-hash "$R" || fail "cannot copy rteam-bpf-hash"
mkdir -p /var/run/teamd
checks=0

gone() { ! ip link show team0; }

# start_teamd RUNNER_JSON: C teamd on team0 with that runner object, daemonized.
start_teamd() {
    local conf="{\"device\":\"team0\",\"runner\":$1}"
    teamd -d -c "$conf" 2>/tmp/teamd.err || {
        cat /tmp/teamd.err >&2
        fail "teamd did not start with $conf"
    }
    ip link show team0 >/dev/null 2>&1 || fail "no team0 after teamd -d with $conf"
}

stop_teamd() {
    teamd -k -t team0 || fail "teamd -k -t team0 failed"
    wait_for gone
}

# check_hash RUNNER TX_HASH_JSON: compare the program for runner.tx_hash = TX_HASH_JSON;
# an empty TX_HASH_JSON leaves the key out (teamd's default list).
check_hash() {
    local runner=$1 list=$2 want got
    if [ -n "$list" ]; then
        start_teamd "{\"name\":\"$runner\",\"tx_hash\":$list}"
        want=$("$R" "$list" 2>/dev/null) || fail "rteam-bpf-hash '$list' failed"
    else
        start_teamd "{\"name\":\"$runner\"}"
        want=$("$R") || fail "rteam-bpf-hash failed"
    fi
    got=$(teamnl team0 getoption bpf_hash_func) || fail "teamnl getoption bpf_hash_func"
    stop_teamd
    assert_eq "$want" "$got" "bpf_hash_func for $runner tx_hash=${list:-<absent>}"
    echo "ok: $runner tx_hash=${list:-<absent>} ($(($(tr -cd '\\' <<<"$got" | wc -c) / 8)) insns)"
    checks=$((checks + 1))
}

# check_balancer TX_BALANCER_JSON: lb_tx_method and lb_stats_refresh_interval as set by
# C teamd's loadbalance runner, against our config parsing.
check_balancer() {
    local tb=$1 ours method interval
    start_teamd "{\"name\":\"loadbalance\",\"tx_balancer\":$tb}"
    method=$(teamnl team0 getoption lb_tx_method) || fail "teamnl getoption lb_tx_method"
    interval=$(teamnl team0 getoption lb_stats_refresh_interval) ||
        fail "teamnl getoption lb_stats_refresh_interval"
    stop_teamd
    ours=$("$R" --tx-balancer "$tb" 2>/dev/null) || fail "rteam-bpf-hash --tx-balancer '$tb'"
    # "-": teamd writes no interval, so the kernel default (0) stays.
    ours=${ours/%-/0}
    assert_eq "$ours" "$method"$'\n'"$interval" "tx_balancer $tb"
    echo "ok: tx_balancer $tb -> $method $interval"
    checks=$((checks + 1))
}

# The 11 lists with instruction counts in spec §8.3.1, then more shapes.
lists=(
    '[]'
    '["eth"]'
    '["vlan"]'
    '["ipv4"]'
    '["tcp"]'
    '["l4"]'
    '["eth","vlan"]'
    '["l3"]'
    '["ip","l4"]'
    '["eth","vlan","ipv4","ipv6","tcp","udp"]'
    '["eth","ipv4","ipv6"]'
    '["ipv6"]'
    '["udp"]'
    '["sctp"]'
    '["ip"]'
    '["vlan","l4"]'
    '["vlan","ipv6","sctp"]'
    '["eth","vlan","l3","l4"]'
    '["eth","vlan","ipv4","ipv6","ip","l3","tcp","udp","sctp","l4"]'
    '["l4","eth","eth","ipv6"]'
    '["eth","bogus",7,null,"udp"]'
    '"eth"'
)
for list in "${lists[@]}"; do
    check_hash loadbalance "$list"
done
check_hash loadbalance ''
# lacp installs the same program.
check_hash lacp ''
check_hash lacp '["vlan","tcp"]'

# An unknown fragment is a warning, with teamd's wording (foreground: -d logs to syslog).
teamd -c '{"device":"team0","runner":{"name":"loadbalance","tx_hash":["eth","bogus"]}}' \
    2>/tmp/teamd.err &
teamd_pid=$!
wait_for grep -qF 'Hash frag named "bogus" not found.' /tmp/teamd.err
wait_for ip link show team0
kill "$teamd_pid"
wait "$teamd_pid"
wait_for gone
assert_eq 'Hash frag named "bogus" not found.' "$("$R" '["eth","bogus"]' 2>&1 >/dev/null)" \
    "our warning"
checks=$((checks + 1))

for tb in \
    '{}' \
    '{"name":"basic"}' \
    '{"name":"other","balancing_interval":7}' \
    '{"name":"basic","balancing_interval":0}' \
    '{"name":"basic","balancing_interval":7}' \
    '{"name":"basic","balancing_interval":-5}' \
    '{"name":"basic","balancing_interval":2.5}' \
    '{"name":"basic","balancing_interval":"7"}' \
    '{"name":"basic","balancing_interval":4294967303}' \
    '{"name":"basic","balancing_interval":2147483648}'; do
    check_balancer "$tb"
done

echo "lb-hash-compat: $checks checks passed"

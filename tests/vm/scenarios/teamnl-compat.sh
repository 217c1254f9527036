#!/bin/bash
# teamnl-compat: our teamnl against libteam's, on the real team driver, for every
# kernel mode. Each read is run with both tools (same argv[0]) and must give the
# same stdout, stderr and exit status; values set by one tool are read by the other;
# each tool's monitor sees the changes the other makes.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

C=/usr/bin/teamnl
R=/opt/rteam/bin/teamnl
[ -x "$R" ] || fail "$R missing"
checks=0

# run TOOL ARGS...: exit status, stdout and stderr of one call, as text.
run() {
    local tool=$1 out rc
    shift
    out=$(exec -a teamnl "$tool" "$@" 2>/tmp/stderr)
    rc=$?
    printf 'rc=%s\n%s\n--stderr--\n%s\n' "$rc" "$out" "$(</tmp/stderr)"
}

# same ARGS...: libteam's teamnl and ours answer alike.
same() {
    local want got
    want=$(run "$C" "$@")
    got=$(run "$R" "$@")
    assert_eq "$want" "$got" "teamnl $*"
    checks=$((checks + 1))
}

# set_by TOOL ARGS...: a setoption that must succeed.
set_by() {
    local tool=$1
    shift
    "$tool" "$@" || fail "$tool $* failed"
}

# expect VALUE ARGS...: both tools read VALUE with getoption ARGS.
expect() {
    local want=$1
    shift
    assert_eq "$want" "$($C "$@" 2>&1)" "C teamnl $*"
    assert_eq "$want" "$($R "$@" 2>&1)" "rteam teamnl $*"
    checks=$((checks + 1))
}

ifindex() { cat "/sys/class/net/$1/ifindex"; }

# Command-line handling needs no team at all.
same
same team0
same -h
same -x team0 ports
same team0 bogus
same nosuchdev ports
same -p

i=0
for mode in roundrobin broadcast random activebackup loadbalance; do
    echo "== mode $mode"
    # alternate which tool does the writes
    if [ $((i % 2)) -eq 0 ]; then W=$R; O=$C; else W=$C; O=$R; fi
    i=$((i + 1))
    ip link add team0 type team || fail "cannot create team0"
    same team0 options
    same team0 getoption mode
    same team0 ports
    set_by "$W" team0 setoption mode "$mode"
    expect "$mode" team0 getoption mode
    mk_veth_pair p0 q0
    mk_veth_pair p1 q1
    ip link set p0 master team0 || fail "enslave p0"
    ip link set p1 master team0 || fail "enslave p1"
    ip link set q0 up
    ip link set q1 up
    ip link set team0 up
    wait_for -t 10 sh -c "teamnl team0 ports | grep -c ' up ' | grep -qx 2"
    same team0 ports
    same team0 options
    same team0 opt
    same team0 setoption mode roundrobin # EBUSY: ports exist
    same -p p0 team0 getoption enabled
    # Argument and error handling does not depend on the mode: check it once
    # in full (roundrobin), and keep the emulated run short for the others.
    if [ "$mode" = roundrobin ]; then
        same -p q0 team0 getoption enabled
        same -p nosuch team0 getoption enabled
        same team0 getoption enabled
        same team0 getoption nosuchoption
        same team0 setoption
        same team0 setoption queue_id
        same -p p0 team0 setoption queue_id notanumber
        same -p p0 team0 setoption queue_id 4294967296
        same -p p0 team0 setoption user_linkup maybe
        same -a x team0 getoption mode
    fi

    set_by "$W" -p p0 team0 setoption enabled false
    expect false -p p0 team0 getoption enabled
    set_by "$O" -p p0 team0 setoption enabled true
    expect true -p p0 team0 getoption enabled
    set_by "$W" -p p1 team0 setoption user_linkup_enabled true
    set_by "$W" -p p1 team0 setoption user_linkup false
    expect false -p p1 team0 getoption user_linkup
    expect true -p p1 team0 getoption user_linkup_enabled
    set_by "$W" -p p1 team0 setoption queue_id 3
    expect 3 -p p1 team0 getoption queue_id
    # "-7" alone would be an option to getopt (in both tools): end options first
    set_by "$W" -p p1 team0 setoption priority -- -7
    expect -7 -p p1 team0 getoption priority
    set_by "$O" team0 setoption notify_peers_count 2
    expect 2 team0 getoption notify_peers_count
    same team0 options
    same team0 ports

    case $mode in
    activebackup)
        set_by "$W" team0 setoption activeport "$(ifindex p1)"
        expect "$(ifindex p1)" team0 getoption activeport
        same team0 setoption activeport 99999 # ENOENT
        ;;
    loadbalance)
        set_by "$W" -p p0 team0 setoption enabled true
        set_by "$W" team0 setoption lb_tx_method hash_to_port_mapping
        expect hash_to_port_mapping team0 getoption lb_tx_method
        set_by "$W" -a 5 team0 setoption lb_tx_hash_to_port_mapping "$(ifindex p0)"
        expect "$(ifindex p0)" -a 5 team0 getoption lb_tx_hash_to_port_mapping
        set_by "$O" -a 255 team0 setoption lb_tx_hash_to_port_mapping "$(ifindex p0)"
        expect "$(ifindex p0)" -a 255 team0 getoption lb_tx_hash_to_port_mapping
        same -a 256 team0 getoption lb_tx_hash_to_port_mapping
        same -a 4294967296 team0 getoption lb_tx_hash_to_port_mapping
        # a classic BPF program: "ret #0x2a" (BPF_RET|BPF_K, k = 42)
        bpf='\06\00\00\00\2a\00\00\00'
        set_by "$W" team0 setoption bpf_hash_func "$bpf"
        expect "$bpf" team0 getoption bpf_hash_func
        same team0 setoption bpf_hash_func '\06\00'
        same team0 setoption bpf_hash_func 'xyz'
        same team0 setoption lb_tx_method nosuchmethod
        set_by "$O" team0 setoption lb_stats_refresh_interval 0
        same -a 7 team0 getoption lb_hash_stats
        same -p p1 team0 getoption lb_port_stats
        ;;
    esac
    same team0 options

    # Both monitors watch; each tool makes a change; both must print the same.
    # Start-up under emulation takes a while: poke an option until both have
    # printed it, then start from empty files (appending, so truncation is safe).
    : >/tmp/mon.c
    : >/tmp/mon.r
    # C stdio buffers a redirected stdout until exit: make it line-buffered
    (stdbuf -oL "$C" team0 monitor >>/tmp/mon.c 2>&1) &
    mc=$!
    ("$R" team0 monitor >>/tmp/mon.r 2>&1) &
    mr=$!
    for try in $(seq 1 60); do
        set_by "$C" team0 setoption mcast_rejoin_interval "$try"
        sleep 0.5
        grep -q mcast_rejoin_interval /tmp/mon.c && grep -q mcast_rejoin_interval /tmp/mon.r && break
    done
    [ "$try" -lt 60 ] || fail "monitors did not start"
    sleep 1
    : >/tmp/mon.c
    : >/tmp/mon.r
    set_by "$C" -p p0 team0 setoption priority 11
    sleep 0.5
    set_by "$R" -p p1 team0 setoption priority 12
    sleep 0.5
    ip link set q1 down # the port loses carrier: a port event
    sleep 0.5
    ip link set p1 down # a port link change libteam tracks: an ifinfo event
    sleep 2
    kill -INT "$mc" "$mr"
    wait "$mc" "$mr"
    grep -q 'priority (port:p0) 11 changed' /tmp/mon.r || { cat /tmp/mon.r; fail "our monitor missed C's change"; }
    grep -q 'priority (port:p1) 12 changed' /tmp/mon.c || { cat /tmp/mon.c; fail "C monitor missed our change"; }
    # Genl and rtnetlink events come on two sockets, so where "ifinfos:" blocks fall
    # between the others depends on scheduling: compare the genl blocks in order and
    # the link lines as a set.
    strip_ifinfos() { awk '/^[a-z]+:$/ { keep = ($0 != "ifinfos:") } keep'; }
    only_ifinfos() { awk '/^[a-z]+:$/ { keep = ($0 == "ifinfos:"); next } keep' | sort; }
    assert_eq "$(strip_ifinfos </tmp/mon.c)" "$(strip_ifinfos </tmp/mon.r)" "monitor output ($mode)"
    assert_eq "$(only_ifinfos </tmp/mon.c)" "$(only_ifinfos </tmp/mon.r)" "monitor link lines ($mode)"
    grep -q 'ifinfos:' /tmp/mon.r || fail "our monitor printed no link changes"
    checks=$((checks + 2))

    ip link del team0
    ip link del p0
    ip link del p1
done

# A device that is not a team.
mk_veth_pair v0 w0
same v0 options
echo "teamnl-compat: $checks checks identical"

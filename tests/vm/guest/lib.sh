#!/bin/bash
# rteam guest helper library: `source /opt/rteam/tests/guest/lib.sh` from a scenario script.
# Scenarios run in the VM as root, one fresh guest per scenario; /results is kept on the host.

# sleep SECS: as sleep(1), but without starting a process. In the emulated guest every
# process costs tens of ms of CPU, and the polling loops here and in the scenarios sleep often
# (profiled: /bin/sleep was 5% of a scenario's guest CPU). `read -t` waits on a pipe that only
# this shell holds, so nothing ever arrives. Anything but one plain number goes to sleep(1).
# (Without /dev/fd, as in a boot hook before /dev is mounted, it is sleep(1) again. The
# braces keep `2>/dev/null` to this line: on `exec` itself it would silence the script.)
{ exec {_NAP_FD}<> <(:); } 2>/dev/null || _NAP_FD=
sleep() {
    if [ -n "$_NAP_FD" ] && [ $# -eq 1 ] && [[ $1 =~ ^[0-9]*\.?[0-9]+$ ]]; then
        read -r -t "$1" -u "$_NAP_FD" _nap || :
        return 0
    fi
    command sleep "$@"
}

# fail MSG...: print MSG to stderr and end the scenario with status 1.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# CMD | matches [GREP-OPTION...] PATTERN: grep -q that reads all of its input first. With
# pipefail, `CMD | grep -q` fails at random: grep leaves at its first match, and CMD's next
# write then dies of SIGPIPE (ip(8) writes each link on its own; seen failing a CI run).
# script_lint in xtask refuses `| grep -q` and `| head` in the project's shell scripts.
matches() {
    local input
    input=$(cat)
    grep -q "$@" <<<"$input"
}

# CMD | first_lines N: the first N lines, as head -n N, but reading to the end (see matches).
first_lines() { sed -n "1,${1}p"; }

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
    name_mac "$1"
    name_mac "$2"
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

# nap_next: one pause of a polling loop: sleeps $nap_ms ms, adds them to $slept_ms, then
# doubles $nap_ms up to $nap_max_ms (default 400). The caller declares these as locals. Each
# try of a loop starts processes, which keep the emulated CPU busy; backing off makes a wait
# of seconds a few tries instead of one every 0.1 s (what two guests on two cores share).
nap_next() {
    local secs
    printf -v secs '%d.%03d' $((nap_ms / 1000)) $((nap_ms % 1000))
    sleep "$secs"
    slept_ms=$((slept_ms + nap_ms))
    [ "$nap_ms" -ge "${nap_max_ms:-400}" ] || nap_ms=$((nap_ms * 2))
}

# wait_for [-t SECS] CMD...: rerun CMD (quietly) until it succeeds, first after 0.05 s, then
# backing off to every 0.4 s; fail once SECS seconds (default 10) were spent waiting.
wait_for() {
    local secs=10
    if [ "$1" = "-t" ]; then
        secs=$2
        shift 2
    fi
    local nap_ms=50 slept_ms=0
    while ! "$@" >/dev/null 2>&1; do
        [ "$slept_ms" -lt $((secs * 1000)) ] || fail "timed out after ${secs} s waiting for: $*"
        nap_next
    done
}

# peer_answers [ADDR]: three echo replies from ADDR (default 192.0.2.2, the peer of every
# topology here) within 6 s; ping's stdout dropped. A failover may lose a frame or two in
# flight with any teamd (C teamd's broadcast team once lost three pings in a row right
# after a port came back, in a CI run; 12 more runs of that step lost none): what the
# scenarios check is that traffic flows again, not how fast.
peer_answers() {
    ping -c 3 -i 0.2 -w 6 -W 2 "${1:-192.0.2.2}" >/dev/null
}

# MAC addresses are named by their owner rather than erased, so a diff between the C
# programs and ours sees which device's address a team or port carries. The first owner
# seen of an address names it for the rest of the boot ($MAC_NAMES: "MAC NAME" lines);
# NAME is IFNAME in the root namespace, NS/IFNAME elsewhere.
MAC_NAMES=/tmp/rteam-mac-names

# _MAC_NAMING: perl that loads $MAC_NAMES into %name and adds every interface's current
# address not yet in it (root namespace first, each namespace in ifindex order: the
# scenario's veths come before a team device that may copy a port's address). One perl
# process, since every process costs a fraction of a second in the emulated guest.
_MAC_NAMING='
    my $file = "'"$MAC_NAMES"'";
    if (open my $f, "<", $file) {
        while (<$f>) { my ($m, $n) = split; $name{$m} //= $n if defined $n }
    }
    my @ns = map { (split)[0] } `ip netns list 2>/dev/null`;
    open my $out, ">>", $file or die "$file: $!";
    for my $ns ("", @ns) {
        my @cmd = $ns eq "" ? ("ip", "-o", "link", "show") : ("ip", "-n", $ns, "-o", "link", "show");
        open my $ip, "-|", @cmd or next;
        while (<$ip>) {
            next unless m{^\d+: ([^:\@\s]+)[\@:].*?link/ether ([0-9a-fA-F:]{17})};
            my ($ifname, $m) = ($1, lc $2);
            next if $m eq "00:00:00:00:00:00" || exists $name{$m};
            $name{$m} = $ns eq "" ? $ifname : "$ns/$ifname";
            print $out "$m $name{$m}\n";
        }
    }
    close $out;
    # mac_name(MAC): the <mac:OWNER> text for an address (%gone and $unknown number the
    # ones no interface has; a caller may reset them)
    sub mac_name {
        my $m = lc shift;
        return "<mac:" . ($name{$m} // ($m eq "00:00:00:00:00:00" ? "zero"
            : $m eq "ff:ff:ff:ff:ff:ff" ? "bcast"
            : ($gone{$m} //= "?" . ++$unknown))) . ">";
    }
'

# name_mac IFACE: record IFACE's (root namespace) current address under its name; bash
# builtins only, so it costs nothing per veth pair.
name_mac() {
    local mac
    read -r mac <"/sys/class/net/$1/address" && echo "${mac,,} $1" >>"$MAC_NAMES"
}

# name_macs: record the current address of every interface under its owner's name. Call
# it after creating ports and peers and before teamd may change their addresses.
name_macs() {
    perl -e "$_MAC_NAMING"
}

# normalize: stdin -> stdout filter replacing each MAC address with <mac:OWNER> (see
# name_macs; addresses not yet named are named by their current owner first; all-zero
# and broadcast are <mac:zero>/<mac:bcast>, an address no interface has is <mac:?N>, N
# counted from 1 in order of appearance) and ifindex numbers (ip's "N: ", "@ifN",
# "ifindex N", teamnl's "N: port") with <ifindex>.
normalize() {
    perl -pe '
        BEGIN {'"$_MAC_NAMING"'}
        s{\b((?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2})\b}{mac_name($1)}ge;
        s/^(\s*)\d+: /$1<ifindex>: /;
        s/\@if\d+/\@if<ifindex>/g;
        s/\b(ifindex|link-netnsid)([ =:]+)\d+/$1$2<ifindex>/g;
    '
}

# missed_class: the ping watches' missed counters (teamdctl's "missed packets: N/MAX" and
# jq -S's "missed": N then "missed_max": MAX) become <=max or >max. The count itself
# depends on when the state was read within an interval; which side of missed_max it is on
# is the link state the watch reports, and must match between implementations.
missed_class() {
    perl -0pe '
        s{missed packets: (\d+)/(\d+)}{"missed packets: " . ($1 <= $2 ? "<=max" : ">max") . "/$2"}ge;
        s{"missed": (\d+),(\s*)"missed_max": (\d+)}{"\"missed\": " . ($1 <= $3 ? "\"<=max\"" : "\">max\"") . ",$2\"missed_max\": $3"}ge;
    '
}

# known_differences SCENARIO [KIND]: "CASE<tab>REASON" for each case tests/vm/known-differences
# lists for SCENARIO and KIND (the one list of differences from the C programs); without
# KIND, "KIND<tab>CASE<tab>REASON" for every case of SCENARIO.
known_differences() {
    awk -v s="$1" -v k="${2:-}" '
        /^[[:space:]]*(#|$)/ { next }
        $1 == s && (k == "" || $2 == k) {
            kind = $2; c = $3
            $1 = $2 = $3 = ""
            sub(/^[[:space:]]+/, "")
            print (k == "" ? kind "\t" : "") c "\t" $0
        }' /opt/rteam/tests/known-differences
}

# The same list seen case by case, for scenarios that check a difference where it shows:
# known_diff_load SCENARIO reads SCENARIO's entries; known_diff KIND CASE C_OUT RTEAM_OUT
# (in the scenario's shell, not a subshell) prints a listed difference, fails when it no
# longer differs, and returns 1 for a case the list does not name; known_diff_done fails
# for a listed case the run never reached (a stale entry).
declare -A KNOWN_DIFF=() KNOWN_DIFF_SEEN=()
KNOWN_DIFF_SCENARIO=
known_diff_load() {
    local kind case why
    KNOWN_DIFF_SCENARIO=$1
    while IFS=$'\t' read -r kind case why; do
        KNOWN_DIFF[$kind/$case]=$why
    done < <(known_differences "$1")
}
known_diff() {
    local key=$1/$2
    [ -n "${KNOWN_DIFF[$key]:-}" ] || return 1
    [ "$3" != "$4" ] || fail "known-differences lists $KNOWN_DIFF_SCENARIO $1 $2, which no longer differs: $3"
    KNOWN_DIFF_SEEN[$key]=1
    echo "KNOWN: $KNOWN_DIFF_SCENARIO $1 $2 (${KNOWN_DIFF[$key]}): C: $3 | rteam: $4"
}
known_diff_done() {
    local key
    for key in "${!KNOWN_DIFF[@]}"; do
        [ -n "${KNOWN_DIFF_SEEN[$key]:-}" ] ||
            fail "known-differences lists $KNOWN_DIFF_SCENARIO ${key%%/*} ${key#*/}, which this run never checked"
    done
}

# cleanup_teams: delete every team device.
cleanup_teams() {
    local dev
    for dev in $(ip -o link show type team | awk -F': ' '{ print $2 }'); do
        ip link del "${dev%@*}"
    done
}

# bridge_peer N [MAC]: netns "peer" with bridge br0 (no STP, no forwarding delay: a port
# coming back forwards at once) at 192.0.2.2/24, and N veth pairs pI (root namespace, down)
# <-> bI (peer, up, on br0). With MAC, every pI gets that address, so frames for a team whose
# runner leaves port MACs alone are accepted on any port.
bridge_peer() { bridge_peer_as peer 192.0.2.2/24 p b "$@"; }

# bridge_peer_as NS ADDR PORT FAR N [MAC]: bridge_peer with other names: netns NS, br0 at
# ADDR, pairs PORTi <-> FARi.
bridge_peer_as() {
    local ns=$1 addr=$2 port=$3 far=$4 n=$5 mac=${6:-} i
    mk_netns "$ns"
    ip -n "$ns" link add br0 type bridge || fail "cannot create br0 in $ns"
    ip -n "$ns" link set br0 type bridge stp_state 0 forward_delay 0
    ip -n "$ns" addr add "$addr" dev br0
    ip -n "$ns" link set br0 up
    for ((i = 0; i < n; i++)); do
        mk_veth_pair "$port$i" "$far$i"
        [ -z "$mac" ] || ip link set "$port$i" address "$mac"
        veth_to_ns "$far$i" "$ns"
        ip -n "$ns" link set "$far$i" master br0
    done
}

# bridge_peer_release N: br0 (bridge_peer) gives up 192.0.2.2/24 and b0..b(N-1), which are
# left down and free for another partner (lacp.sh's peer_bond).
bridge_peer_release() {
    local i
    ip -n peer addr del 192.0.2.2/24 dev br0
    for ((i = 0; i < $1; i++)); do
        ip -n peer link set "b$i" down
        ip -n peer link set "b$i" nomaster
    done
}

# Where `cargo xtask package` leaves the packages (scenarios with `# vm-needs: packages`).
PKGS=/opt/rteam/src/target/packages

# our_deb: DEB becomes the path of a copy of our .deb in /tmp (apt wants a readable local
# file it can name; the share is read-only).
our_deb() {
    DEB=$(ls "$PKGS"/rteam_*.deb 2>/dev/null | first_lines 1)
    [ -n "$DEB" ] || fail "no rteam_*.deb in $PKGS: run 'cargo xtask package' first"
    cp "$DEB" /tmp/ || fail "cannot copy $DEB"
    DEB=/tmp/$(basename "$DEB")
}

# install_our_deb: `apt-get install` of our .deb; apt's output shown when it fails.
install_our_deb() {
    our_deb
    DEBIAN_FRONTEND=noninteractive apt-get -y -q install "$DEB" >/tmp/apt.log 2>&1 || {
        cat /tmp/apt.log
        fail "apt-get install of our .deb failed"
    }
}

# peer_bond N: bond0 (802.3ad, fast rate) in netns "peer" at 192.0.2.2/24 over b0..b(N-1)
# (already in that namespace; bridge_peer_release frees them from bridge_peer's br0), up.
peer_bond() {
    local i
    ip -n peer link add bond0 type bond mode 802.3ad lacp_rate fast miimon 100 xmit_hash_policy layer2+3 ||
        fail "cannot create bond0"
    for ((i = 0; i < $1; i++)); do
        ip -n peer link set "b$i" down
        ip -n peer link set "b$i" master bond0
        ip -n peer link set "b$i" up
    done
    ip -n peer addr add 192.0.2.2/24 dev bond0
    ip -n peer link set bond0 up
}

# bond_opt BOND NAME: bonding option NAME of BOND, its first word ("active-backup 1" ->
# "active-backup").
bond_opt() {
    local v=""
    read -r v _ <"/sys/class/net/$1/bonding/$2"
    echo "$v"
}

# mii_is PORT up|down: the MII status bonding holds for its port PORT.
mii_is() { [ "$(<"/sys/class/net/$1/bonding_slave/mii_status")" = "$2" ]; }

# check WHAT COMMAND...: COMMAND must succeed, else fail naming WHAT; "ok: WHAT", counted in
# CHECKS. COMMAND runs in a subshell (a `fail` inside it, wait_for's say, ends only that) with
# its stdout hidden and its stderr shown.
check() {
    local what=$1
    shift
    ("$@") >/dev/null || fail "$what"
    CHECKS=$((${CHECKS:-0} + 1))
    echo "ok: $what"
}

# check_eq EXPECTED ACTUAL WHAT: assert_eq, then "ok: WHAT", counted in CHECKS.
check_eq() {
    assert_eq "$1" "$2" "$3"
    CHECKS=$((${CHECKS:-0} + 1))
    echo "ok: $3"
}

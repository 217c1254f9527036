#!/bin/bash
# teamd-config: our teamd against libteam's on a corpus of configs
# (tests/vm/teamd-configs). Every check runs C teamd first, then ours with the
# same arguments, and reads both with C teamdctl/teamnl.
#
#   good/      teamd -d starts; config dump, config dump actual, state dump
#              and teamnl options must be identical (pid, ifindex and MACs
#              normalised).
#   bad/       both exit 1, leave no team device behind and print the same
#              stderr, in the foreground and (one config per failure stage)
#              with -d; ours must name the problem.
#   port-bad/  per-port errors: C teamd starts, then drops the port when its
#              set-up fails (so these are not exit-1 cases); both must end in
#              the same state and print the same first error line.
#
# Ports are veth pairs p0..p2 (peers q0..q2) that stay down, so nothing flaps
# while the dumps are taken. The lacp runner and the arp_ping/nsna_ping
# watches need a peer that answers: their scenarios (lacp-*, teamd-arp,
# teamd-nsna) compare them. tipc is not implemented.
set -uo pipefail
source /opt/rteam/tests/guest/lib.sh

CT=/usr/bin/teamd
RT=/opt/rteam/bin/teamd
CTL=/usr/bin/teamdctl
DIR=/opt/rteam/tests/teamd-configs
[ -x "$RT" ] || fail "$RT missing"
mkdir -p /var/run/teamd

# Known differences (tests/vm/known-differences, kinds stderr, port-first-line and port-stderr),
# each with its reason: the case still runs and its diff is printed, but it does not fail the
# scenario, unless it no longer differs (then the list is stale and the scenario fails).
declare -A STDERR_DIFF=() PORT_FIRST_DIFF=() PORT_REST_DIFF=()
while IFS=$'\t' read -r name why; do STDERR_DIFF[$name]=$why; done \
    < <(known_differences teamd-config stderr)
while IFS=$'\t' read -r name why; do PORT_FIRST_DIFF[$name]=$why; done \
    < <(known_differences teamd-config port-first-line)
for name in "${!STDERR_DIFF[@]}"; do
    [ -f "$DIR/bad/$name.json" ] || fail "known-differences names $name, which is no bad/ config"
done
while IFS=$'\t' read -r name why; do PORT_REST_DIFF[$name]=$why; done \
    < <(known_differences teamd-config port-stderr)
for name in "${!PORT_FIRST_DIFF[@]}" "${!PORT_REST_DIFF[@]}"; do
    [ -f "$DIR/port-bad/$name.json" ] ||
        fail "known-differences names $name, which is no port-bad/ config"
done
# ORACLE_OLDER: Debian 12's libteam is 1.31; these follow 1.32, which ours
# implements. Ours is checked against the text given here, and C must still
# answer otherwise (if the guest's libteam is upgraded, the entry goes).
declare -A ORACLE_OLDER=(
    # link_watch_policy arrived in 1.32 (1.31 ignores the key)
    [bad-link-watch-policy]='Unrecognized value for link_watch_policy.
Only "any" or "all" are allowed but "most" found in config.'
)
checks=0
known=0
failed=0

# check EXPECTED ACTUAL WHAT: like assert_eq, but carries on (failed counted).
check() {
    if [ "$1" != "$2" ]; then
        echo "FAIL: $3 differs (-C +rteam):" >&2
        diff -u --label C --label rteam <(printf '%s\n' "$1") <(printf '%s\n' "$2") >&2
        failed=$((failed + 1))
        return 1
    fi
    checks=$((checks + 1))
    return 0
}

bad() {
    echo "FAIL: $*" >&2
    failed=$((failed + 1))
}

# Guest processes are slow under emulation (0.2-0.5 s each): what runs per
# config is kept to teamd itself, the reads and teamd -k; the rest is bash.

# norm FILE...: in place, pid, ifindex and MACs replaced (as lib.sh's normalize:
# <mac:OWNER>, plus JSON's "pid"/"ifindex" and teamnl's "port:N"); the corpus's explicit
# hwaddr values (02:aa:bb:cc:dd:eN) are kept. Addresses no interface has any more (a
# team device already deleted) are numbered per file, so each side's count from 1.
norm() {
    perl -i -pe '
        BEGIN {'"$_MAC_NAMING"'}
        s{\b((?:[0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2})\b}{
            $1 =~ /^02:aa:bb:cc:dd:e(\d)$/i ? "HWADDR-e$1" : mac_name($1)
        }ge;
        s/^(\s*)\d+: /$1<ifindex>: /;
        s/"(pid|ifindex)": \d+/"$1": <n>/;
        s/(port:)\d+/$1<ifindex>/;
        if (eof) { %gone = (); $unknown = 0 }
    ' "$@"
}

# errnorm TEXT: the version in "<version> successfully started." hidden
# (Debian's C teamd is 1.31, ours says 1.32).
errnorm() {
    local re='(^|'$'\n'')1\.[0-9]+ successfully started\.'
    local s=$1
    while [[ $s =~ $re ]]; do
        s=${s/"${BASH_REMATCH[0]}"/${BASH_REMATCH[1]}<version> successfully started.}
    done
    printf '%s' "$s"
}

# dev_args FILE: "-t team0" unless the file itself names team0.
dev_args() {
    local re='"device": *"team0"'
    [[ $(<"$1") =~ $re ]] || echo "-t team0"
}

team_gone() { ! test -e /sys/class/net/team0; }

# stop: teamd -k (C's, for either daemon: same PID file) and wait for team0 to go.
stop() {
    $CT -k -t team0 2>/dev/null
    wait_for -t 30 team_gone
}

# ctl ARGS...: C teamdctl on team0, stderr included.
ctl() { $CTL team0 "$@" 2>&1; }

# snapshot FILE PORTS...: the compared reads of a running team, once teamd's
# state lists every port in PORTS (teamd sets ports up from kernel events).
snapshot() {
    local out=$1 state p tries=100
    shift
    # the option events that follow each enslave
    sleep 0.2
    while :; do
        state=$(ctl state dump)
        for p in "$@"; do
            [[ $state == *"\"$p\": {"* ]] && continue
            tries=$((tries - 1))
            [ "$tries" -gt 0 ] || fail "timed out waiting for $p in teamd's state"
            sleep 0.1
            continue 2
        done
        break
    done
    {
        echo "## teamdctl config dump"
        ctl config dump
        echo "## teamdctl config dump actual"
        ctl config dump actual
        echo "## teamdctl state dump"
        printf '%s\n' "$state"
        echo "## teamnl options"
        teamnl team0 options 2>&1
    } >"$out"
}

# now: $EPOCHREALTIME in ms, for the phase times printed per section.
now() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

# Ports teamd should hold per config: the keys of "ports" among p0..p2 (the
# others do not exist, or are the up port u0). In port-bad/ configs p1 is the
# only port whose set-up succeeds.
declare -A PORTS
while read -r file keys; do
    file=${file##*/}
    PORTS[${file%.json}]=$keys
done < <(jq -r '"\(input_filename) \((.ports // {}) | keys_unsorted
        | map(select(test("^p[0-2]$"))) | join(" "))"' "$DIR"/good/*.json "$DIR"/port-bad/*.json)

for i in 0 1 2; do mk_veth_pair "p$i" "q$i"; done
# u0 is the port that is up when teamd tries to enslave it
mk_veth_pair u0 v0
# A new veth's carrier-off reaches its operstate through the kernel's link
# watch, which handles a down device's event only up to 1 s later; until then
# the operstate is "unknown", which the team driver takes as link up when it
# enslaves the port. The first config (C's run) then saw p1 go up and down:
# ethtool down_count 1 and p1 left active, on a loaded host. Neither sysfs nor
# rtnetlink show a down device's real operstate, so wait the delay out.
sleep 2

echo "== good configs"
t0=$SECONDS
ngood=0
ms_start=0
ms_read=0
ms_stop=0
for f in "$DIR"/good/*.json; do
    name=${f##*/}
    name=${name%.json}
    ngood=$((ngood + 1))
    # shellcheck disable=SC2046
    set -- $(dev_args "$f")
    for side in C R; do
        if [ $side = C ]; then T=$CT; else T=$RT; fi
        a=$(now)
        if ! $T -d -f "$f" "$@" 2>/tmp/start.err; then
            bad "good/$name: $side teamd did not start: $(</tmp/start.err)"
            team_gone || stop
            continue 2
        fi
        b=$(now)
        # shellcheck disable=SC2086
        snapshot "/tmp/snap.$side" ${PORTS[$name]}
        c=$(now)
        stop
        d=$(now)
        ms_start=$((ms_start + b - a))
        ms_read=$((ms_read + c - b))
        ms_stop=$((ms_stop + d - c))
    done
    norm /tmp/snap.C /tmp/snap.R
    check "$(</tmp/snap.C)" "$(</tmp/snap.R)" "good/$name" && echo "same: good/$name"
done
echo "good: $ngood configs in $((SECONDS - t0)) s (start $((ms_start / 1000)) s, reads $((ms_read / 1000)) s, stop $((ms_stop / 1000)) s)"

# run_bad SIDE FILE [-d]: one start that must fail; its status and stderr
# into RC_<SIDE> and ERR_<SIDE>.
run_bad() {
    local side=$1 f=$2 mode=${3:-} T=$CT rc
    [ "$side" = R ] && T=$RT
    [[ $f == */port-up.json ]] && ip link set u0 up
    if [ -n "$mode" ]; then
        # shellcheck disable=SC2046
        $T -d -f "$f" $(dev_args "$f") 2>/tmp/bad.err
    else
        # shellcheck disable=SC2046
        timeout 30 $T -f "$f" $(dev_args "$f") 2>/tmp/bad.err
    fi
    rc=$?
    [[ $f == */port-up.json ]] && ip link set u0 down
    printf -v "RC_$side" '%s' "$rc"
    printf -v "ERR_$side" '%s' "$(</tmp/bad.err)"
    if ! team_gone; then
        bad "bad/${f##*/} $mode: $side teamd left team0 behind"
        $CT -k -t team0 2>/dev/null
        ip link del team0 2>/dev/null
    fi
}

# names_problem TEXT: some line is more than the generic init-failure frame.
GENERIC='^(This program is not intended to be run as root\.|teamd_init\(\) failed\.|Failed: .*|Failed to load config\.|Daemon process failed\.)$'
names_problem() {
    local l
    while IFS= read -r l; do
        [[ $l =~ $GENERIC ]] || return 0
    done <<<"$1"
    return 1
}

# With -d the init failure is told by the parent ("Daemon process failed."):
# checked for one config per failure stage (parse, before the fork, init).
D_MODE=" duplicate-key root-array device-not-string bad-link-watch-policy unknown-runner bad-hwaddr hwaddr-short negative-notify-peers-count port-up "

echo "== bad configs"
t0=$SECONDS
nbad=0
for f in "$DIR"/bad/*.json; do
    name=${f##*/}
    name=${name%.json}
    nbad=$((nbad + 1))
    modes=("")
    [[ $D_MODE == *" $name "* ]] && modes+=(-d)
    for mode in "${modes[@]}"; do
        what="bad/$name${mode:+ ($mode)}"
        run_bad R "$f" "$mode"
        [ "$RC_R" = 1 ] || bad "$what: rteam exit status $RC_R, not 1"
        if [ -z "$mode" ] && ! names_problem "$ERR_R"; then
            bad "$what: rteam does not say what is wrong: $ERR_R"
        fi
        if [ -n "${ORACLE_OLDER[$name]:-}" ]; then
            check "${ORACLE_OLDER[$name]}" "$ERR_R" "$what stderr (libteam 1.32 text)" &&
                echo "same as libteam 1.32: $what"
            # the guest's C teamd must still be the older one (which takes the config and
            # starts), else the entry goes and the case is compared with it
            if [ -z "$mode" ]; then
                # shellcheck disable=SC2046
                if $CT -d -f "$f" $(dev_args "$f") 2>/tmp/older.err; then
                    echo "C (libteam 1.31) starts with it: $what"
                    $CT -k -t team0 2>/dev/null
                    wait_for -t 20 team_gone
                else
                    bad "$what: in ORACLE_OLDER, but the guest's C teamd refuses it: $(</tmp/older.err)"
                fi
            fi
            continue
        fi
        run_bad C "$f" "$mode"
        check "$RC_C" "$RC_R" "$what exit status" || continue
        [ "$RC_C" = 1 ] || bad "$what: C exit status $RC_C, not 1"
        if [ -n "${STDERR_DIFF[$name]:-}" ]; then
            if [ "$ERR_C" != "$ERR_R" ]; then
                echo "KNOWN: $what stderr differs (${STDERR_DIFF[$name]}):"
                diff -u --label C --label rteam <(printf '%s\n' "$ERR_C") <(printf '%s\n' "$ERR_R")
                known=$((known + 1))
            else
                bad "$what: listed in known-differences, but its stderr is now the same as C's"
            fi
            continue
        fi
        check "$ERR_C" "$ERR_R" "$what stderr" && echo "same: $what"
    done
done
echo "bad: $nbad configs in $((SECONDS - t0)) s"

# first TEXT: the line after start-up, the one naming the problem.
first() {
    local l next=
    while IFS= read -r l; do
        [ -n "$next" ] && { printf '%s' "$l"; return; }
        [[ $l == *" successfully started." ]] && next=1
    done <<<"$1"
}

# started FILE: teamd wrote its start-up line into FILE.
started() { [[ $(<"$1") == *" successfully started."* ]]; }

echo "== per-port errors"
t0=$SECONDS
nport=0
for f in "$DIR"/port-bad/*.json; do
    name=${f##*/}
    name=${name%.json}
    nport=$((nport + 1))
    for side in C R; do
        if [ $side = C ]; then T=$CT; else T=$RT; fi
        # foreground, to see its stderr; stopped with teamd -k as usual.
        # Emptied here: the job's own redirection may come after the wait.
        : >"/tmp/port.$side.err"
        # shellcheck disable=SC2046
        $T -f "$f" $(dev_args "$f") 2>>"/tmp/port.$side.err" &
        pid=$!
        # C enslaves before "successfully started", then drops the port
        # when the kernel's port event fails its set-up
        wait_for -t 20 started "/tmp/port.$side.err"
        wait_for -t 20 sh -c "! teamnl team0 ports | grep -q ' p0:'"
        # shellcheck disable=SC2086
        snapshot "/tmp/snap.$side" ${PORTS[$name]/p0/}
        stop
        wait "$pid"
    done
    norm /tmp/snap.C /tmp/snap.R
    check "$(</tmp/snap.C)" "$(</tmp/snap.R)" "port-bad/$name" && echo "same: port-bad/$name"
    err_c=$(errnorm "$(</tmp/port.C.err)")
    err_r=$(errnorm "$(</tmp/port.R.err)")
    if [ -n "${PORT_FIRST_DIFF[$name]:-}" ]; then
        if [ "$(first "$err_c")" = "$(first "$err_r")" ]; then
            bad "port-bad/$name: listed in known-differences, but its first error line is now C's"
        else
            echo "KNOWN: port-bad/$name first error line differs (${PORT_FIRST_DIFF[$name]})"
            known=$((known + 1))
        fi
    else
        check "$(first "$err_c")" "$(first "$err_r")" "port-bad/$name first error line"
    fi
    # the rest of stderr: equal, or a listed difference (kind port-stderr) that still differs
    if [ -n "${PORT_REST_DIFF[$name]:-}" ]; then
        if [ "$err_c" = "$err_r" ]; then
            bad "port-bad/$name: listed in known-differences (port-stderr), but its stderr is now C's"
        else
            echo "KNOWN: port-bad/$name stderr differs (${PORT_REST_DIFF[$name]}):"
            diff -u --label C --label rteam <(printf '%s\n' "$err_c") <(printf '%s\n' "$err_r")
            known=$((known + 1))
        fi
    else
        check "$err_c" "$err_r" "port-bad/$name stderr"
    fi
done
echo "port-bad: $nport configs in $((SECONDS - t0)) s"

echo "teamd-config: $ngood good, $nbad bad, $nport port-bad configs; $checks checks passed, $known known differences, $failed failures; ${SECONDS} s"
[ "$failed" = 0 ] || fail "$failed checks failed"

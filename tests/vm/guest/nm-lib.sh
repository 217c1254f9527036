#!/bin/bash
# NetworkManager helpers for scenarios: `source /opt/rteam/tests/guest/nm-lib.sh` after lib.sh.
# Debian's NetworkManager 1.42 runs headless (integration.md §3): a private system bus on the
# default socket path (teamd spawned by NM gets no DBUS_* variable), a mount namespace with
# sysfs read-only (NM then does not wait for udev, which the guest does not run), keyfiles and
# state under /tmp. Which teamd (and which libteamdctl.so.0) NM sees is chosen per start by
# bind mounts inside that mount namespace only, so the C tools stay visible elsewhere.

NM_DIR=/tmp/nm
NM_PID=
# NM's helper lookup tries /usr/sbin before /usr/bin, so Debian's /usr/bin/teamd is what it
# runs unless something is mounted over it.
NM_TEAMD_PATH=/usr/bin/teamd
NM_LIBTEAMDCTL=/usr/lib/x86_64-linux-gnu/libteamdctl.so.0.1.5

# local_copy FILE: FILE copied to the guest's tmpfs; prints the copy's path. The 9p shares
# have no page cache: every page of a multi-megabyte binary run from /opt/rteam/bin is read
# over 9p at each start, which under TCG takes seconds and makes our teamd miss NM's 5-s
# readiness limit. An installed teamd lives on a local disk; the copy stands for that.
local_copy() {
    mkdir -p /tmp/rteam-local
    local dest
    dest=/tmp/rteam-local/$(basename "$1")
    [ -e "$dest" ] || cp "$1" "$dest" || fail "cannot copy $1"
    echo "$dest"
}

# nm_bus_start: the private system bus with NM's and teamd's policies (both from packages).
nm_bus_start() {
    mkdir -p /run/dbus
    [ -f /etc/dbus-1/system.d/teamd.conf ] || fail "teamd bus policy missing"
    dbus-daemon --system --fork --print-pid >/tmp/dbus.pid || fail "no system bus"
    wait_for -t 20 test -S /run/dbus/system_bus_socket
}

# nm_start LABEL [TEAMD [LIBTEAMDCTL]]: start NetworkManager, logging to /results/nm.LABEL.log (kept on the host);
# TEAMD is bound over NM's teamd, LIBTEAMDCTL over Debian's libteamdctl.so.0.
nm_start() {
    local label=$1 teamd=${2:-} lib=${3:-}
    rm -rf "$NM_DIR"
    mkdir -p "$NM_DIR/conns" "$NM_DIR/conf.d" "$NM_DIR/state"
    cat >"$NM_DIR/nm.conf" <<'EOF'
[main]
plugins=keyfile
no-auto-default=*
auth-polkit=false
dhcp=internal
dns=none
rc-manager=unmanaged
[keyfile]
path=/tmp/nm/conns
unmanaged-devices=except:interface-name:p*;except:interface-name:nmteam*
[logging]
level=INFO
domains=DEFAULT,TEAM:DEBUG
EOF
    local binds=""
    [ -n "$teamd" ] && binds+="mount --bind $(local_copy "$teamd") $NM_TEAMD_PATH || exit 90; "
    [ -n "$lib" ] && binds+="mount --bind $(local_copy "$lib") $NM_LIBTEAMDCTL || exit 91; "
    unshare --mount --propagation private bash -c "
        mount -o remount,bind,ro /sys || exit 92
        $binds
        exec NetworkManager --debug --config=$NM_DIR/nm.conf --config-dir=$NM_DIR/conf.d \
            --state-file=$NM_DIR/state/NetworkManager.state \
            --intern-config=$NM_DIR/state/intern.conf \
            --no-auto-default=$NM_DIR/state/nad.state" >>"/results/nm.$label.log" 2>&1 &
    NM_PID=$!
    wait_for -t 60 nmcli -t general status
    # all interesting devices known to NM
    wait_for -t 30 sh -c "nmcli -t -f DEVICE dev | grep -qx p0"
}

# nm_stop: stop NetworkManager (SIGTERM, as systemd would) and wait for it.
nm_stop() {
    [ -n "$NM_PID" ] || return 0
    kill "$NM_PID" 2>/dev/null
    local i
    for i in $(seq 100); do
        kill -0 "$NM_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$NM_PID" 2>/dev/null
    wait "$NM_PID" 2>/dev/null
    NM_PID=
}

# dev_state DEV: NM's numeric device state ("100" = connected), or "none".
dev_state() {
    local s
    s=$(nmcli -g GENERAL.STATE dev show "$1" 2>/dev/null) || { echo none; return; }
    echo "${s%% *}"
}

# teamd_pids DEV: pids of teamd processes (any binary) controlling DEV, one a line.
teamd_pids() {
    local p
    for p in $(pgrep -x teamd); do
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | matches -- "-t $1 " && echo "$p"
    done
}

# teamd_argv DEV: the argv NM gave teamd for DEV, with the JSON after -c reduced to "<json>".
teamd_argv() {
    local p
    p=$(teamd_pids "$1" | first_lines 1)
    [ -n "$p" ] || { echo "no teamd"; return; }
    tr '\0' '\n' <"/proc/$p/cmdline" | awk 'prev == "-c" { print "<json>"; prev = ""; next }
        { print; prev = $0 }' | tr '\n' ' ' | sed 's/ $//'
    echo
}

# wait_wall SECS CMD...: rerun CMD until it succeeds or SECS of wall time have passed (each
# try of a slow command counts; lib.sh's wait_for counts tries); false on timeout.
wait_wall() {
    local end=$((EPOCHSECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$EPOCHSECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}

# nm_team_config DEV: the TEAM.CONFIG NM shows for DEV (its last ConfigDumpActual read).
nm_team_config() {
    nmcli -g TEAM.CONFIG dev show "$1" | sed 's/\\:/:/g'
}

# nm_connected DEV: NM reports DEV connected.
nm_connected() {
    [ "$(nmcli -g GENERAL.STATE dev show "$1" 2>/dev/null)" = "100 (connected)" ]
}

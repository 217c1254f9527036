#!/bin/bash
# rteam guest boot helpers, shared by the plain stage 2 (init.sh, bash as PID 1) and the
# systemd boot (systemd-scenario.sh, run as a unit): load the team driver, run the job's
# script, judge the kernel log, record the status.

KMODS=/opt/rteam/job/kmods

# load_team_driver: Debian's kernel loads team.ko and its modes (plus veth and bonding);
# our own kernel builds load the driver under test from the job share.
load_team_driver() {
    if [ -f "$KMODS/load" ]; then
        # Our own kernel build (cargo xtask vm --kernel rteam...): everything else is built in;
        # the team driver under test (C or Rust, or none) comes from the job share.
        while read -r m; do
            [ -n "$m" ] || continue
            insmod "$KMODS/$m.ko" || echo "rteam-guest: insmod $m failed"
        done < "$KMODS/load"
        echo "rteam-guest: kernel $(uname -r), team driver: $(tr '\n' ' ' < "$KMODS/load")"
    else
        modprobe -a team team_mode_activebackup team_mode_broadcast team_mode_loadbalance \
            team_mode_random team_mode_roundrobin veth || echo "rteam-guest: modprobe failed"
        # max_bonds=0: loading bonding must not create a stray bond0.
        modprobe bonding max_bonds=0 || echo "rteam-guest: modprobe bonding failed"
    fi
}

# run_job_script: runs /opt/rteam/job/script.sh with its output teed to /results/output.log,
# stops what it left running, and sets JOB_STATUS (a kernel report on our kernels fails it).
run_job_script() {
    echo "rteam-guest: running script (uptime $(cut -d' ' -f1 /proc/uptime) s)"
    cd /tmp || exit 1
    # In a session of its own, so that whatever a failed script left running in the background
    # (a ping, a monitor, a daemon) can be found and stopped: it would hold tee's pipe open.
    setsid bash /opt/rteam/job/script.sh </dev/null > >(tee /results/output.log) 2>&1 &
    local script_pid=$!
    wait "$script_pid"
    JOB_STATUS=$?
    local pid
    for pid in $(ps -o pid= -s "$script_pid"); do kill -KILL "$pid" 2>/dev/null; done
    sleep 0.5
    check_kernel_log
}

# check_kernel_log: on our kernels a kernel complaint fails the run, whatever the script said:
# oops, BUG, WARN, KASAN, lockdep, RCU-usage and refcount reports. Only what the kernel logged
# from stage 2 on counts: a debug kernel's boot banner ("RCU lockdep checking is enabled") is
# no report. (If the ring buffer wrapped, the marker and the banner are both gone: all counts.)
check_kernel_log() {
    [ -f "$KMODS/load" ] || return 0
    local klog report
    klog=$(dmesg)
    if grep -q "rteam-guest: stage 2 starts" <<<"$klog"; then
        klog=$(sed -n '/rteam-guest: stage 2 starts/,$p' <<<"$klog")
    fi
    report=$(printf '%s\n' "$klog" |
        grep -E "BUG|Oops|WARNING:|KASAN|lockdep|possible (recursive|circular|irq)|suspicious RCU|refcount_t|ref_tracker|leaked|unregister_netdevice: waiting")
    if [ -n "$report" ]; then
        echo "rteam-guest: kernel log reports a problem:" | tee -a /results/output.log
        printf '%s\n' "$report" | sed -n 1,20p | tee -a /results/output.log
        echo "rteam-guest: the kernel log's last lines:" | tee -a /results/output.log
        dmesg | tail -80 | tee -a /results/output.log
        [ "$JOB_STATUS" = 0 ] && JOB_STATUS=99
    fi
    return 0
}

# record_status: the host reads /results/status; a missing file is a failure.
record_status() {
    echo "$JOB_STATUS" > /results/status
    echo "rteam-guest: script exited $JOB_STATUS (uptime $(cut -d' ' -f1 /proc/uptime) s)"
    sync
}

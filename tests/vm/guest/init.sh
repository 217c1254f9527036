#!/bin/bash
# rteam stage-2 init: PID 1 in the guest (no systemd). Sets up a minimal system, loads the
# kernel modules tests need, runs /opt/rteam/job/script.sh, stores its exit status in
# /results/status (the host treats a missing file as failure) and powers off.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
# Our binaries are deliberately not on PATH: scripts call /opt/rteam/bin/X explicitly and the
# C libteam tools (the oracle) by bare name.
export RTEAM_BIN=/opt/rteam/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# bash process substitution and scripts expect the usual /dev links
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
echo 1 > /proc/sys/kernel/sysrq
hostname rteam-vm
ip link set lo up
mkdir -p /var/run/teamd

echo "rteam-guest: stage 2 (uptime $(cut -d' ' -f1 /proc/uptime) s)"
# Kernel reports are looked for from here on (see below).
echo "rteam-guest: stage 2 starts" > /dev/kmsg
KMODS=/opt/rteam/job/kmods
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

echo "rteam-guest: running script (uptime $(cut -d' ' -f1 /proc/uptime) s)"
cd /tmp || exit 1
# In a session of its own, so that whatever a failed script left running in the background
# (a ping, a monitor, a daemon) can be found and stopped: it would hold tee's pipe open.
setsid bash /opt/rteam/job/script.sh </dev/null > >(tee /results/output.log) 2>&1 &
script_pid=$!
wait "$script_pid"
status=$?
for pid in $(ps -o pid= -s "$script_pid"); do kill -KILL "$pid" 2>/dev/null; done
sleep 0.5
if [ -f "$KMODS/load" ]; then
    # On our kernels a kernel complaint fails the run, whatever the script said: oops, BUG,
    # WARN, KASAN, lockdep, RCU-usage and refcount reports. Only what the kernel logged from
    # stage 2 on counts: a debug kernel's boot banner ("RCU lockdep checking is enabled")
    # is no report.
    # (If the ring buffer wrapped, the marker and the banner are both gone: all of it counts.)
    klog=$(dmesg)
    if grep -q "rteam-guest: stage 2 starts" <<<"$klog"; then
        klog=$(sed -n '/rteam-guest: stage 2 starts/,$p' <<<"$klog")
    fi
    report=$(printf '%s\n' "$klog" |
        grep -E "BUG|Oops|WARNING:|KASAN|lockdep|possible (recursive|circular|irq)|suspicious RCU|refcount_t|ref_tracker|leaked|unregister_netdevice: waiting")
    if [ -n "$report" ]; then
        echo "rteam-guest: kernel log reports a problem:" | tee -a /results/output.log
        printf '%s\n' "$report" | head -20 | tee -a /results/output.log
        echo "rteam-guest: the kernel log's last lines:" | tee -a /results/output.log
        dmesg | tail -80 | tee -a /results/output.log
        [ "$status" = 0 ] && status=99
    fi
fi
echo "$status" > /results/status
echo "rteam-guest: script exited $status (uptime $(cut -d' ' -f1 /proc/uptime) s)"
sync
echo o > /proc/sysrq-trigger
sleep 30

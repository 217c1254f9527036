#!/bin/bash
# rteam stage-2 init: PID 1 in the guest. Plain boot (the default): sets up a minimal system
# without systemd, loads the kernel modules tests need, runs /opt/rteam/job/script.sh, stores
# its exit status in /results/status (the host treats a missing file as failure) and resets
# off. With `rteam.boot=systemd` on the kernel command line it hands over to systemd instead
# (systemd-boot.sh), which runs the script as a unit.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
# Our binaries are deliberately not on PATH: scripts call /opt/rteam/bin/X explicitly and the
# C libteam tools (the oracle) by bare name.
export RTEAM_BIN=/opt/rteam/bin

mount -t proc proc /proc
if grep -qw rteam.boot=systemd /proc/cmdline; then
    source /opt/rteam/tests/guest/systemd-boot.sh
    exec /lib/systemd/systemd
fi
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

source /opt/rteam/tests/guest/boot-lib.sh
echo "rteam-guest: stage 2 (uptime $(cut -d' ' -f1 /proc/uptime) s)"
# Kernel reports are looked for from here on (check_kernel_log).
echo "rteam-guest: stage 2 starts" > /dev/kmsg
load_team_driver
run_job_script
record_status
# End the guest by a reset, which qemu (-no-reboot) turns into its exit: our kernel has no
# ACPI, so a power-off only halts it. /results is written through (9p without a cache), so
# nothing needs syncing. Wait without running a program: the 9p root goes away meanwhile
# and an exec would fail; a read on a FIFO whose both ends we hold blocks in bash itself.
mkfifo /run/rteam-halt
exec 3<>/run/rteam-halt
echo b > /proc/sysrq-trigger
read -r -t 60 -u 3 _

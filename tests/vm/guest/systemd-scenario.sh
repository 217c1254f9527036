#!/bin/bash
# rteam-scenario.service (systemd boot, see systemd-boot.sh): loads the team driver, runs the
# job's script, keeps the journal in /results/journal.log (its tail in the output when the
# script failed), records the status and ends the guest through systemd.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin
source /opt/rteam/tests/guest/boot-lib.sh

# `systemd-scenario.sh early` (rteam-early.service, see systemd-boot.sh's vm-hooks): the team
# driver must be there before teamd@ starts at boot, so it is loaded here, then the script's
# early phase runs. Its failure is recorded for the main phase, which then fails at once.
if [ "${1:-}" = early ]; then
    echo "rteam-guest: early hook (uptime $(cut -d' ' -f1 /proc/uptime) s)"
    echo "rteam-guest: stage 2 starts" > /dev/kmsg
    load_team_driver
    touch /run/rteam-driver-loaded
    bash /opt/rteam/job/script.sh early </dev/null
    status=$?
    [ "$status" = 0 ] || echo "$status" > /run/rteam-early-failed
    exit 0
fi

echo "rteam-guest: systemd booted (uptime $(cut -d' ' -f1 /proc/uptime) s, $(systemctl is-system-running))"
if [ -e /run/rteam-driver-loaded ]; then
    echo "rteam-guest: team driver loaded by the early hook"
else
    echo "rteam-guest: stage 2 starts" > /dev/kmsg
    load_team_driver
fi
if [ -e /results/preinit-failed ] || [ -e /run/rteam-early-failed ]; then
    # the script's hooks failed: what the boot did with them is not worth checking
    echo "rteam-guest: a hook of the script failed (see the console above)" | tee /results/output.log
    JOB_STATUS=1
else
    run_job_script
fi
journalctl -b --no-pager -o short-monotonic > /results/journal.log 2>&1
if [ "$JOB_STATUS" != 0 ]; then
    echo "rteam-guest: the journal's last lines:" | tee -a /results/output.log
    tail -n 80 /results/journal.log | tee -a /results/output.log
fi
record_status
# a reboot, not a power-off: qemu runs with -no-reboot and exits, where on our kernel (no
# ACPI) a power-off would only halt the guest
systemctl reboot --no-block

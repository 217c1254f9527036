#!/bin/bash
# Sourced by init.sh (PID 1, before it execs systemd) for `rteam.boot=systemd`: turns the
# throwaway root into a system that boots to the job's script as a unit, rteam-scenario.service,
# after multi-user.target. The script's header may name units to enable for this boot:
#   # vm-units: NetworkManager.service systemd-networkd.service
# Units Debian enables that would act on the scenario's links (NetworkManager) or only slow the
# boot (gettys, timers) are off unless named there.

etc=/etc/systemd/system
# An empty machine-id means "first boot" to systemd, which would then apply presets.
tr -d - < /proc/sys/kernel/random/uuid > /etc/machine-id
echo rteam-vm > /etc/hostname

for unit in NetworkManager.service NetworkManager-wait-online.service \
    e2scrub_reap.service apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer \
    e2scrub_all.timer fstrim.timer; do
    rm -f "$etc"/*.wants/"$unit"
done
# the console carries the scenario's output; no login prompts on it
ln -sf /dev/null "$etc/serial-getty@ttyS0.service"
ln -sf /dev/null "$etc/getty@tty1.service"

for unit in $(sed -n 's/^# vm-units://p' /opt/rteam/job/script.sh); do
    src=/lib/systemd/system/$unit
    [ -f "$src" ] || { echo "rteam-guest: no unit $unit to enable"; continue; }
    target=$(sed -n 's/^WantedBy=//p' "$src")
    target=${target%%$'\n'*}
    mkdir -p "$etc/${target:-multi-user.target}.wants"
    ln -sf "$src" "$etc/${target:-multi-user.target}.wants/$unit"
done

# A hung stop must not keep the guest up until the host's time limit.
mkdir -p /etc/systemd/system.conf.d
cat > /etc/systemd/system.conf.d/rteam-guest.conf <<'CONF'
[Manager]
DefaultTimeoutStopSec=20s
CONF

# `# vm-hooks: preinit early` in the header: the script also runs in two earlier phases, with
# its first argument naming the phase. preinit runs right here, as PID 1's child before
# systemd starts (only /proc is mounted; /run is replaced by systemd's tmpfs, so nothing may
# be left there): install packages, write /etc files, so that the boot itself (generators,
# units) sees them. early runs as rteam-early.service once udev is up and before
# network-pre.target (so before teamd@ and networkd): links, namespaces and peers the boot's
# network setup expects to find. The main phase is rteam-scenario.service as always.
hooks=$(sed -n '/^[^#]/q; s/^# vm-hooks://p' /opt/rteam/job/script.sh)
if [[ " $hooks " == *" preinit "* ]]; then
    echo "rteam-guest: preinit hook (uptime $(cut -d' ' -f1 /proc/uptime) s)"
    # its output only on the console: /results/output.log is the main phase's
    HOME=/root TERM=dumb LANG=C.UTF-8 bash /opt/rteam/job/script.sh preinit </dev/null ||
        echo "rteam-guest: preinit hook failed ($?)" | tee /results/preinit-failed
fi
if [[ " $hooks " == *" early "* ]]; then
    cat > "$etc/rteam-early.service" <<'UNIT'
[Unit]
Description=rteam VM scenario, early phase (/opt/rteam/job/script.sh early)
DefaultDependencies=no
Wants=systemd-udevd.service
After=systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service
After=local-fs.target
Before=network-pre.target systemd-networkd.service sysinit.target
Wants=network-pre.target

[Service]
Type=oneshot
# what the phase starts (dnsmasq, a ping) keeps running in this unit until shutdown
RemainAfterExit=yes
Environment=HOME=/root TERM=dumb LANG=C.UTF-8 RTEAM_BIN=/opt/rteam/bin
ExecStart=/bin/bash /opt/rteam/tests/guest/systemd-scenario.sh early
StandardOutput=journal+console
StandardError=journal+console
UNIT
    mkdir -p "$etc/sysinit.target.wants"
    ln -sf "$etc/rteam-early.service" "$etc/sysinit.target.wants/rteam-early.service"
fi

cat > "$etc/rteam-scenario.service" <<'UNIT'
[Unit]
Description=rteam VM scenario (/opt/rteam/job/script.sh)
After=multi-user.target

[Service]
Type=oneshot
Environment=HOME=/root TERM=dumb LANG=C.UTF-8 RTEAM_BIN=/opt/rteam/bin
ExecStart=/bin/bash /opt/rteam/tests/guest/systemd-scenario.sh
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity
UNIT
mkdir -p "$etc/multi-user.target.wants"
ln -sf "$etc/rteam-scenario.service" "$etc/multi-user.target.wants/rteam-scenario.service"
echo "rteam-guest: booting systemd (uptime $(cut -d' ' -f1 /proc/uptime) s)"

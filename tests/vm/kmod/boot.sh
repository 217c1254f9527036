#!/bin/bash
# Boots the cached rteam guest on a 6.12 kernel build with everything the
# guest needs built in (no modules in the initramfs), runs SCRIPT with
# team.ko, team_mode_*.ko and team_rs.ko in /opt/rteam/job/kmods, prints
# the script's output and exits with its status. Until `cargo xtask vm
# --driver rust` exists this is how team_rs.ko is tried in the VM.
#
#   KBUILD=/path/to/kernel/build tests/vm/kmod/boot.sh tests/vm/kmod/team-rs-compat.sh
# BIN_DIR: directory shared as /opt/rteam/bin (rteam's binaries), for scenarios.
set -u
script=${1:?usage: boot.sh SCRIPT}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
KBUILD=${KBUILD:?set KBUILD to the kernel build directory}
cache=${RTEAM_VM_CACHE:-$root/target/vm}
run=$(mktemp -d "${TMPDIR:-/tmp}/team-rs-vm.XXXXXX")
mkdir -p "$run/job/kmods" "$run/results" "$run/bin" "$run/initrd"
cp "$script" "$run/job/script.sh"
cp "$root/kmod/driver/team_rs.ko" "$KBUILD"/drivers/net/team/*.ko "$run/job/kmods/" || exit 1

# The cached initramfs minus its module loading (its modules are for the
# distribution kernel).
(cd "$run/initrd" && zcat "$cache/initrd.gz" | cpio -idm 2>/dev/null) || exit 1
sed -i '/^for m in .*; do$/,/^done$/d' "$run/initrd/init"
rm -rf "$run/initrd/mods"
(cd "$run/initrd" && find . | cpio -o -H newc 2>/dev/null | gzip > "$run/initrd.gz")

args=()
for share in "rootfs:$cache/image/rootfs:ro" "bin:${BIN_DIR:-$run/bin}:ro" "tests:$root/tests/vm:ro" \
    "src:$root:ro" "job:$run/job:ro" "results:$run/results:rw"; do
    IFS=: read -r tag path mode <<< "$share"
    spec="local,path=$path,mount_tag=$tag,security_model=passthrough,id=$tag"
    [ "$mode" = ro ] && spec="$spec,readonly=on"
    args+=(-virtfs "$spec")
done
timeout "${VM_TIMEOUT:-900}" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 2048 \
    -nodefaults -display none -monitor none -serial stdio -net none -no-reboot \
    -kernel "$KBUILD/arch/x86/boot/bzImage" -initrd "$run/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 rdinit=/init" "${args[@]}" \
    < /dev/null > "$run/console.log" 2>&1
if [ -f "$run/results/output.log" ]; then
    cat "$run/results/output.log"
else
    tail -40 "$run/console.log"
fi
echo "(run directory: $run)"
status=$(cat "$run/results/status" 2>/dev/null || echo 1)
exit "$status"

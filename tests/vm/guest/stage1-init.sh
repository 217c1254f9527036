#!/bin/busybox sh
# rteam stage-1 init (initramfs /init, built by `cargo xtask`): load virtio/9p/overlay, build a
# throwaway root (the cached rootfs, shared read-only over 9p, under a tmpfs overlay, so every
# boot starts clean and the cache is never written), mount the other shares, switch to stage 2.
# @MODULES@ is replaced by the xtask with the module load order computed from modules.dep.

/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /lower /upper /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 > /proc/sys/kernel/sysrq

die() {
    echo "rteam-stage1: $*"
    echo o > /proc/sysrq-trigger
    sleep 10
}

for m in @MODULES@; do
    insmod "/mods/$m.ko" || die "insmod $m failed"
done

opts=trans=virtio,version=9p2000.L,msize=262144
# The rootfs never changes while a guest runs, so caching it loosely is safe and faster.
mount -t 9p -o "ro,cache=loose,$opts" rootfs /lower || die "cannot mount the rootfs share"
mount -t tmpfs -o mode=0755 upper /upper
mkdir -p /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot ||
    die "cannot mount the overlay root"

# tag:mountpoint:mode
for share in bin:/opt/rteam/bin:ro tests:/opt/rteam/tests:ro src:/opt/rteam/src:ro job:/opt/rteam/job:ro results:/results:rw; do
    tag=${share%%:*}
    rest=${share#*:}
    dir=/newroot${rest%:*}
    mkdir -p "$dir" # the overlay root is writable; older images lack newer mount points
    mount -t 9p -o "${rest##*:},$opts" "$tag" "$dir" || die "cannot mount the $tag share"
done

umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash /opt/rteam/tests/guest/init.sh

#!/bin/sh
# usage: build-initrd.sh KERNEL.deb BUSYBOX OUTDIR   (BUSYBOX: a static busybox binary)
# Writes OUTDIR/vmlinuz and OUTDIR/initrd.cpio.gz: Debian's kernel, and an
# initramfs of busybox, the two boot stages and the modules they load (virtio,
# 9p, overlay). Nothing here needs root.
set -eu
KDEB=$1 BUSYBOX=$2 OUT=$(realpath -m "$3"); HERE=$(dirname "$(realpath "$0")")
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
dpkg-deb -x "$KDEB" "$W/k"
KV=$(ls "$W/k/lib/modules"); M="$W/k/lib/modules/$KV/kernel"
I="$W/initrd"; mkdir -p "$I/bin" "$I/dev" "$I/proc" "$I/sys" "$I/lib/modules" "$OUT"
cp "$BUSYBOX" "$I/bin/busybox"; ln -s busybox "$I/bin/sh"
cp "$HERE/init" "$HERE/stage2" "$I/"; chmod 755 "$I/init"
: > "$I/lib/modules/order"
# In dependency order; busybox's insmod takes uncompressed modules.
for p in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
         drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci fs/netfs/netfs \
         fs/fscache/fscache net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay; do
    n=$(basename $p)
    if   [ -f "$M/$p.ko" ];     then cp "$M/$p.ko" "$I/lib/modules/$n.ko"
    elif [ -f "$M/$p.ko.xz" ];  then xz -dc "$M/$p.ko.xz" > "$I/lib/modules/$n.ko"
    elif [ -f "$M/$p.ko.zst" ]; then zstd -qdc "$M/$p.ko.zst" > "$I/lib/modules/$n.ko"
    else continue; fi   # built into this kernel
    echo "$n" >> "$I/lib/modules/order"
done
# Written aside and moved into place: a half-written initrd is never taken for
# a built one.
cp "$W/k/boot/vmlinuz-$KV" "$OUT/vmlinuz"
echo "$KV" > "$OUT/version"
(cd "$I" && find . > "$W/list" && "$BUSYBOX" cpio -o -H newc < "$W/list" > "$W/initrd.cpio")
gzip -9 < "$W/initrd.cpio" > "$OUT/initrd.cpio.gz.tmp"
mv "$OUT/initrd.cpio.gz.tmp" "$OUT/initrd.cpio.gz"
echo "kernel $KV, modules: $(tr '\n' ' ' < "$I/lib/modules/order")"

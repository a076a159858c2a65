#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the VM bed's initramfs (packed by mkinitramfs.sh, run by busybox).
#
# Loads the modules the root needs, mounts the root the kernel command line
# names (root=, rootfstype=, rootflags=), by default under a tmpfs overlay
# so that the guest can write anywhere while the host's files stay
# untouched, and hands over to init=. Every failure ends in "FATAL", which
# run-vm.sh reads as a broken setup rather than a flaky boot, and powers off.

export PATH=/bin

mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

log()
{
	read -r log_uptime _ </proc/uptime
	echo "ktlsd-vm initramfs: [$log_uptime] $*"
}

fatal()
{
	log "FATAL: $*"
	echo o >/proc/sysrq-trigger
	sleep 10
	# Still running: an init that exits panics, and the VM does not reboot.
	exit 1
}

root=
rootfstype=
rootflags=
init=/sbin/init
overlay=1
for word in $(cat /proc/cmdline); do
	case $word in
	root=*) root=${word#root=} ;;
	rootfstype=*) rootfstype=${word#rootfstype=} ;;
	rootflags=*) rootflags=${word#rootflags=} ;;
	init=*) init=${word#init=} ;;
	ktlsd.overlay=*) overlay=${word#ktlsd.overlay=} ;;
	*) ;;
	esac
done
[ -n "$root" ] || fatal "no root= on the kernel command line"

log "loading modules"
for module in /modules/*.ko; do
	[ -e "$module" ] || continue
	insmod "$module" || fatal "insmod $module failed"
done

# The 9p transport is ready once virtio_pci has probed the device; give a
# slow emulated boot a few seconds before calling it a failure.
tries=0
until mount -t "${rootfstype:-auto}" -o "ro${rootflags:+,$rootflags}" "$root" /lower; do
	tries=$((tries + 1))
	[ $tries -lt 20 ] || fatal "cannot mount root $root (type $rootfstype, flags $rootflags)"
	sleep 0.5
done

if [ "$overlay" = 1 ]; then
	mount -t tmpfs -o mode=0755 rootrw /rw &&
		mkdir -p /rw/upper /rw/work &&
		mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
			rootfs /newroot ||
		fatal "cannot mount the tmpfs overlay over $root"
else
	mount --move /lower /newroot || fatal "cannot move $root to /newroot"
fi

log "root mounted"
[ -x "/newroot$init" ] || fatal "init $init is not executable in the root"
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
umount /proc /sys
exec switch_root /newroot "$init"
fatal "switch_root to $init failed"

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# guest-init.sh - PID 1 of a VM bed guest (init= on the kernel command line).
#
# Runs on the host's root as the guest sees it: 9p, read-only, normally
# under a tmpfs overlay (see initramfs-init.sh). Mounts the kernel's
# filesystems and fresh tmpfs over /tmp and /run, makes the unpacked modules
# of the running kernel appear at /lib/modules/$(uname -r) so that modprobe
# and the kernel's module autoloading find them, brings up lo, runs the
# command run-vm.sh left in its run directory (the "ktlsdrun" 9p share,
# writable), writes its output and exit status back there, and powers off.
#
# The "started" file tells run-vm.sh that the boot is over: a guest that
# dies before it exists may be retried, one that dies after never is.

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
run=/run/ktlsd-vm

log()
{
	local up rest
	read -r up rest </proc/uptime 2>/dev/null
	echo "ktlsd-vm guest: [$up] $*"
}

power_off()
{
	sync
	echo o >/proc/sysrq-trigger
	sleep 10
	# Still running: an init that exits panics, and the VM does not reboot.
	exit 1
}

fatal()
{
	log "FATAL: $*"
	power_off
}

# Shell builtins only: every program started costs a lot under emulation.
is_mounted()
{
	local source target rest

	while read -r source target rest; do
		[ "$target" = "$1" ] && return 0
	done </proc/mounts
	return 1
}

# mount_fs TYPE SOURCE TARGET OPTIONS, unless TARGET is mounted already
mount_fs()
{
	is_mounted "$3" && return 0
	[ -d "$3" ] || mkdir -p "$3" || fatal "cannot create $3"
	mount -t "$1" -o "$4" "$2" "$3" || fatal "cannot mount $1 on $3"
}

# The command's working directory must stay visible: a fresh tmpfs over
# one of its parents would hide it.
holds_cwd()
{
	case "$VM_CWD/" in
	"$1"/*) return 0 ;;
	*) return 1 ;;
	esac
}

mount_tmpfs_unless_cwd()
{
	if holds_cwd "$1"; then
		log "keeping $1 from the host root: it holds the working directory $VM_CWD"
		return 0
	fi
	mount_fs tmpfs "tmpfs-${1#/}" "$1" "$2"
}

root_is_writable()
{
	local source target type options rest

	while read -r source target type options rest; do
		[ "$target" = / ] || continue
		case ,$options, in
		*,rw,*) return 0 ;;
		*) ;;
		esac
	done </proc/mounts
	return 1
}

# /var of a read-only root: a tmpfs with the directories programs expect.
writable_var()
{
	mount_tmpfs_unless_cwd /var mode=0755
	holds_cwd /var && return 0
	mkdir -p /var/tmp /var/log /var/lib /var/cache /var/spool
	chmod 1777 /var/tmp
	ln -sfn /run /var/run
	ln -sfn /run/lock /var/lock
}

# Bind the unpacked modules over /lib/modules/<release>. Where that
# directory cannot be created (a read-only root without it), point the
# kernel's module loader at a modprobe that looks in the unpacked tree.
provide_modules()
{
	release=$(uname -r)
	[ -d "$VM_MODULES" ] || fatal "no modules for $release at $VM_MODULES"
	if mkdir -p "/lib/modules/$release" 2>/dev/null; then
		mount --bind "$VM_MODULES" "/lib/modules/$release" ||
			fatal "cannot bind $VM_MODULES on /lib/modules/$release"
		return 0
	fi
	base=${VM_MODULES%/lib/modules/*}
	cat >/run/ktlsd-modprobe <<-EOF
	#!/bin/sh
	exec /sbin/modprobe -d '$base' "\$@"
	EOF
	chmod 0755 /run/ktlsd-modprobe
	echo /run/ktlsd-modprobe >/proc/sys/kernel/modprobe
	log "read-only root: modprobe is /run/ktlsd-modprobe (modprobe -d $base)"
}

bring_up_lo()
{
	if command -v ip >/dev/null; then
		ip link set lo up
	else
		"$VM_BUSYBOX" ip link set lo up
	fi || fatal "cannot bring up lo"
}

mount -t proc -o nosuid,nodev,noexec proc /proc
log "init start"
mount_fs sysfs sysfs /sys nosuid,nodev,noexec
mount_fs devtmpfs devtmpfs /dev mode=0755
mount_fs devpts devpts /dev/pts gid=5,mode=0620,ptmxmode=0666
# What udev or systemd would add to devtmpfs; bash's <(...) needs /dev/fd.
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount_fs tmpfs tmpfs-shm /dev/shm mode=1777,nosuid,nodev
mount_fs tmpfs tmpfs-run /run mode=0755,nosuid,nodev
mkdir -p /run/lock
mount_fs 9p ktlsdrun "$run" trans=virtio,version=9p2000.L,msize=262144
[ -r "$run/vm.env" ] || fatal "$run/vm.env missing"
. "$run/vm.env"

mount_tmpfs_unless_cwd /tmp mode=1777,nosuid,nodev
root_is_writable || writable_var
provide_modules
bring_up_lo
hostname ktlsd-vm 2>/dev/null

log "command start"
: >"$run/started"
/bin/bash "$run/command" <"/dev/null" >"$run/stdout" 2>"$run/stderr"
status=$?
echo "$status" >"$run/status.tmp" && mv "$run/status.tmp" "$run/status"
power_off

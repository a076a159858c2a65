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

# Starting a dynamically linked program costs about half a second under
# emulation (util-linux's mount, coreutils' mkdir), a static busybox a
# fifth of that. run-vm.sh names the bed's busybox on the kernel command
# line, which the kernel hands to init as the variable ktlsd_busybox.
busybox=${ktlsd_busybox:-}
unset ktlsd_busybox
if [ -x "$busybox" ]; then
	for tool in mount mkdir ln mv chmod hostname ip env; do
		eval "$tool() { \"\$busybox\" $tool \"\$@\"; }"
	done
fi
unset tool

log()
{
	read -r log_uptime _ </proc/uptime 2>/dev/null
	echo "ktlsd-vm guest: [$log_uptime] $*"
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
	while read -r _ mount_target _; do
		[ "$mount_target" = "$1" ] && return 0
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
	while read -r _ mount_target _ mount_options _; do
		[ "$mount_target" = / ] || continue
		case ,$mount_options, in
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

# What udev would load for this CPU on a real machine: without these the
# kernel's AEADs (and so kTLS) run on the generic C code, which is slow
# and not what users get. Absent modules are fine (built in, or no AVX).
load_cpu_crypto()
{
	for mod in aesni_intel ghash_clmulni_intel chacha_x86_64 poly1305_x86_64; do
		modprobe -q "$mod" 2>/dev/null || true
	done
}

bring_up_lo()
{
	ip link set lo up || fatal "cannot bring up lo"
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
load_cpu_crypto
bring_up_lo
hostname ktlsd-vm 2>/dev/null

log "command start"
: >"$run/started"
# The command file sets the whole environment: nothing of init's (the
# kernel's TERM=linux, HOME=/) leaks into it.
env -i /bin/bash "$run/command" <"/dev/null" >"$run/stdout" 2>"$run/stderr"
status=$?
echo "$status" >"$run/status.tmp" && mv "$run/status.tmp" "$run/status"
power_off

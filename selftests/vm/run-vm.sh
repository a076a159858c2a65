#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# run-vm.sh KERNEL -- COMMAND [ARG...]
#
# Boots KERNEL (a version unpacked by setup.sh, or the alias 6.1 / 6.12)
# under qemu with the host's root shared read-only over 9p, runs COMMAND
# there as root in the current directory, streams its stdout and stderr
# back and exits with its status. See Documentation/vm-testbed.rst.
#
# Environment:
#   VM_TIMEOUT       seconds one boot may take in all (default 600)
#   VM_BOOT_TIMEOUT  seconds from start to the command starting (default 300)
#   VM_MEMORY        guest memory in MiB (default 1024)
#   VM_CPUS          guest CPUs (default 2)
#   VM_ACCEL         kvm or tcg (default: kvm when /dev/kvm is usable)
#   VM_OVERLAY       1: the guest root is writable, into RAM (default);
#                    0: the plain read-only 9p root
#   VM_PASS_ENV      names of host variables to pass to COMMAND
#   VM_VERBOSE       1: print how long the boot and the command took
#   VM_KEEP          1: keep the run directory (console log, outputs)
#   VM_DIR           the bed's cache (default build/vm of this tree)
#
# Exit status: COMMAND's; 124 when the guest timed out; 125 when the bed
# itself failed (missing setup, a boot that died three times, a guest that died
# under the command).

set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/selftests/vm
vm_dir=${VM_DIR:-$repo/build/vm}
timeout=${VM_TIMEOUT:-600}
boot_timeout=${VM_BOOT_TIMEOUT:-300}
verbose=${VM_VERBOSE:-0}

# Variables every command gets, on top of the VM_PASS_ENV ones.
pass_env=(CI TERM LANG)

say() { printf 'run-vm: %s\n' "$*" >&2; }
die() { printf 'run-vm: error: %s\n' "$*" >&2; exit 125; }

usage()
{
	cat >&2 <<-EOF
	usage: $0 KERNEL -- COMMAND [ARG...]
	  KERNEL: 6.1, 6.12 or a version unpacked under $vm_dir/kernels
	EOF
	exit 125
}

# POSIX-shell single quoting, for the files the guest's sh and bash read.
quote()
{
	local s=${1//\'/\'\\\'\'}

	printf "'%s'" "$s"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

resolve_kernel()
{
	local tree=$vm_dir/kernels/$1

	[ -n "$1" ] && [ -d "$tree" ] ||
		die "kernel '$1' is not unpacked under $vm_dir/kernels; run selftests/vm/setup.sh (make vm-setup)"
	version=$(basename "$(readlink -f "$tree")")
	tree=$vm_dir/kernels/$version
	# setup.sh extracts vmlinux for a PVH boot, which skips the bzImage's
	# decompressor; the bzImage works too, only slower.
	kernel_image=$tree/boot/vmlinux-$version
	[ -f "$kernel_image" ] || kernel_image=$tree/boot/vmlinuz-$version
	modules=$tree/lib/modules/$version
	[ -f "$kernel_image" ] && [ -f "$modules/modules.dep" ] ||
		die "kernel $version is incomplete in $tree; remove it and run selftests/vm/setup.sh"
}

check_host()
{
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 not found; run selftests/vm/setup.sh (make vm-setup)"
	[ -x "$vm_dir/busybox/bin/busybox" ] ||
		die "$vm_dir/busybox missing; run selftests/vm/setup.sh (make vm-setup)"
	case $timeout$boot_timeout in
	*[!0-9]*) die "VM_TIMEOUT and VM_BOOT_TIMEOUT are whole seconds" ;;
	*) ;;
	esac
	[ "$boot_timeout" -le "$timeout" ] || boot_timeout=$timeout
}

# The initramfs depends on the kernel's modules and on our scripts only;
# rebuild it when one of them is newer, atomically (make -j may race).
ensure_initramfs()
{
	local input

	initramfs=$vm_dir/initramfs/$version.cpio
	if [ -f "$initramfs" ]; then
		for input in "$here/mkinitramfs.sh" "$here/initramfs-init.sh" \
			     "$modules/modules.dep" "$vm_dir/busybox/bin/busybox"; do
			[ "$input" -nt "$initramfs" ] && break
			input=
		done
		[ -z "$input" ] && return 0
	fi
	VM_BUSYBOX=$vm_dir/busybox/bin/busybox \
		"$here/mkinitramfs.sh" "$vm_dir/kernels/$version" "$initramfs" >&2 ||
		die "building the initramfs for $version failed"
}

choose_accel()
{
	accel=${VM_ACCEL:-}
	if [ -z "$accel" ]; then
		# Usable means openable for read and write, not merely present.
		if [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then
			accel=kvm
		else
			accel=tcg
		fi
	fi
	case $accel in
	kvm) cpu=host; accel_opts=kvm ;;
	tcg) cpu=max; accel_opts=tcg,thread=multi ;;
	*) die "VM_ACCEL must be kvm or tcg, not '$accel'" ;;
	esac
}

write_run_files()
{
	local name arg

	mkdir -p "$share"
	{
		echo "VM_CWD=$(quote "$PWD")"
		echo "VM_MODULES=$(quote "$modules")"
	} >"$share/vm.env"
	{
		echo "# Written by run-vm.sh; run by guest-init.sh as root."
		echo "export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		for name in "${pass_env[@]}" ${VM_PASS_ENV:-}; do
			[ -n "${!name+set}" ] && echo "export $name=$(quote "${!name}")"
		done
		echo "cd $(quote "$PWD") || exit 125"
		printf 'exec'
		for arg in "$@"; do
			printf ' %s' "$(quote "$arg")"
		done
		printf '\n'
	} >"$share/command"
}

# Prints what a file gained since the offset in the named variable.
stream_new()
{
	local file=$1 offset_var=$2 size

	[ -f "$file" ] || return 0
	size=$(stat -c %s "$file")
	[ "$size" -gt "${!offset_var}" ] || return 0
	tail -c "+$((${!offset_var} + 1))" "$file" | head -c "$((size - ${!offset_var}))"
	printf -v "$offset_var" %s "$size"
}

stream_outputs()
{
	stream_new "$share/stdout" stdout_offset
	stream_new "$share/stderr" stderr_offset >&2
}

# Boots once. Sets outcome to done, boot-died, boot-fatal, boot-timeout,
# qemu-failed, died or timeout; status to the command's exit status when
# done.
boot_once()
{
	local cmdline start start_s started_at='' qemu_pid

	rm -rf "$share" "$rundir/console.log"
	write_run_files "$@"
	stdout_offset=0
	stderr_offset=0
	status=

	cmdline="root=hostroot rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose"
	cmdline+=" ro console=ttyS0 init=$here/guest-init.sh ktlsd.overlay=${VM_OVERLAY:-1}"
	cmdline+=" ktlsd_busybox=$vm_dir/busybox/bin/busybox"
	# Any oops or panic ends the guest at once instead of leaving it hung
	# until the timeout; -no-reboot turns the reboot into qemu's exit.
	cmdline+=" panic=-1 oops=panic random.trust_cpu=on"

	start=$(now)
	start_s=$SECONDS
	qemu-system-x86_64 -name "ktlsd-vm-$version" \
		-machine pc -accel "$accel_opts" -cpu "$cpu" -m "${VM_MEMORY:-1024}" -smp "${VM_CPUS:-2}" \
		-nographic -nodefaults -no-user-config -no-reboot \
		-serial "file:$rundir/console.log" -monitor none \
		-kernel "$kernel_image" -initrd "$initramfs" -append "$cmdline" \
		-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
		-fsdev "local,id=ktlsdrun,path=$share,security_model=none" \
		-device virtio-9p-pci,fsdev=ktlsdrun,mount_tag=ktlsdrun \
		-device virtio-rng-pci \
		</dev/null >"$rundir/qemu.log" 2>&1 &
	qemu_pid=$!
	running_qemu=$qemu_pid

	outcome=
	while kill -0 "$qemu_pid" 2>/dev/null; do
		sleep 0.2
		stream_outputs
		if [ -z "$started_at" ] && [ -e "$share/started" ]; then
			started_at=$(now)
		fi
		if [ -z "$started_at" ] && ((SECONDS - start_s >= boot_timeout)); then
			outcome=boot-timeout
			break
		fi
		if ((SECONDS - start_s >= timeout)); then
			outcome=timeout
			break
		fi
	done
	if [ -n "$outcome" ]; then
		kill "$qemu_pid" 2>/dev/null || true
	fi
	wait "$qemu_pid" 2>/dev/null || true
	running_qemu=
	stream_outputs
	[ -z "$started_at" ] && [ -e "$share/started" ] && started_at=$(now)

	if [ -z "$outcome" ]; then
		if [ -f "$share/status" ]; then
			outcome='done'
			status=$(cat "$share/status")
		elif [ -n "$started_at" ]; then
			outcome=died
		elif [ ! -s "$rundir/console.log" ]; then
			# Not one byte from the guest: qemu itself refused to run.
			outcome=qemu-failed
		elif grep -q '^ktlsd-vm .*FATAL' "$rundir/console.log" 2>/dev/null; then
			outcome=boot-fatal
		else
			outcome=boot-died
		fi
	fi
	mkdir -p "$vm_dir/logs"
	[ ! -s "$rundir/console.log" ] ||
		cp "$rundir/console.log" "$vm_dir/logs/console-$version.log" 2>/dev/null || true
	if [ "$verbose" = 1 ]; then
		if [ -n "$started_at" ]; then
			say "$version: boot $(elapsed "$start" "$started_at") s, command $(elapsed "$started_at" "$(now)") s, outcome $outcome"
		else
			say "$version: outcome $outcome after $(elapsed "$start" "$(now)") s"
		fi
	fi
}

console_tail()
{
	if [ -s "$rundir/console.log" ]; then
		say "last console lines of $version (full log: $vm_dir/logs/console-$version.log):"
		tail -n "${1:-25}" "$rundir/console.log" | sed 's/^/    /' >&2 || true
	else
		say "the guest wrote nothing to its console"
	fi
	if [ -s "$rundir/qemu.log" ]; then
		say "qemu said:"
		sed 's/^/    /' "$rundir/qemu.log" >&2
	fi
}

cleanup()
{
	if [ -n "${running_qemu:-}" ]; then
		kill "$running_qemu" 2>/dev/null || true
		wait "$running_qemu" 2>/dev/null || true
	fi
	if [ "${VM_KEEP:-0}" = 1 ]; then
		say "run directory kept: $rundir"
	else
		rm -rf "$rundir"
	fi
}

main()
{
	local kernel attempt

	[ $# -ge 3 ] && [ "$2" = -- ] || usage
	kernel=$1
	shift 2

	check_host
	resolve_kernel "$kernel"
	ensure_initramfs
	choose_accel

	rundir=$(mktemp -d "${TMPDIR:-/tmp}/ktlsd-vm.XXXXXX")
	share=$rundir/share
	running_qemu=
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	# Under multi-threaded TCG a boot now and then dies early, an int3 left
	# behind in kernel text the kernel patched while another vCPU ran it
	# (seen on 6.12, in sched_clock_cpu). It is the emulator's race, not
	# the guest's: a second boot usually goes through, and the third runs
	# the vCPUs on one host thread, slower but without the race.
	for attempt in 1 2 3; do
		boot_once "$@"
		case $outcome in
		done)
			exit "$status"
			;;
		boot-died|boot-timeout)
			if [ "$outcome" = boot-timeout ]; then
				say "$version: the command had not started after $boot_timeout s (VM_BOOT_TIMEOUT)"
			else
				say "$version: the guest died while booting, before the command started"
			fi
			console_tail
			[ "$attempt" != 3 ] || die "$version: boot failed three times; giving up"
			if [ "$attempt" = 2 ] && [ "$accel" = tcg ]; then
				accel_opts=tcg,thread=single
				say "$version: retrying the boot with single-threaded TCG (attempt 3 of 3)"
			else
				say "$version: retrying the boot (attempt $((attempt + 1)) of 3)"
			fi
			;;
		boot-fatal)
			console_tail
			die "$version: the guest's setup failed (see FATAL above); not retried"
			;;
		qemu-failed)
			console_tail
			die "$version: qemu-system-x86_64 failed to start the guest; not retried"
			;;
		died)
			console_tail 40
			die "$version: the guest died while the command ran; not retried"
			;;
		timeout)
			console_tail
			say "error: $version: timed out after $timeout s (VM_TIMEOUT); guest killed"
			exit 124
			;;
		*)
			die "internal error: outcome '$outcome'"
			;;
		esac
	done
}

main "$@"

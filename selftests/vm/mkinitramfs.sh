#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# mkinitramfs.sh KERNEL_TREE OUTPUT - build the VM bed's initramfs.
#
# Debian builds virtio, 9p and overlayfs as modules, so a kernel booted
# without an initrd cannot mount the host's root over 9p. This packs a
# static busybox, the /init of initramfs-init.sh and, uncompressed and in
# load order, the modules that mounting the root needs (with everything
# they depend on, as modules.dep says) into a small cpio archive.
#
# KERNEL_TREE is an unpacked kernel, build/vm/kernels/<version>, with
# boot/vmlinuz-<version> and lib/modules/<version>/modules.dep.

set -euo pipefail

# What the /init needs, in the order it loads them. "?" marks modules the
# boot works without (virtio_rng only feeds the guest's entropy pool).
wanted_modules=(virtio_pci 9pnet_virtio 9p overlay ?virtio_rng)

# The busybox applets /init calls.
applets=(sh cat echo mkdir mount umount insmod sleep switch_root)

die() { printf 'mkinitramfs: error: %s\n' "$*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 KERNEL_TREE OUTPUT"
tree=$1
output=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
busybox=${VM_BUSYBOX:-$(dirname "$tree")/../busybox/bin/busybox}

version=$(basename "$(readlink -f "$tree")")
moddir=$tree/lib/modules/$version
[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep missing; run selftests/vm/setup.sh"
[ -x "$busybox" ] || die "$busybox missing; run selftests/vm/setup.sh"

# Module names use "_" where file names may use "-"; compare normalized.
normalize() { local n=${1##*/}; n=${n%%.ko*}; echo "${n//-/_}"; }

declare -A dep_line=() emitted=()
builtin=" "
while IFS= read -r line; do
	builtin+="$(normalize "$line") "
done <"$moddir/modules.builtin"
while IFS= read -r line; do
	dep_line[$(normalize "${line%%:*}")]=$line
done <"$moddir/modules.dep"

load_order=()
# Depth first over modules.dep, dependencies before dependents.
visit()
{
	local name=$1 line dep

	[ -z "${emitted[$name]:-}" ] || return 0
	emitted[$name]=1
	line=${dep_line[$name]}
	for dep in ${line#*:}; do
		visit "$(normalize "$dep")"
	done
	load_order+=("${line%%:*}")
}

for wanted in "${wanted_modules[@]}"; do
	name=${wanted#\?}
	case $builtin in
	*" $name "*) continue ;;
	esac
	if [ -z "${dep_line[$name]:-}" ]; then
		[ "$wanted" != "$name" ] && continue
		die "kernel $version has no module $name and does not build it in"
	fi
	visit "$name"
done

staging=$(mktemp -d "${TMPDIR:-/tmp}/ktlsd-initramfs.XXXXXX")
trap 'rm -rf "$staging"' EXIT
mkdir -p "$staging"/{bin,dev,proc,sys,lower,rw,newroot,modules}
cp "$busybox" "$staging/bin/busybox"
for applet in "${applets[@]}"; do
	ln -s busybox "$staging/bin/$applet"
done
install -m 0755 "$here/initramfs-init.sh" "$staging/init"

# busybox insmod takes plain ELF objects only: decompress here, once.
index=0
for path in "${load_order[@]}"; do
	index=$((index + 1))
	target=$staging/modules/$(printf '%02d' "$index")-$(normalize "$path").ko
	case $path in
	*.ko) cp "$moddir/$path" "$target" ;;
	*.ko.xz) xz -dc "$moddir/$path" >"$target" ;;
	*.ko.zst) zstd -qdc "$moddir/$path" >"$target" ;;
	*.ko.gz) gzip -dc "$moddir/$path" >"$target" ;;
	*) die "unknown module format: $path" ;;
	esac
done

mkdir -p "$(dirname "$output")"
# newc with owner root, sorted for a reproducible archive; uncompressed
# because it is small and an emulated CPU is slow at inflating.
(cd "$staging" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0) >"$output.tmp"
mv "$output.tmp" "$output"
printf 'mkinitramfs: %s: %s\n' "$output" "$(cd "$staging/modules" && echo *)"

#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# setup.sh - prepare the VM test bed on a Debian 12 host.
#
# Installs the host tools the bed needs, then fetches with apt, unpacks and
# caches under build/vm/:
#   debs/                      every .deb this script downloaded
#   kernels/<version>/         vmlinuz, modules and headers of one kernel
#   kernels/6.1, kernels/6.12  aliases (symlinks) to the unpacked versions
#   busybox/                   busybox-static, for the initramfs
#   kselftest/                 kselftest_harness.h and kselftest.h
#
# Every step is skipped when its result is already there, so a second run
# does no network traffic at all. Needs root only when something has to be
# installed or the backports suite has to be added to apt.
# See Documentation/vm-testbed.rst.

set -euo pipefail
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vm_dir=${VM_DIR:-$repo/build/vm}
debs_dir=$vm_dir/debs
kernels_dir=$vm_dir/kernels
backports_file=/etc/apt/sources.list.d/ktlsd-backports.sources

# Host packages, as "command-or-file package": a package is installed only
# when what it provides is missing, so a host that has them needs no root.
host_needs=(
	"qemu-system-x86_64 qemu-system-x86"
	"cpio cpio"
	"depmod kmod"
	"xz xz-utils"
	"zstd zstd"
	"ip iproute2"
	"gcc gcc"
	"gcc-12 gcc-12"
	"pahole dwarves"
	"sparse sparse"
	"/usr/lib/x86_64-linux-gnu/libelf.so.1 libelf1"
	"make make"
	"/usr/include/stdio.h libc6-dev"
	"/usr/include/linux/tls.h linux-libc-dev"
	"/usr/include/gnutls/gnutls.h libgnutls28-dev"
	"/usr/src/linux-source-6.1.tar.xz linux-source-6.1"
)

say() { printf 'vm-setup: %s\n' "$*"; }
die() { printf 'vm-setup: error: %s\n' "$*" >&2; exit 1; }

apt_updated=
apt_update()
{
	[ -n "$apt_updated" ] && return 0
	need_root "refresh apt's package lists"
	say "apt-get update"
	apt-get update -q >"$vm_dir/apt-update.log" 2>&1 ||
		die "apt-get update failed; see $vm_dir/apt-update.log"
	apt_updated=1
}

need_root()
{
	[ "$(id -u)" = 0 ] ||
		die "need root to $1; run: sudo $0"
}

have()
{
	case $1 in
	/*) [ -e "$1" ] ;;
	*) command -v "$1" >/dev/null 2>&1 ||
	   [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] ;;
	esac
}

install_host_packages()
{
	local entry missing=()

	for entry in "${host_needs[@]}"; do
		have "${entry%% *}" || missing+=("${entry#* }")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "host packages: all present"
		return 0
	fi
	need_root "install ${missing[*]}"
	apt_update
	say "apt-get install ${missing[*]}"
	apt-get install -y -q --no-install-recommends "${missing[@]}" \
		>"$vm_dir/apt-install.log" 2>&1 ||
		die "apt-get install ${missing[*]} failed; see $vm_dir/apt-install.log"
}

# Prints "uri suite components signed-by" for every enabled "deb" entry of
# the machine's apt configuration, one-line (.list) and deb822 (.sources)
# formats alike; "-" stands for an absent Signed-By.
apt_entries()
{
	local files=()

	[ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
	shopt -s nullglob
	files+=(/etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
	shopt -u nullglob
	[ ${#files[@]} -gt 0 ] || return 0
	awk '
	function flush(    i, j, nu, ns, u, s) {
		if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no") {
			nu = split(uris, u, " ")
			ns = split(suites, s, " ")
			for (i = 1; i <= nu; i++)
				for (j = 1; j <= ns; j++)
					print u[i], s[j], comps == "" ? "-" : comps, signed == "" ? "-" : signed
		}
		types = uris = suites = comps = signed = enabled = ""
		key = ""
	}
	FNR == 1 { if (deb822) flush(); deb822 = FILENAME ~ /\.sources$/ }
	!deb822 {
		sub(/#.*/, "")
		if ($1 != "deb")
			next
		signed = "-"
		f = 2
		if ($2 ~ /^\[/) {
			# options block: [ key=value ... ]
			while (f <= NF) {
				if ($f ~ /^\[?signed-by=/) {
					signed = $f
					sub(/^\[?signed-by=/, "", signed)
					sub(/\]$/, "", signed)
				}
				if ($f ~ /\]$/) { f++; break }
				f++
			}
		}
		c = ""
		for (i = f + 2; i <= NF; i++)
			c = c (c == "" ? "" : ",") $i
		print $f, $(f + 1), c == "" ? "-" : c, signed
		next
	}
	/^[ \t]*#/ { next }
	/^[ \t]*$/ { flush(); next }
	/^[ \t]/ {
		# a continuation line: only an inline key block uses them here
		if (key == "signed-by")
			signed = "inline"
		next
	}
	{
		key = tolower($1)
		sub(/:$/, "", key)
		value = $0
		sub(/^[^:]*:[ \t]*/, "", value)
		if (key == "types") types = value
		else if (key == "uris") uris = value
		else if (key == "suites") suites = value
		else if (key == "components") { comps = value; gsub(/[ \t]+/, ",", comps) }
		else if (key == "signed-by") signed = value == "" ? "inline" : value
		else if (key == "enabled") enabled = value
	}
	END { if (deb822) flush() }
	' "${files[@]}"
}

# Adds <codename>-backports on the same mirror as the main suite, unless
# some entry already provides it. apt gives backports priority 100, so this
# never upgrades anything on the host by itself.
ensure_backports()
{
	local codename uri suite comps signed entries

	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ "$codename" = bookworm ] ||
		die "this bed expects Debian 12 (bookworm), found '${codename:-unknown}'"
	backports_suite=$codename-backports

	entries=$(apt_entries)
	if awk -v s="$backports_suite" '$2 == s { f = 1 } END { exit !f }' <<<"$entries"; then
		say "apt: $backports_suite already configured"
		return 0
	fi
	read -r uri suite comps signed < <(awk -v s="$codename" \
		'$2 == s && $3 ~ /(^|,)main(,|$)/ { print; exit }' <<<"$entries") || true
	[ -n "${uri:-}" ] ||
		die "no 'deb' entry for suite $codename with component main in /etc/apt/sources.list{,.d}; cannot derive the backports mirror"
	need_root "write $backports_file"
	{
		echo "# Written by ktlsd selftests/vm/setup.sh: the VM test bed's 6.12 kernel"
		echo "# comes from $backports_suite, on the mirror of the main suite."
		echo "Types: deb"
		echo "URIs: $uri"
		echo "Suites: $backports_suite"
		echo "Components: main"
		case $signed in
		-|inline) ;;	# the trusted keyrings in /etc/apt/trusted.gpg.d apply
		*) echo "Signed-By: $signed" ;;
		esac
	} >"$backports_file.tmp"
	mv "$backports_file.tmp" "$backports_file"
	say "apt: added $backports_suite from the main suite's mirror in $backports_file"
	apt_updated=
	apt_update
}

# The candidate version of a package, or nothing.
candidate()
{
	apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

# The version-specific image package a metapackage depends on, e.g.
# linux-image-6.1.0-56-amd64. $2, if given, is a target release.
meta_dependency()
{
	local release_opt=()

	[ -n "${2:-}" ] && release_opt=(-t "$2")
	apt-cache "${release_opt[@]}" depends "$1" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# Picks the 6.1 kernel from the linux-image-amd64 metapackage's candidate:
# the one an up-to-date Debian 12 machine runs (security updates included;
# backports has a lower priority and does not win here).
resolve_kernel_61()
{
	local pkg

	pkg=$(meta_dependency linux-image-amd64)
	case $pkg in
	linux-image-6.1.0-*-amd64) ;;
	*) die "linux-image-amd64 depends on '${pkg:-nothing}', not a linux-image-6.1.0-*-amd64" ;;
	esac
	echo "${pkg#linux-image-}"
}

# Picks the newest 6.12 kernel of the backports suite: the metapackage's
# dependency when that is a 6.12, otherwise the highest 6.12 image there.
resolve_kernel_612()
{
	local pkg

	pkg=$(meta_dependency linux-image-amd64 "$backports_suite")
	case $pkg in
	linux-image-6.12.*-amd64) ;;
	*)
		pkg=$(apt-cache pkgnames linux-image-6.12 2>/dev/null |
			grep -E '^linux-image-6\.12\.[^-]+-amd64$' | sort -V | tail -n 1) || true
		;;
	esac
	[ -n "$pkg" ] ||
		die "no linux-image-6.12*-amd64 in $backports_suite (is the suite reachable? see $vm_dir/apt-update.log)"
	echo "${pkg#linux-image-}"
}

# apt-get download into debs/ unless that version is already there; prints
# the .deb's path.
download()
{
	local pkg=$1 version=$2 found

	found=$(find "$debs_dir" -maxdepth 1 -name "${pkg}_${version//:/%3a}_*.deb" | head -n 1)
	if [ -z "$found" ]; then
		say "apt-get download $pkg=$version" >&2
		(cd "$debs_dir" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$version" \
			>>"$vm_dir/apt-download.log" 2>&1) ||
			die "apt-get download $pkg=$version failed; see $vm_dir/apt-download.log"
		found=$(find "$debs_dir" -maxdepth 1 -name "${pkg}_${version//:/%3a}_*.deb" | head -n 1)
		[ -n "$found" ] || die "apt-get download $pkg=$version left no .deb in $debs_dir"
	fi
	echo "$found"
}

# $2 when the archive has pkg at that version, else pkg's candidate.
pkg_version()
{
	if apt-cache madison "$1" 2>/dev/null | awk -F' *[|] *' -v v="$2" '$2 == v { f = 1 } END { exit !f }'; then
		echo "$2"
	else
		candidate "$1"
	fi
}

# The Depends of pkg=version that start with a prefix, e.g. the -common and
# kbuild packages a headers package needs.
depends_of()
{
	apt-cache show "$1=$2" 2>/dev/null |
		awk -F': ' '$1 == "Depends" { print $2; exit }' |
		tr ',' '\n' | sed -e 's/^ *//' -e 's/ .*//' | grep -E "$3" || true
}

# Absolute symlinks inside an unpacked package point at the host's /; make
# each one relative to the unpacked tree when its target is in the tree, so
# that lib/modules/<v>/build and the headers' links resolve without
# installing anything on the host.
relativize_links()
{
	local tree=$1 link target

	while IFS= read -r -d '' link; do
		target=$(readlink "$link")
		case $target in
		/*) ;;
		*) continue ;;
		esac
		[ -e "$tree$target" ] || [ -L "$tree$target" ] || continue
		ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$tree$target")" "$link"
	done < <(find "$tree" -type l -print0)
}

# Debian's per-flavour headers Makefile is one line including the -common
# tree by absolute path (/usr/src/...). Point it at the sibling directory
# instead, found from the Makefile's own location, so that
# make -C .../lib/modules/<v>/build works wherever build/ is.
relocate_header_makefiles()
{
	local tree=$1 makefile common

	for makefile in "$tree"/usr/src/linux-headers-*/Makefile; do
		common=$(sed -n 's|^include /usr/src/\(linux-headers-[^/]*-common\)/Makefile$|\1|p' "$makefile")
		[ -n "$common" ] || continue
		cat >"$makefile" <<-EOF
		# Rewritten by ktlsd selftests/vm/setup.sh: was "include /usr/src/$common/Makefile".
		include \$(realpath \$(dir \$(lastword \$(MAKEFILE_LIST))))/../$common/Makefile
		EOF
	done
}

# The bzImage's own decompressor is slow under emulation (about 12 s for
# 6.1's xz). Debian's kernels can also boot as an ELF vmlinux through PVH,
# so decompress it once here: the payload starts at the first xz, zstd or
# gzip magic after which the decompressor yields an ELF file.
extract_vmlinux()
{
	local tree=$1 version=$2 image out offset magic tool

	image=$tree/boot/vmlinuz-$version
	out=$tree/boot/vmlinux-$version
	[ -f "$out" ] && return 0
	grep -qx 'CONFIG_PVH=y' "$tree/boot/config-$version" || return 0
	for magic in 'xz \xfd7zXZ\x00' 'zstd \x28\xb5\x2f\xfd' 'gzip \x1f\x8b\x08'; do
		tool=${magic%% *}
		for offset in $(LC_ALL=C grep -obUaP "${magic#* }" "$image" | cut -d: -f1); do
			# Trailing bytes after the payload make the tool fail: expected.
			tail -c "+$((offset + 1))" "$image" | "$tool" -dc >"$out.tmp" 2>/dev/null || true
			if [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				mv "$out.tmp" "$out"
				say "kernel $version: extracted boot/vmlinux-$version for PVH boot"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	say "kernel $version: no vmlinux found in the bzImage; the VM boots the bzImage (slower)"
}

# kernels/6.1 -> 6.1.0-<abi>-amd64 and so on: what run-vm.sh boots.
set_alias()
{
	[ "$(readlink "$kernels_dir/$1" 2>/dev/null)" = "$2" ] ||
		ln -sfn "$2" "$kernels_dir/$1"
}

fetch_kernel()
{
	local alias=$1 version=$2 tree=$kernels_dir/$2 src_version image_pkg
	local pkg pkgs=() deb broken

	if [ -f "$tree/.ktlsd-unpacked" ]; then
		extract_vmlinux "$tree" "$version"
		say "kernel $alias: $version cached in $tree"
		set_alias "$alias" "$version"
		return 0
	fi

	# The image, headers, -common and kbuild packages come from one source
	# package: take them all at the headers' version.
	src_version=$(candidate "linux-headers-$version")
	[ -n "$src_version" ] || die "no candidate for linux-headers-$version"

	# The unsigned image when the archive has it: same kernel and modules,
	# without the signed-EFI-image packaging around it.
	image_pkg=linux-image-$version-unsigned
	[ -n "$(candidate "$image_pkg")" ] || image_pkg=linux-image-$version
	[ -n "$(candidate "$image_pkg")" ] || die "no candidate for linux-image-$version"

	pkgs=("$image_pkg" "linux-headers-$version")
	mapfile -t -O 2 pkgs < <(depends_of "linux-headers-$version" "$src_version" \
		'^linux-(headers-.*-common|kbuild-)')
	[ ${#pkgs[@]} -eq 4 ] ||
		die "linux-headers-$version: expected -common and linux-kbuild dependencies, got: ${pkgs[*]}"

	rm -rf "$tree.tmp"
	mkdir -p "$tree.tmp"
	for pkg in "${pkgs[@]}"; do
		deb=$(download "$pkg" "$(pkg_version "$pkg" "$src_version")")
		say "unpack $(basename "$deb")"
		dpkg-deb -x "$deb" "$tree.tmp"
	done
	[ -f "$tree.tmp/boot/vmlinuz-$version" ] || die "$image_pkg has no boot/vmlinuz-$version"

	relativize_links "$tree.tmp"
	relocate_header_makefiles "$tree.tmp"
	extract_vmlinux "$tree.tmp" "$version"

	# Debian's postinst, not the package, creates modules.dep.
	depmod -b "$tree.tmp" -F "$tree.tmp/boot/System.map-$version" "$version" ||
		die "depmod for $version failed"

	broken=$(find "$tree.tmp" -xtype l -printf '%P -> %l\n' | head -n 5)
	[ -z "$broken" ] ||
		say "kernel $alias: warning: links not resolving in the unpacked tree:" "$broken"
	rm -rf "$tree"
	mv "$tree.tmp" "$tree"
	printf '%s\n' "${pkgs[@]}" >"$tree/.ktlsd-unpacked"
	set_alias "$alias" "$version"
	say "kernel $alias: $version unpacked in $tree"
}

fetch_busybox()
{
	local deb

	if [ -x "$vm_dir/busybox/bin/busybox" ]; then
		say "busybox: cached in $vm_dir/busybox"
		return 0
	fi
	# Downloaded, not installed: busybox-static conflicts with busybox.
	deb=$(download busybox-static "$(candidate busybox-static)")
	rm -rf "$vm_dir/busybox.tmp"
	dpkg-deb -x "$deb" "$vm_dir/busybox.tmp"
	file "$vm_dir/busybox.tmp/bin/busybox" 2>/dev/null | grep -q 'static' ||
		[ ! -x /usr/bin/file ] || die "busybox-static's busybox is not static"
	rm -rf "$vm_dir/busybox"
	mv "$vm_dir/busybox.tmp" "$vm_dir/busybox"
	say "busybox: unpacked in $vm_dir/busybox"
}

fetch_kselftest_headers()
{
	local out=$vm_dir/kselftest tarball=/usr/src/linux-source-6.1.tar.xz
	local prefix=linux-source-6.1/tools/testing/selftests

	if [ -f "$out/kselftest_harness.h" ] && [ -f "$out/kselftest.h" ]; then
		say "kselftest headers: cached in $out"
		return 0
	fi
	[ -f "$tarball" ] || die "$tarball missing (package linux-source-6.1)"
	say "extract kselftest_harness.h and kselftest.h from $tarball"
	rm -rf "$out.tmp"
	mkdir -p "$out.tmp"
	tar -xJf "$tarball" -C "$out.tmp" --strip-components=4 --occurrence=1 \
		"$prefix/kselftest_harness.h" "$prefix/kselftest.h" ||
		die "could not extract the kselftest headers from $tarball"
	dpkg-query -W -f='linux-source-6.1 ${Version}\n' linux-source-6.1 >"$out.tmp/SOURCE"
	rm -rf "$out"
	mv "$out.tmp" "$out"
}

main()
{
	local start=$SECONDS v61 v612

	mkdir -p "$vm_dir" "$debs_dir" "$kernels_dir"
	install_host_packages

	# Ask apt, with fresh lists, only when something is still to be fetched.
	if [ -f "$kernels_dir/6.1/.ktlsd-unpacked" ] &&
	   [ -f "$kernels_dir/6.12/.ktlsd-unpacked" ] &&
	   [ -x "$vm_dir/busybox/bin/busybox" ]; then
		v61=$(readlink "$kernels_dir/6.1")
		v612=$(readlink "$kernels_dir/6.12")
	else
		ensure_backports
		apt_update
		v61=$(resolve_kernel_61)
		v612=$(resolve_kernel_612)
	fi
	fetch_kernel 6.1 "$v61"
	fetch_kernel 6.12 "$v612"
	fetch_busybox
	fetch_kselftest_headers

	say "done in $((SECONDS - start)) s: kernels 6.1=$v61 6.12=$v612 in $kernels_dir"
}

# die explains the failures it sees; this also covers those it does not
# (set -e), so that a failed run never ends silently.
report_failure()
{
	local exit_status=$?

	[ "$exit_status" -eq 0 ] ||
		printf 'vm-setup: FAILED (exit %d); see the messages above\n' "$exit_status" >&2
}

trap report_failure EXIT
main "$@"

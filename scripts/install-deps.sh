#!/bin/bash
# Installs what building and testing ktlsd needs on Debian 12. Idempotent.
set -euo pipefail

packages=(
	build-essential pkg-config libssl-dev libinih-dev libnl-3-dev libnl-genl-3-dev
	libgnutls28-dev
	openssl ca-certificates
	gnutls-bin python3 perl valgrind util-linux diffutils coreutils
	clang clang-14 libclang-rt-14-dev llvm-14
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all build and test dependencies present"

# The VM test bed: qemu, Debian's 6.1 and 6.12 kernels, the kselftest harness.
"$(dirname "$0")/../selftests/vm/setup.sh"

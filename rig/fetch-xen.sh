#!/bin/bash
# SPDX-License-Identifier: MIT
#
# fetch-xen.sh VERSION   Download Debian's xen-hypervisor-VERSION-amd64 (4.17 from
#                        bookworm via the host's apt, 4.20 from trixie via a private
#                        apt setup under cache/), unpack it and print the path of the
#                        gunzipped hypervisor (an ELF32 multiboot image) on stdout.
# fetch-xen.sh --deps    apt-get install the host tools the rig needs, if missing.
#
# Everything lands in <repo>/cache/. Logs go to stderr. A cached run does no network.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache="$(dirname "$here")/cache"

log() { echo "fetch-xen: $*" >&2; }
die() { log "error: $*"; exit 1; }

# apt-get install PKG... with an apt-get update only when the first try fails.
# No recommends: qemu-system-x86 would otherwise bring in the GUI (gstreamer,
# mesa, VA drivers, ...), ovmf and qemu-utils, none of which the rig uses.
apt_install() {
    log "installing $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2; then
        log "install failed, running apt-get update and retrying"
        apt-get update -q >&2 || die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 \
            || die "apt-get install $* failed"
    fi
}

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

install_deps() {
    local missing=() p
    for p in qemu-system-x86 xxhash libxen-dev zstd; do
        installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "deps already installed"
    else
        apt_install "${missing[@]}"
    fi
}

# The trixie apt setup lives entirely under $apt_dir; the host's apt config,
# lists and caches are never touched. Signatures are checked against Debian's
# archive keyring, which on bookworm (debian-archive-keyring >= 2023.3+deb12u1)
# already holds the trixie keys.
apt_dir="$cache/apt-trixie"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
trixie_apt() {
    apt-get -q \
        -o Dir::Etc::SourceList="$apt_dir/sources.list" \
        -o Dir::Etc::SourceParts="$apt_dir/sources.list.d" \
        -o Dir::State::Lists="$apt_dir/lists" \
        -o Dir::Cache="$apt_dir/cache" \
        -o Acquire::AllowInsecureRepositories=false \
        -o Acquire::AllowDowngradeToInsecureRepositories=false \
        "$@"
}

trixie_setup() {
    [ -r "$keyring" ] || die "$keyring missing (install debian-archive-keyring)"
    mkdir -p "$apt_dir/sources.list.d" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    echo "deb [signed-by=$keyring] http://deb.debian.org/debian trixie main" \
        > "$apt_dir/sources.list"
    log "apt-get update (private trixie lists in $apt_dir)"
    trixie_apt update >&2 || die "apt-get update for trixie failed; on NO_PUBKEY," \
        "upgrade debian-archive-keyring (>= 2023.3+deb12u1 holds the trixie keys)"
    ls "$apt_dir"/lists/*_dists_trixie_InRelease >/dev/null 2>&1 \
        || die "no verified trixie InRelease in $apt_dir/lists"
}

fetch() {
    local ver=$1 pkg="xen-hypervisor-$1-amd64" dir="$cache/xen-$1"
    local out="$dir/xen"
    if [ -s "$out" ]; then
        echo "$out"
        return
    fi
    # apt downloads as user _apt when run as root: give it a directory it may write.
    mkdir -p "$dir/dl"
    rm -f "$dir"/dl/*.deb
    if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$dir/dl"; fi
    log "downloading $pkg"
    case $ver in
    4.17)
        if ! (cd "$dir/dl" && apt-get download -q "$pkg" >&2); then
            log "download failed, running apt-get update and retrying"
            apt-get update -q >&2 || die "apt-get update failed"
            (cd "$dir/dl" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
        fi ;;
    4.20)
        trixie_setup
        (cd "$dir/dl" && trixie_apt download "$pkg" >&2) || die "apt-get download $pkg (trixie) failed" ;;
    esac
    local debs=("$dir"/dl/"$pkg"_*.deb) deb
    deb=${debs[0]}
    [ -f "$deb" ] || die "no $pkg .deb in $dir/dl after download"
    log "unpacking $(basename "$deb")"
    rm -rf "$dir/root"
    dpkg -x "$deb" "$dir/root" || die "dpkg -x $deb failed"
    local gzs=("$dir"/root/boot/xen-*.gz) gz
    gz=${gzs[0]}
    [ -f "$gz" ] || die "no /boot/xen-*.gz in $deb"
    gunzip -c "$gz" > "$out.tmp" || die "gunzip $gz failed"
    head -c 5 "$out.tmp" | grep -q $'^\x7fELF\x01' || die "$gz is not an ELF32 image"
    mv "$out.tmp" "$out"
    log "ready: $out ($(basename "$gz"))"
    echo "$out"
}

case "${1:-}" in
--deps) install_deps ;;
4.17 | 4.20) fetch "$1" ;;
*) echo "usage: $0 4.17|4.20 | --deps" >&2; exit 2 ;;
esac

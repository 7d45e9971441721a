#!/bin/sh
# Install the host's operational tools (instagram-shard-move, instagram-shard-promote, ...) from the stack's
# artifacts bucket: they are not needed to boot, and a shard host's user data has no room for them (EC2 takes
# at most 16 KiB, gzipped). The tarball is named by its SHA-256, verified before anything is unpacked, and
# each tool is replaced by a rename, so a tool is whole, old or new. Running this again is harmless.
#
# usage: instagram-tools-install URL SHA256
# Overrides (tests): INSTAGRAM_ARTIFACT_FETCH (the download command, run as `CMD URL FILE`; default
# instagram-s3-get), INSTAGRAM_TOOLS_DIR (default /usr/local/sbin).
set -eu

usage="usage: instagram-tools-install URL SHA256"
url=${1:?$usage}
want=${2:?$usage}
fetch=${INSTAGRAM_ARTIFACT_FETCH:-/usr/local/sbin/instagram-s3-get}
dir=${INSTAGRAM_TOOLS_DIR:-/usr/local/sbin}

log() { echo "tools-install: $*" >&2; }

if ! printf '%s' "$want" | grep -Eq '^[0-9a-f]{64}$'; then
    log "SHA256 must be 64 lowercase hex digits, not '$want'"
    exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$fetch" "$url" "$work/tools.tar.gz" || { log "could not download $url"; exit 1; }
got=$(sha256sum "$work/tools.tar.gz" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
    log "$url has SHA-256 $got, not $want: refused, nothing installed"
    exit 1
fi
mkdir "$work/unpacked"
tar -xzf "$work/tools.tar.gz" -C "$work/unpacked" --no-same-owner
for tool in "$work"/unpacked/*; do
    name=$(basename "$tool")
    case "$name" in instagram-*) ;; *) log "unexpected file $name in the tools tarball: refused, nothing installed"; exit 1 ;; esac
done
install -d -m 0755 "$dir"
for tool in "$work"/unpacked/*; do
    name=$(basename "$tool")
    install -m 0755 "$tool" "$dir/.$name.new"
    mv -f "$dir/.$name.new" "$dir/$name"
    log "installed $dir/$name"
done

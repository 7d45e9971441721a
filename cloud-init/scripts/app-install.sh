#!/bin/sh
# Install one release of the app bundle and make it current, keeping the previous one for a roll back.
#
# usage: instagram-app-install URL SHA256
#   URL     where the bundle is (s3://BUCKET/KEY on a host), handed to the download command
#   SHA256  what the bundle's SHA-256 must be; anything else is refused before it is unpacked
# Steps: download to a temporary file; verify; unpack into releases/.SHA256.partial and rename it to
# releases/SHA256; point `current` at it with a rename (atomic: a reader sees the old or the new release,
# never neither); install the release's systemd unit; keep the current and previous releases, drop older.
# A release already unpacked is reused, so running this again is harmless.
# Overrides (tests and the boot test): INSTAGRAM_ARTIFACT_FETCH (the download command, run as
# `CMD URL FILE`; default instagram-s3-get), INSTAGRAM_APP_HOME (default /opt/instagram),
# INSTAGRAM_UNIT_DIR (default /etc/systemd/system), INSTAGRAM_APP_OWNER (default root:root),
# INSTAGRAM_CREDENTIAL_ROOT (prefixed to the units' credential paths; default none).
set -eu

usage="usage: instagram-app-install URL SHA256"
url=${1:?$usage}
want=${2:?$usage}
fetch=${INSTAGRAM_ARTIFACT_FETCH:-/usr/local/sbin/instagram-s3-get}
home=${INSTAGRAM_APP_HOME:-/opt/instagram}
unit_dir=${INSTAGRAM_UNIT_DIR:-/etc/systemd/system}
owner=${INSTAGRAM_APP_OWNER:-root:root}
unit=instagram-app.service
work_unit=instagram-work.service

log() { echo "app-install: $*" >&2; }

if ! printf '%s' "$want" | grep -Eq '^[0-9a-f]{64}$'; then
    log "SHA256 must be 64 lowercase hex digits, not '$want'"
    exit 2
fi
install -d -m 0755 "$home" "$home/releases"
release="$home/releases/$want"

if [ -f "$release/MANIFEST.json" ]; then
    log "release $want is already unpacked"
else
    download=$(mktemp "$home/.download.XXXXXX")
    partial="$home/releases/.$want.partial"
    trap 'rm -rf "$download" "$partial"' EXIT
    # The fetch command is a trusted program path (or a test's stand-in), run with two arguments.
    if ! $fetch "$url" "$download"; then
        log "could not download $url"
        exit 1
    fi
    got=$(sha256sum "$download" | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
        log "refusing $url: its SHA-256 is $got, expected $want (nothing was unpacked)"
        exit 1
    fi
    rm -rf "$partial"
    mkdir -m 0755 "$partial"
    tar -xzf "$download" -C "$partial" --no-same-owner --no-same-permissions --delay-directory-restore
    for required in MANIFEST.json bin/instagram-app "systemd/$unit" "systemd/$work_unit"; do
        [ -e "$partial/$required" ] || { log "$url has no $required: not an app bundle"; exit 1; }
    done
    chown -R "$owner" "$partial"
    mv -T "$partial" "$release"
    rm -f "$download"
    trap - EXIT
    log "unpacked release $want"
fi

previous=$(readlink "$home/current" 2>/dev/null || true)
ln -sfn "releases/$want" "$home/.current.new"
mv -T "$home/.current.new" "$home/current"

# A unit fails to start on a LoadCredential file that is not there. A credential the stack does not set (a push
# key, the Sentry DSN) is an empty root-only file, which the app reads as "off"; a release that loads a newer
# optional credential therefore also starts on a host whose user data predates it.
credential_root=${INSTAGRAM_CREDENTIAL_ROOT:-}
credentials=$(sed -n 's/^LoadCredential=[^:]*://p' "$release/systemd/$unit" "$release/systemd/$work_unit" | sort -u)
for file in $credentials; do
    case $file in /*) ;; *) log "unit credential path '$file' is not absolute"; exit 1 ;; esac
    if [ ! -e "$credential_root$file" ]; then
        install -d -m 0700 "$(dirname "$credential_root$file")"
        install -m 0600 /dev/null "$credential_root$file"
        log "no $file: left empty (that feature stays off)"
    fi
done

install -d -m 0755 "$unit_dir"
for u in "$unit" "$work_unit"; do
    cp "$release/systemd/$u" "$unit_dir/.$u.new"
    chmod 0644 "$unit_dir/.$u.new"
    mv -f "$unit_dir/.$u.new" "$unit_dir/$u"
done

# Keep the current release and the one it replaced; older ones go.
keep_previous=${previous#releases/}
for dir in "$home"/releases/*; do
    [ -d "$dir" ] || continue
    name=${dir##*/}
    if [ "$name" != "$want" ] && [ "$name" != "$keep_previous" ]; then
        rm -rf "$dir"
        log "removed old release $name"
    fi
done
log "current is release $want${previous:+ (previous: ${previous#releases/})}"

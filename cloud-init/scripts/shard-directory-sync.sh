#!/bin/sh
# shellcheck disable=SC2317  # functions run through retry(), which shellcheck cannot follow
# Keep this host's copy of the shard directory current: read its SSM parameter every INTERVAL seconds and,
# when it changed, replace DEST atomically (a reader sees the old or the new directory, never a part). The
# app's workers re-read DEST every few seconds, so SSM sees one reader per host, not one per worker.
# A read that fails keeps the last copy; credentials are reloaded then (instance-role keys rotate).
#
# usage: shard-directory-sync PARAMETER_NAME DEST [INTERVAL_SECONDS] [--once]
# Overrides (tests and the boot test only): INSTAGRAM_AWS_LIB, and aws-lib.sh's.
set -eu

usage="usage: shard-directory-sync PARAMETER_NAME DEST [INTERVAL_SECONDS] [--once]"
name=${1:?$usage}
dest=${2:?$usage}
interval=${3:-5}
once=${4:-}
case "$name" in /*) ;; *) echo "shard-directory-sync: PARAMETER_NAME must start with /: $name" >&2; exit 2 ;; esac
case "$dest" in /*) ;; *) echo "shard-directory-sync: DEST must be an absolute path: $dest" >&2; exit 2 ;; esac
if ! echo "$interval" | grep -Eq '^[1-9][0-9]{0,3}$'; then echo "shard-directory-sync: INTERVAL_SECONDS must be 1 to 9999: $interval" >&2; exit 2; fi
if [ -n "$once" ] && [ "$once" != "--once" ]; then echo "$usage" >&2; exit 2; fi
LOG_NAME=shard-directory-sync
# shellcheck source=aws-lib.sh
. "${INSTAGRAM_AWS_LIB:-/usr/local/lib/instagram/aws-lib.sh}"

aws_setup
install -d -m 0755 "$(dirname "$dest")"

sync_once() {
    tmp=$(mktemp "$(dirname "$dest")/.shard-directory.XXXXXX")
    if ! ssm_get_parameter "$name" > "$tmp"; then
        rm -f "$tmp"
        log "could not read $name; keeping $dest"
        load_credentials || log "no instance role credentials from $imds"
        return 1
    fi
    if ! python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if isinstance(d, dict) else 1)' "$tmp" 2>/dev/null; then
        rm -f "$tmp"
        log "$name does not hold a JSON object; keeping $dest"
        return 1
    fi
    if [ -f "$dest" ] && cmp -s "$tmp" "$dest"; then
        rm -f "$tmp"
        return 0
    fi
    chmod 0644 "$tmp"
    mv -f "$tmp" "$dest"
    log "wrote $name to $dest"
}

if [ -n "$once" ]; then
    sync_once
    exit $?
fi
while :; do
    sync_once || true
    sleep "$interval"
done

#!/bin/sh
# shellcheck disable=SC2317  # functions run through retry(), which shellcheck cannot follow
# Fetch this host's secrets from SSM Parameter Store at boot, with the instance role's credentials from
# IMDSv2, signed by curl's SigV4 (no AWS CLI needed). Secrets never pass through argv or the environment of
# another process: curl reads credentials and headers from a config on stdin.
#
# usage: fetch-secrets MANIFEST
#   MANIFEST: one line per secret: PARAMETER_NAME DEST_PATH OWNER:GROUP MODE
# Overrides (tests and the boot test only): INSTAGRAM_SSM_ENDPOINT, INSTAGRAM_AWS_LIB, and aws-lib.sh's.
set -eu

manifest=${1:?usage: fetch-secrets MANIFEST}
LOG_NAME=fetch-secrets
# shellcheck source=aws-lib.sh
. "${INSTAGRAM_AWS_LIB:-/usr/local/lib/instagram/aws-lib.sh}"

fetch_to() { # NAME FILE
    ssm_get_parameter "$1" > "$2"
}

[ -r "$manifest" ] || { log "cannot read manifest $manifest"; exit 1; }
aws_setup

status=0
while read -r name dest owner mode extra; do
    case "$name" in ''|'#'*) continue ;; esac
    if [ -n "${extra:-}" ] || [ -z "${mode:-}" ] || [ "${dest#/}" = "$dest" ] || ! echo "$mode" | grep -Eq '^0?[0-7]{3}$'; then
        log "bad manifest line for $name (want: NAME /ABSOLUTE/PATH OWNER:GROUP MODE)"
        status=1
        continue
    fi
    # The value goes into a file created with no permissions for anyone else, then moved into place.
    tmp=$(mktemp "$(dirname "$dest")/.fetch-secrets.XXXXXX" 2>/dev/null) || { install -d -m 0755 "$(dirname "$dest")"; tmp=$(mktemp "$(dirname "$dest")/.fetch-secrets.XXXXXX"); }
    if retry fetch_to "$name" "$tmp"; then
        chown "$owner" "$tmp" && chmod "$mode" "$tmp" && mv -f "$tmp" "$dest"
        log "wrote $name to $dest"
    else
        rm -f "$tmp"
        log "could not read parameter $name"
        status=1
    fi
done < "$manifest"
exit "$status"

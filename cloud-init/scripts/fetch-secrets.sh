#!/bin/sh
# shellcheck disable=SC2317  # functions run through retry(), which shellcheck cannot follow
# Fetch this host's secrets from SSM Parameter Store at boot, with the instance role's credentials from
# IMDSv2, signed by curl's SigV4 (no AWS CLI needed). Secrets never pass through argv or the environment of
# another process: curl reads credentials and headers from a config on stdin.
#
# usage: fetch-secrets MANIFEST
#   MANIFEST: one line per secret: PARAMETER_NAME DEST_PATH OWNER:GROUP MODE
# Overrides (tests and the boot test only): INSTAGRAM_IMDS_ENDPOINT, INSTAGRAM_SSM_ENDPOINT,
# INSTAGRAM_FETCH_ATTEMPTS (default 30, with back-off up to 10 s between tries).
set -eu

manifest=${1:?usage: fetch-secrets MANIFEST}
imds=${INSTAGRAM_IMDS_ENDPOINT:-http://169.254.169.254}
attempts=${INSTAGRAM_FETCH_ATTEMPTS:-30}

log() { echo "fetch-secrets: $*" >&2; }

json_field() { # FIELD [SUBFIELD]: read JSON on stdin, print one string field
    python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1:]:
    value = value[key]
if not isinstance(value, str) or value == "":
    sys.exit(1)
sys.stdout.write(value)' "$@"
}

imds_get() { # PATH under /latest/
    token=$(curl -sf --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds/latest/api/token") || return 1
    curl -sf --max-time 5 -H "X-aws-ec2-metadata-token: $token" "$imds/latest/$1"
}

load_credentials() {
    role=$(imds_get meta-data/iam/security-credentials/) || return 1
    role=$(echo "$role" | head -n 1)
    [ -n "$role" ] || return 1
    creds=$(imds_get "meta-data/iam/security-credentials/$role") || return 1
    access_key=$(printf '%s' "$creds" | json_field AccessKeyId) || return 1
    secret_key=$(printf '%s' "$creds" | json_field SecretAccessKey) || return 1
    session_token=$(printf '%s' "$creds" | json_field Token) || return 1
}

get_parameter() { # NAME: print the decrypted value
    body=$(printf '{"Name":"%s","WithDecryption":true}' "$1")
    response=$(printf 'user = "%s:%s"\nheader = "x-amz-security-token: %s"\n' "$access_key" "$secret_key" "$session_token" |
        curl -sf --max-time 10 -K - --aws-sigv4 "aws:amz:$region:ssm" \
            -H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Target: AmazonSSM.GetParameter' \
            --data "$body" "$ssm/") || return 1
    printf '%s' "$response" | json_field Parameter Value
}

fetch_to() { # NAME FILE
    get_parameter "$1" > "$2"
}

retry() { # CMD...: IAM credentials and SSM can lag behind first boot
    n=1
    until "$@"; do
        if [ "$n" -ge "$attempts" ]; then return 1; fi
        sleep $((n < 10 ? n : 10))
        n=$((n + 1))
    done
}

[ -r "$manifest" ] || { log "cannot read manifest $manifest"; exit 1; }
retry load_credentials || { log "no instance role credentials from $imds after $attempts tries"; exit 1; }
region=$(imds_get meta-data/placement/region) || { log "no region from instance metadata"; exit 1; }
ssm=${INSTAGRAM_SSM_ENDPOINT:-https://ssm.$region.amazonaws.com}

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

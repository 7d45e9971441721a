#!/bin/sh
# Shared by the instagram-* scripts that call AWS at boot (sourced, not run): instance-role credentials from
# IMDSv2 and a retry with back-off. No AWS CLI is needed; requests are signed by curl's --aws-sigv4.
# Callers set LOG_NAME. Overrides (tests and the boot test only): INSTAGRAM_IMDS_ENDPOINT,
# INSTAGRAM_SSM_ENDPOINT, INSTAGRAM_FETCH_ATTEMPTS (default 30, with back-off up to 10 s between tries).
# shellcheck disable=SC2034  # access_key, secret_key, session_token and region are read by the callers
imds=${INSTAGRAM_IMDS_ENDPOINT:-http://169.254.169.254}
attempts=${INSTAGRAM_FETCH_ATTEMPTS:-30}

log() { echo "${LOG_NAME:-instagram}: $*" >&2; }

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

load_credentials() { # sets access_key, secret_key, session_token
    role=$(imds_get meta-data/iam/security-credentials/) || return 1
    role=$(echo "$role" | head -n 1)
    [ -n "$role" ] || return 1
    creds=$(imds_get "meta-data/iam/security-credentials/$role") || return 1
    access_key=$(printf '%s' "$creds" | json_field AccessKeyId) || return 1
    secret_key=$(printf '%s' "$creds" | json_field SecretAccessKey) || return 1
    session_token=$(printf '%s' "$creds" | json_field Token) || return 1
}

# The curl config that signs a request: given on stdin (-K -), so no credential is in argv or the environment.
signing_config() {
    printf 'user = "%s:%s"\nheader = "x-amz-security-token: %s"\n' "$access_key" "$secret_key" "$session_token"
}

retry() { # CMD...: IAM credentials, SSM and S3 can lag behind first boot
    n=1
    until "$@"; do
        if [ "$n" -ge "$attempts" ]; then return 1; fi
        sleep $((n < 10 ? n : 10))
        n=$((n + 1))
    done
}

# Credentials, the region and the SSM endpoint, or exit with a message naming the endpoint.
aws_setup() {
    retry load_credentials || { log "no instance role credentials from $imds after $attempts tries"; exit 1; }
    region=$(imds_get meta-data/placement/region) || { log "no region from instance metadata"; exit 1; }
    ssm=${INSTAGRAM_SSM_ENDPOINT:-https://ssm.$region.amazonaws.com}
}

ssm_get_parameter() { # NAME: print the parameter's value (decrypted when it is a SecureString)
    body=$(printf '{"Name":"%s","WithDecryption":true}' "$1")
    response=$(signing_config |
        curl -sf --max-time 10 -K - --aws-sigv4 "aws:amz:$region:ssm" \
            -H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Target: AmazonSSM.GetParameter' \
            --data "$body" "$ssm/") || return 1
    printf '%s' "$response" | json_field Parameter Value
}

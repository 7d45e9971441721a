#!/bin/sh
# shellcheck disable=SC2317  # functions run through retry(), which shellcheck cannot follow
# Download one S3 object with the instance role's credentials (IMDSv2), signed by curl's SigV4.
#
# usage: instagram-s3-get s3://BUCKET/KEY DEST
# The object is written to a temporary file beside DEST and renamed, so DEST is whole or absent.
# Overrides (tests and the boot test only): INSTAGRAM_S3_ENDPOINT (path-style, e.g. http://127.0.0.1:9000),
# INSTAGRAM_AWS_LIB, and aws-lib.sh's.
set -eu

usage="usage: instagram-s3-get s3://BUCKET/KEY DEST"
url=${1:?$usage}
dest=${2:?$usage}
LOG_NAME=s3-get
# shellcheck source=aws-lib.sh
. "${INSTAGRAM_AWS_LIB:-/usr/local/lib/instagram/aws-lib.sh}"

case "$url" in
    s3://?*/?*) ;;
    *) log "not an s3://BUCKET/KEY url: $url"; exit 2 ;;
esac
location=${url#s3://}
bucket=${location%%/*}
key=${location#*/}

aws_setup
if [ -n "${INSTAGRAM_S3_ENDPOINT:-}" ]; then
    object="$INSTAGRAM_S3_ENDPOINT/$bucket/$key"
else
    object="https://$bucket.s3.$region.amazonaws.com/$key"
fi

get_object() {
    # S3 wants the payload hash signed; a GET's payload is empty. Given explicitly because older curl
    # releases do not add it themselves.
    signing_config | curl -sf --max-time 300 -K - --aws-sigv4 "aws:amz:$region:s3" \
        -H 'x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
        -o "$tmp" "$object"
}

tmp=$(mktemp "$(dirname "$dest")/.s3-get.XXXXXX")
trap 'rm -f "$tmp"' EXIT
if ! retry get_object; then
    log "could not download $url from $object after $attempts tries"
    exit 1
fi
mv -f "$tmp" "$dest"
trap - EXIT
log "downloaded $url to $dest"

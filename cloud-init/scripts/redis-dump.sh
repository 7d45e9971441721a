#!/bin/sh
# shellcheck disable=SC2317  # functions run through retry(), which shellcheck cannot follow
# A point-in-time copy of this Redis host's data, kept off the host: BGSAVE, wait for it to finish, then the
# RDB file to DEST/dump-YYYYMMDDTHHMMSSZ.rdb and DEST/latest (naming it). The timer runs it hourly on the
# host that persists: the replica (Instagram kept the primary free of the fork), or the primary when there
# is no replica.
#
# usage: instagram-redis-dump s3://BUCKET/PREFIX | DIRECTORY
# Overrides (the one-machine stack and the tests): REDIS_HOST (default 127.0.0.1), REDIS_DIR (default
# /var/lib/redis), REDIS_SECRET (the password file, default /etc/instagram/secrets/redis-auth),
# INSTAGRAM_S3_ENDPOINT (path-style), INSTAGRAM_AWS_LIB and aws-lib.sh's.
# S3 takes at most 5 GiB in one PUT, and a dump of a large host is bigger: a dump above MULTIPART_ABOVE_MIB
# (default 256) goes up as a multipart upload in parts of PART_MIB (default 256; more when 10,000 parts, S3's
# most, would not cover it; S3's least is 5 MiB but for the last), each part retried on its own, and an
# upload that fails is aborted so its parts are not kept (and billed); the bucket's lifecycle removes any that
# a killed run leaves.
set -eu

usage="usage: instagram-redis-dump s3://BUCKET/PREFIX | DIRECTORY"
dest=${1:?$usage}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_DIR=${REDIS_DIR:-/var/lib/redis}
DUMP_WAIT_SECONDS=${DUMP_WAIT_SECONDS:-3600}
LOG_NAME=redis-dump
log() { echo "$LOG_NAME: $*" >&2; }
die() { log "$*"; exit 1; }

REDISCLI_AUTH=$(cat "${REDIS_SECRET:-/etc/instagram/secrets/redis-auth}") || die "the Redis password is not readable"
export REDISCLI_AUTH
cli() { redis-cli -h "$REDIS_HOST" --no-auth-warning "$@"; }

persistence() { cli INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; } # FIELD
# Counted, not timed: LASTSAVE has a resolution of a second, and a save can finish within the one it started.
before=$(persistence rdb_saves)
[ -n "$before" ] || die "Redis on $REDIS_HOST does not answer (or is older than 7: no rdb_saves)"
# One BGSAVE at a time: when one already runs (the replica's own save), wait for it instead.
cli BGSAVE > /dev/null 2>&1 || true
waited=0
until [ "$(persistence rdb_saves)" -gt "$before" ] && [ "$(persistence rdb_bgsave_in_progress)" = 0 ]; do
    [ "$waited" -lt "$DUMP_WAIT_SECONDS" ] || die "BGSAVE did not finish within ${DUMP_WAIT_SECONDS}s"
    sleep 1
    waited=$((waited + 1))
done
status=$(persistence rdb_last_bgsave_status)
[ "$status" = ok ] || die "BGSAVE failed (rdb_last_bgsave_status:$status); see Redis's log"

# A hard link holds the file just saved even if Redis saves again meanwhile (it renames a new file in).
snapshot=$(mktemp -u "$REDIS_DIR/.instagram-dump.XXXXXX")
ln "$REDIS_DIR/dump.rdb" "$snapshot"
trap 'rm -f "$snapshot"' EXIT
name="dump-$(date -u +%Y%m%dT%H%M%SZ).rdb"
bytes=$(wc -c < "$snapshot")

case "$dest" in
    s3://?*/*)
        # shellcheck source=aws-lib.sh
        . "${INSTAGRAM_AWS_LIB:-/usr/local/lib/instagram/aws-lib.sh}"
        location=${dest#s3://}
        bucket=${location%%/*}
        prefix=${location#*/}
        prefix=${prefix%/}
        aws_setup
        base=${INSTAGRAM_S3_ENDPOINT:+$INSTAGRAM_S3_ENDPOINT/$bucket}
        base=${base:-https://$bucket.s3.$region.amazonaws.com}
        put_object() { # FILE KEY[?QUERY] [CURL_ARGS...]: a signed PUT of the file (an object, or a part of one)
            file=$1
            target=$2
            shift 2
            sha=$(sha256sum "$file" | cut -d' ' -f1)
            signing_config | curl -sf --max-time 3600 -K - --aws-sigv4 "aws:amz:$region:s3" \
                -H "x-amz-content-sha256: $sha" "$@" -T "$file" "$base/$target" > /dev/null
        }
        # METHOD URL BODY_FILE: a signed request whose body is the file's (POST and DELETE); prints the response.
        s3_call() {
            sha=$(sha256sum "$3" | cut -d' ' -f1)
            signing_config | curl -sf --max-time 600 -K - --aws-sigv4 "aws:amz:$region:s3" -X "$1" \
                -H "x-amz-content-sha256: $sha" -H "Content-Type: application/xml" --data-binary "@$3" "$2"
        }
        work=$(mktemp -d "$REDIS_DIR/.instagram-upload.XXXXXX")
        trap 'rm -f "$snapshot"; rm -rf "$work"' EXIT
        : > "$work/empty"
        upload_part() { # N: part N (from 1) of the snapshot; appends "N ETAG" to $work/etags
            dd if="$snapshot" of="$work/part" bs=1048576 skip=$((($1 - 1) * part_mib)) count="$part_mib" 2> /dev/null
            put_object "$work/part" "$key?partNumber=$1&uploadId=$upload_id" -D "$work/headers" || return 1
            etag=$(tr -d '\r' < "$work/headers" | sed -n 's/^[Ee][Tt][Aa][Gg]: *//p')
            [ -n "$etag" ] || return 1
            echo "$1 $etag" >> "$work/etags"
        }
        abort_upload() {
            s3_call DELETE "$base/$key?uploadId=$upload_id" "$work/empty" > /dev/null ||
                log "could not abort upload $upload_id of $key (the bucket's lifecycle removes its parts)"
        }
        put_multipart() { # KEY: the snapshot, in parts
            key=$1
            size_mib=$(((bytes + 1048575) / 1048576))
            part_mib=${PART_MIB:-256}
            [ $((part_mib * 10000)) -ge "$size_mib" ] || part_mib=$(((size_mib + 9999) / 10000))
            parts=$(((size_mib + part_mib - 1) / part_mib))
            upload_id=$(retry s3_call POST "$base/$key?uploads=" "$work/empty" | sed -n 's:.*<UploadId>\([^<]*\)</UploadId>.*:\1:p') || true
            [ -n "$upload_id" ] || { log "S3 did not start a multipart upload of $key"; return 1; }
            : > "$work/etags"
            # Not n: retry() counts its attempts in n (sh has no local variables).
            part_no=1
            while [ "$part_no" -le "$parts" ]; do
                retry upload_part "$part_no" || { log "part $part_no of $parts of $key failed"; abort_upload; return 1; }
                part_no=$((part_no + 1))
            done
            {
                echo "<CompleteMultipartUpload>"
                while read -r part etag; do echo "<Part><PartNumber>$part</PartNumber><ETag>$etag</ETag></Part>"; done < "$work/etags"
                echo "</CompleteMultipartUpload>"
            } > "$work/complete.xml"
            # S3 may answer 200 and still fail the completion: the result element says it worked.
            if ! retry s3_call POST "$base/$key?uploadId=$upload_id" "$work/complete.xml" | grep -q "<CompleteMultipartUploadResult"; then
                log "S3 did not complete the upload of $key"
                abort_upload
                return 1
            fi
            log "uploaded $key in $parts parts of $part_mib MiB"
        }
        if [ "$bytes" -gt $((${MULTIPART_ABOVE_MIB:-256} * 1048576)) ]; then
            put_multipart "$prefix/$name" || die "could not upload $name to $dest"
        else
            retry put_object "$snapshot" "$prefix/$name" || die "could not upload $name to $dest"
        fi
        pointer=$(mktemp)
        printf '%s\n' "$name" > "$pointer"
        retry put_object "$pointer" "$prefix/latest" || { rm -f "$pointer"; die "uploaded $name, but could not update $dest/latest"; }
        rm -f "$pointer"
        ;;
    s3://*) die "$usage" ;;
    *)
        [ -d "$dest" ] || die "$dest is not a directory"
        install -m 0640 "$snapshot" "$dest/.$name"
        mv -f "$dest/.$name" "$dest/$name"
        printf '%s\n' "$name" > "$dest/.latest"
        mv -f "$dest/.latest" "$dest/latest"
        ;;
esac
log "saved $name ($bytes bytes) to $dest"

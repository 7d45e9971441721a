#!/bin/sh
# Load a Redis dump (instagram-redis-dump's) into this host's Redis, the primary, without restarting it:
# the dump is checked (redis-check-rdb), served by a temporary redis-server on loopback, and the primary
# replicates it in full (REPLICAOF), then is a primary again (REPLICAOF NO ONE). Its replica re-syncs the
# restored data from it by itself. Writes fail while the primary loads (it is a replica for that moment),
# and the host needs memory for both copies for as long.
# A primary holding data is not replaced without --force. Sessions are not restored: the dump's would
# bring back sessions ended since (a logout, a password change), so everyone logs in again instead.
#
# usage: instagram-redis-restore SOURCE [--force]
#   SOURCE: s3://BUCKET/PREFIX or a directory (its latest dump), s3://BUCKET/PREFIX/dump-….rdb or a file.
# Overrides as instagram-redis-dump's.
set -eu

usage="usage: instagram-redis-restore s3://BUCKET/PREFIX[/dump-….rdb] | DIRECTORY | FILE [--force]"
source=${1:?$usage}
force=no
if [ "${2:-}" = --force ]; then force=yes; elif [ -n "${2:-}" ]; then echo "$usage" >&2; exit 2; fi
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_DIR=${REDIS_DIR:-/var/lib/redis}
RESTORE_WAIT_SECONDS=${RESTORE_WAIT_SECONDS:-3600}
LOG_NAME=redis-restore
log() { echo "$LOG_NAME: $*" >&2; }
die() { log "$*"; exit 1; }

REDISCLI_AUTH=$(cat "${REDIS_SECRET:-/etc/instagram/secrets/redis-auth}") || die "the Redis password is not readable"
export REDISCLI_AUTH
cli() { redis-cli -h "$REDIS_HOST" --no-auth-warning "$@"; }
info_field() { cli INFO "$1" | tr -d '\r' | sed -n "s/^$2://p"; } # SECTION FIELD

role=$(info_field replication role) || die "Redis on $REDIS_HOST does not answer"
[ "$role" = master ] || die "this Redis is a replica: restore on the primary (its replicas follow)"
keys=$(cli DBSIZE)
if [ "$keys" != 0 ] && [ "$force" = no ]; then
    die "this Redis holds $keys keys: loading the dump replaces them all. Run again with --force"
fi

work=$(mktemp -d "$REDIS_DIR/.instagram-restore.XXXXXX")
temp_pid=""
cleanup() {
    if [ -n "$temp_pid" ]; then kill "$temp_pid" 2> /dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

case "$source" in
    s3://?*/*.rdb) s3_object=$source ;;
    s3://?*/*)
        s3_object=""
        pointer="$work/latest"
        sh "${S3_GET:-/usr/local/sbin/instagram-s3-get}" "${source%/}/latest" "$pointer" || die "no latest dump under $source"
        s3_object="${source%/}/$(head -n 1 "$pointer")"
        ;;
    *) s3_object="" ;;
esac
if [ -n "$s3_object" ]; then
    sh "${S3_GET:-/usr/local/sbin/instagram-s3-get}" "$s3_object" "$work/dump.rdb" || die "could not download $s3_object"
    what=$s3_object
elif [ -d "$source" ]; then
    [ -r "$source/latest" ] || die "$source has no latest dump (instagram-redis-dump writes it)"
    what="$source/$(head -n 1 "$source/latest")"
    cp "$what" "$work/dump.rdb"
else
    [ -r "$source" ] || die "$source is not a readable dump"
    what=$source
    cp "$source" "$work/dump.rdb"
fi
redis-check-rdb "$work/dump.rdb" > "$work/check.log" 2>&1 || die "$what is not a sound RDB file: $(tail -n 3 "$work/check.log")"
chown -R redis:redis "$work"

# The temporary server: loopback only, the same password (the primary authenticates to it with its
# masterauth), nothing saved.
port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 20000))
auth_include=${REDIS_AUTH_CONF:-/etc/redis/auth.conf}
printf 'bind 127.0.0.1\nport %s\ndir %s\ndbfilename dump.rdb\nsave ""\nappendonly no\ndaemonize no\ninclude %s\n' "$port" "$work" "$auth_include" > "$work/redis.conf"
chown redis:redis "$work/redis.conf"
runuser -u redis -- redis-server "$work/redis.conf" > "$work/server.log" 2>&1 &
temp_pid=$!
waited=0
until [ "$(redis-cli -h 127.0.0.1 -p "$port" --no-auth-warning PING 2> /dev/null)" = PONG ]; do
    kill -0 "$temp_pid" 2> /dev/null || die "the temporary redis-server did not start: $(tail -n 3 "$work/server.log")"
    [ "$waited" -lt "$RESTORE_WAIT_SECONDS" ] || die "the temporary redis-server did not load $what within ${RESTORE_WAIT_SECONDS}s"
    sleep 1
    waited=$((waited + 1))
done
temp_cli() { redis-cli -h 127.0.0.1 -p "$port" --no-auth-warning "$@"; }
for pattern in 'session:*' 'sessions:*'; do
    temp_cli --scan --pattern "$pattern" | xargs -r -n 500 redis-cli -h 127.0.0.1 -p "$port" --no-auth-warning UNLINK > /dev/null
done
loaded=$(temp_cli DBSIZE)
log "loading $what ($loaded keys) into the primary, replacing its $keys keys"

cli REPLICAOF 127.0.0.1 "$port" > /dev/null
waited=0
until [ "$(info_field replication master_link_status)" = up ] && [ "$(info_field replication master_sync_in_progress)" = 0 ]; do
    if [ "$waited" -ge "$RESTORE_WAIT_SECONDS" ]; then
        cli REPLICAOF NO ONE > /dev/null
        die "the primary did not finish loading within ${RESTORE_WAIT_SECONDS}s; it is a primary again, holding what it loaded"
    fi
    sleep 1
    waited=$((waited + 1))
done
cli REPLICAOF NO ONE > /dev/null
now=$(cli DBSIZE)
[ "$now" = "$loaded" ] || die "the primary holds $now keys after loading $loaded"
log "restored $what: the primary holds $now keys and takes writes; its replica re-syncs from it"

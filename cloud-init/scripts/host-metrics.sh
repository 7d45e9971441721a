#!/bin/sh
# shellcheck disable=SC2317  # functions run through retry(), which shellcheck cannot follow
# What EC2 cannot see from outside a host, published to CloudWatch for the host's alarms: its timer runs this
# once a minute. No agent: a PutMetricData request signed by curl's --aws-sigv4 with the instance role's
# credentials (aws-lib.sh), into the stack's own namespace (the role may write there only).
#
# usage: instagram-host-metrics [--print] COLLECTOR...
#   data      the /data volume: DataVolumeUsedPercent (df), DataVolumeIoBusyPercent (the share of a short
#             sample the array's device was busy, from /proc/diskstats)
#   postgres  ReplicationLagSeconds on a standby (0 when it has replayed all it received while streaming,
#             else the age of the last transaction it replayed), WalArchiveLagSeconds on a primary that
#             archives (the age of the oldest WAL segment still waiting for archive_command; 0 when none is)
#   redis     RedisMemoryUsedPercent (used_memory of maxmemory, or of the host's memory without a limit)
#   gearman   GearmanQueuedJobs (jobs queued and running, all functions)
# --print writes "NAME UNIT VALUE" lines instead of publishing (and needs no AWS).
# Config: /etc/instagram/host-metrics.env sets METRICS_NAMESPACE and METRICS_HOST (the Host dimension).
# Overrides (tests): HOST_METRICS_ENV, INSTAGRAM_CLOUDWATCH_ENDPOINT, DATA_DIR (default /data),
# IO_SAMPLE_SECONDS (default 5), PSQL (the psql command line; default runuser -u postgres -- psql),
# REDIS_HOST (default 127.0.0.1), REDIS_SECRET, GEARMAN_HOST (default the private address, from IMDS), GEARMAN_PORT,
# INSTAGRAM_AWS_LIB and aws-lib.sh's.
set -eu
LOG_NAME="host-metrics"
log() { echo "$LOG_NAME: $*" >&2; }
usage="usage: instagram-host-metrics [--print] data|postgres|redis|gearman..."

print=no
if [ "${1:-}" = --print ]; then print=yes; shift; fi
[ $# -gt 0 ] || { log "$usage"; exit 2; }
env_file=${HOST_METRICS_ENV:-/etc/instagram/host-metrics.env}
# shellcheck disable=SC1090
[ ! -r "$env_file" ] || . "$env_file"

metrics=""
add() { # NAME UNIT VALUE
    case $3 in
        ''|*[!0-9.]*) log "$1: no value ('$3'), not published"; return 0 ;;
    esac
    metrics="$metrics$1 $2 $3
"
}

collect_data() {
    dir=${DATA_DIR:-/data}
    add DataVolumeUsedPercent Percent "$(df -P "$dir" | awk 'NR == 2 { sub("%", "", $5); print $5 }')"
    device=$(findmnt -no SOURCE --target "$dir" 2>/dev/null || true)
    # /dev/md/pgdata is a link to the kernel's name (md127), which /proc/diskstats uses.
    [ -z "$device" ] || [ ! -e "$device" ] || device=$(readlink -f "$device")
    name=${device##*/}
    ticks() { awk -v d="$name" '$3 == d { print $13 }' /proc/diskstats; }
    before=$(ticks)
    if [ -z "$name" ] || [ -z "$before" ]; then
        log "$dir is not on a block device in /proc/diskstats ($device): no IO figure"
        return 0
    fi
    seconds=${IO_SAMPLE_SECONDS:-5}
    sleep "$seconds"
    after=$(ticks)
    add DataVolumeIoBusyPercent Percent "$(awk -v a="$before" -v b="$after" -v s="$seconds" 'BEGIN { p = (b - a) / (s * 10); if (p > 100) p = 100; printf "%.1f", p }')"
}

collect_postgres() {
    # shellcheck disable=SC2086  # PSQL is a command line, split on purpose
    q() { ${PSQL:-runuser -u postgres -- psql} -XtAq -c "$1"; }
    recovery=$(q "SELECT pg_is_in_recovery()") || { log "PostgreSQL does not answer"; return 0; }
    if [ "$recovery" = t ]; then
        add ReplicationLagSeconds Seconds "$(q "SELECT round(CASE WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END, 1)")"
    elif [ "$(q "SHOW archive_mode")" != off ]; then
        add WalArchiveLagSeconds Seconds "$(q "SELECT round(COALESCE(EXTRACT(EPOCH FROM now() - min(modification)), 0), 1) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'")"
    fi
}

collect_redis() {
    REDISCLI_AUTH=$(cat "${REDIS_SECRET:-/etc/instagram/secrets/redis-auth}") || { log "the Redis password is not readable"; return 0; }
    export REDISCLI_AUTH
    info=$(redis-cli -h "${REDIS_HOST:-127.0.0.1}" --no-auth-warning INFO memory | tr -d '\r') || { log "Redis does not answer"; return 0; }
    used=$(printf '%s\n' "$info" | sed -n 's/^used_memory://p')
    limit=$(printf '%s\n' "$info" | sed -n 's/^maxmemory://p')
    [ "${limit:-0}" -gt 0 ] || limit=$(awk '/^MemTotal:/ { print $2 * 1024 }' /proc/meminfo)
    add RedisMemoryUsedPercent Percent "$(awk -v u="$used" -v l="$limit" 'BEGIN { printf "%.1f", 100 * u / l }')"
}

collect_gearman() {
    # gearmand listens on the private address only (the gearman role): the instance's, from IMDS.
    host=${GEARMAN_HOST:-}
    if [ -z "$host" ]; then
        # shellcheck source=aws-lib.sh
        . "${INSTAGRAM_AWS_LIB:-/usr/local/lib/instagram/aws-lib.sh}"
        host=$(imds_get meta-data/local-ipv4) || { log "no private address from instance metadata"; return 0; }
    fi
    status=$(gearadmin -h "$host" -p "${GEARMAN_PORT:-4730}" --status) || { log "gearmand does not answer on $host"; return 0; }
    add GearmanQueuedJobs Count "$(printf '%s\n' "$status" | awk -F '\t' 'NF == 4 && $1 != "" { n += $2 } END { print n + 0 }')"
}

for collector in "$@"; do
    case $collector in
        data|postgres|redis|gearman) "collect_$collector" ;;
        *) log "unknown collector '$collector'; $usage"; exit 2 ;;
    esac
done

if [ "$print" = yes ]; then
    printf '%s' "$metrics"
    exit 0
fi
[ -n "$metrics" ] || { log "nothing to publish"; exit 0; }
: "${METRICS_NAMESPACE:?METRICS_NAMESPACE is not set (in $env_file)}" "${METRICS_HOST:?METRICS_HOST is not set (in $env_file)}"

# shellcheck source=aws-lib.sh
. "${INSTAGRAM_AWS_LIB:-/usr/local/lib/instagram/aws-lib.sh}"
aws_setup
endpoint=${INSTAGRAM_CLOUDWATCH_ENDPOINT:-https://monitoring.$region.amazonaws.com}

# The Query API's form: one member per metric, each with its Host dimension.
set -- --data-urlencode "Action=PutMetricData" --data-urlencode "Version=2010-08-01" --data-urlencode "Namespace=$METRICS_NAMESPACE"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
printf '%s' "$metrics" >"$list"
# (count, not n: aws-lib.sh's retry() uses n.)
count=0
while read -r name unit value; do
    count=$((count + 1))
    m="MetricData.member.$count"
    set -- "$@" --data-urlencode "$m.MetricName=$name" --data-urlencode "$m.Unit=$unit" --data-urlencode "$m.Value=$value" \
        --data-urlencode "$m.Dimensions.member.1.Name=Host" --data-urlencode "$m.Dimensions.member.1.Value=$METRICS_HOST"
done <"$list"

put() { signing_config | curl -sf --max-time 10 -K - --aws-sigv4 "aws:amz:$region:monitoring" "$@" "$endpoint/" >/dev/null; }
attempts=3
retry put "$@" || { log "PutMetricData to $endpoint failed after $attempts tries"; exit 1; }
log "published $count metrics to $METRICS_NAMESPACE for $METRICS_HOST"

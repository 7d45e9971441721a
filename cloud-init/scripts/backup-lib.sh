#!/bin/sh
# pgBackRest on a shard host, shared by instagram-shard-postgres (boot: configure, restore onto blank
# volumes, first backup), instagram-shard-backup (the timers) and instagram-shard-restore (point in time).
# Sourced after the shard's env file (BACKUP_STANZA, BACKUP_CONF_DIR and the paths below) and after the
# sourcing script has defined log, die and as_postgres.
# The one-machine stack and the tests point BACKUP_CONF_DIR, BACKUP_SPOOL_DIR, BACKUP_LOG_DIR and
# BACKUP_LOCK_DIR at the host's own directory; PGHOST, when set, is the PostgreSQL socket directory.
# Overrides (tests and the boot test only) for an S3 repository: INSTAGRAM_BACKUP_S3_ENDPOINT (HOST:PORT of
# an S3 stand-in, path-style, its certificate not verified) and INSTAGRAM_BACKUP_S3_CREDENTIALS
# (KEY:SECRET[:TOKEN], instead of the instance profile's; pgBackRest asks only 169.254.169.254 for those).

: "${BACKUP_STANZA:?}" "${BACKUP_CONF_DIR:?}"
BACKUP_SPOOL_DIR=${BACKUP_SPOOL_DIR:-/var/spool/pgbackrest}
BACKUP_LOG_DIR=${BACKUP_LOG_DIR:-/var/log/pgbackrest}
BACKUP_LOCK_DIR=${BACKUP_LOCK_DIR:-/tmp/pgbackrest}
# How long a restore may take to replay WAL up to its target before it is called failed.
RESTORE_WAIT_SECONDS=${RESTORE_WAIT_SECONDS:-86400}

backrest() { as_postgres pgbackrest --config-path="$BACKUP_CONF_DIR" --stanza="$BACKUP_STANZA" "$@"; }

# CIPHER_PASS DATADIR: install the role's pgbackrest.conf and write this host's part: the data directory and
# socket, the paths, and the repository passphrase (readable by postgres only, never in user data).
write_backup_conf() {
    install -d -o postgres -g postgres -m 0750 "$BACKUP_CONF_DIR" "$BACKUP_CONF_DIR/conf.d" "$BACKUP_SPOOL_DIR" "$BACKUP_LOG_DIR" "$BACKUP_LOCK_DIR"
    install -o postgres -g postgres -m 0640 "$CONF_SRC/pgbackrest.conf" "$BACKUP_CONF_DIR/pgbackrest.conf"
    (
        umask 077
        printf '[global]\nrepo1-cipher-pass=%s\n' "$1" > "$BACKUP_CONF_DIR/conf.d/cipher.conf.new"
        {
            printf '[global]\nspool-path=%s\nlog-path=%s\nlock-path=%s\n' "$BACKUP_SPOOL_DIR" "$BACKUP_LOG_DIR" "$BACKUP_LOCK_DIR"
            if [ -n "${BACKUP_S3_ENDPOINT:-}" ]; then backup_s3_settings; fi
            printf '\n[%s]\npg1-path=%s\npg1-socket-path=%s\n' "$BACKUP_STANZA" "$2" "${PGHOST:-/var/run/postgresql}"
        } > "$BACKUP_CONF_DIR/conf.d/host.conf.new"
    )
    for f in cipher host; do
        chown postgres:postgres "$BACKUP_CONF_DIR/conf.d/$f.conf.new"
        chmod 0600 "$BACKUP_CONF_DIR/conf.d/$f.conf.new"
        mv -f "$BACKUP_CONF_DIR/conf.d/$f.conf.new" "$BACKUP_CONF_DIR/conf.d/$f.conf"
    done
}

# The S3 endpoint and credentials pgBackRest uses: the region's endpoint and the instance profile on a host.
backup_s3_settings() {
    if [ -n "${INSTAGRAM_BACKUP_S3_ENDPOINT:-}" ]; then
        printf 'repo1-s3-endpoint=%s\nrepo1-storage-port=%s\nrepo1-s3-uri-style=path\nrepo1-storage-verify-tls=n\n' \
            "${INSTAGRAM_BACKUP_S3_ENDPOINT%:*}" "${INSTAGRAM_BACKUP_S3_ENDPOINT##*:}"
    else
        printf 'repo1-s3-endpoint=%s\n' "$BACKUP_S3_ENDPOINT"
    fi
    if [ -n "${INSTAGRAM_BACKUP_S3_CREDENTIALS:-}" ]; then
        creds=$INSTAGRAM_BACKUP_S3_CREDENTIALS
        printf 'repo1-s3-key-type=shared\nrepo1-s3-key=%s\n' "${creds%%:*}"
        creds=${creds#*:}
        printf 'repo1-s3-key-secret=%s\n' "${creds%%:*}"
        case "$creds" in *:*) printf 'repo1-s3-token=%s\n' "${creds#*:}" ;; esac
    else
        printf 'repo1-s3-key-type=auto\n'
    fi
}

# The repository's JSON summary of the stanza (pgbackrest info), or a failure when it cannot be read.
backup_info_json() { backrest --output=json info; }

# What the repository holds of this shard: "none" (no stanza and no WAL archive: the shard has never run,
# since the first boot creates its stanza before serving), "no-backup" (a stanza or an archive, but no backup
# to restore) or "backup". Dies when the repository cannot be read: an unreachable bucket must never look
# like a new shard.
backup_repo_state() {
    json=$(backup_info_json) || die "cannot read shard $BACKUP_STANZA's backup repository (pgbackrest info failed; see $BACKUP_LOG_DIR)"
    state=$(printf '%s' "$json" | python3 -c '
import json, sys
stanza = json.load(sys.stdin)[0]
code = stanza["status"]["code"]
if code == 1: print("none")
elif code == 0 and stanza.get("backup"): print("backup")
elif code in (0, 2, 3): print("no-backup")
else: sys.exit(" / ".join(r["status"]["message"] for r in stanza.get("repo", [])) or stanza["status"]["message"])
') || die "cannot read shard $BACKUP_STANZA's backup repository (pgbackrest info says so above)"
    if [ "$state" = none ]; then
        # pgBackRest calls a stanza missing when its backup path is; the WAL archive may still be there.
        for area in archive backup; do
            listing=$(backrest repo-ls "$area") || die "cannot list $area/ in $BACKUP_STANZA's backup repository"
            if printf '%s\n' "$listing" | grep -qx "$BACKUP_STANZA"; then state=no-backup; fi
        done
    fi
    echo "$state"
}

# SECONDS: wait until the local cluster (PG_VERSION's main) has finished recovery: a restore has reached
# its target and promoted. Dies at once if PostgreSQL stops (a target it cannot reach ends recovery with a
# FATAL), or after SECONDS.
wait_until_promoted() {
    waited=0
    until [ "$(as_postgres psql -X -A -t -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do
        pg_ctlcluster "$PG_VERSION" main status > /dev/null 2>&1 || die "PostgreSQL stopped during the restore's recovery; its log says why (pg_lsclusters names it)"
        [ "$waited" -lt "$1" ] || die "PostgreSQL is still recovering after ${1}s (see its log); the restore has not finished"
        sleep 1
        waited=$((waited + 1))
    done
}

# The settings pgBackRest's restore wrote into postgresql.auto.conf: inert after the promotion, but a standby
# cloned from this primary would copy them and stop replaying at the old target. Removed once promoted.
reset_recovery_settings() {
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres \
        -c 'ALTER SYSTEM RESET restore_command' -c 'ALTER SYSTEM RESET recovery_target_time' \
        -c 'ALTER SYSTEM RESET recovery_target_action' -c 'ALTER SYSTEM RESET recovery_target' \
        -c 'ALTER SYSTEM RESET recovery_target_timeline' -c 'SELECT pg_reload_conf()' > /dev/null
}

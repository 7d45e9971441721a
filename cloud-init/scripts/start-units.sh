#!/bin/sh
# Starts a role's units at first boot against a deadline the role owns. `systemctl restart` used to block on
# each unit under systemd's default 90 s start timeout, and a slow CPU (a t3 host out of CPU credits, the VM
# boot test under emulation) can take longer than that to start a daemon that is fine: munin-node runs every
# plugin's `config` before it reports ready. A failed runcmd is a failed boot, a page and a replaced host.
#
# usage: instagram-start-units [--deadline SECONDS] UNIT... [--optional UNIT...]
# Every service among them gets TimeoutStartSec=SECONDS (a drop-in, kept for restarts on the same slow CPU);
# all are restarted at once without blocking, and each must be active within SECONDS. Those that failed or
# did not get there are restarted once more and given SECONDS again. A required unit that still is not
# active fails the boot (exit 1); an optional one (Munin's node: the host serves without it) is reported as
# degraded, on stderr (cloud-init's log, the console) and in /var/lib/instagram/degraded-units, and the boot
# goes on (systemd keeps restarting it if its unit says so). Default deadline 300 s.
# Overrides (tests): SYSTEMCTL (the systemctl command), START_UNITS_DROPIN_DIR (default /etc/systemd/system),
# DEGRADED_FILE, POLL_S (default 2).
set -eu
LOG_NAME="start-units"
log() { echo "$LOG_NAME: $*" >&2; }
usage="usage: instagram-start-units [--deadline SECONDS] UNIT... [--optional UNIT...]"

deadline=300
if [ "${1:-}" = --deadline ]; then
    [ $# -ge 2 ] || { log "--deadline needs a value; $usage"; exit 2; }
    deadline=$2
    shift 2
fi
case $deadline in
    '' | *[!0-9]* | 0*) log "--deadline must be a whole number of seconds above 0, not '$deadline'"; exit 2 ;;
esac
required=""
optional=""
kind=required
for unit in "$@"; do
    case $unit in
        --optional) kind=optional; continue ;;
        '' | -* | */* | *[!A-Za-z0-9:_.@-]*) log "not a unit name: '$unit'; $usage"; exit 2 ;;
        *.*) ;;
        *) unit=$unit.service ;;
    esac
    if [ $kind = required ]; then required="$required $unit"; else optional="$optional $unit"; fi
done
[ -n "$required$optional" ] || { log "no unit to start; $usage"; exit 2; }
systemctl=${SYSTEMCTL:-systemctl}
dropins=${START_UNITS_DROPIN_DIR:-/etc/systemd/system}
degraded_file=${DEGRADED_FILE:-/var/lib/instagram/degraded-units}
poll=${POLL_S:-2}

for unit in $required $optional; do
    case $unit in *.service) ;; *) continue ;; esac
    mkdir -p "$dropins/$unit.d"
    printf '[Service]\nTimeoutStartSec=%s\n' "$deadline" >"$dropins/$unit.d/instagram-start-deadline.conf"
done
$systemctl daemon-reload

# One attempt: restart the units without blocking, wait for each until the shared deadline, and print the
# ones that are not active. A unit is settled once no job of it is queued and it is active, failed or
# inactive: "activating" without a job is a unit between two of its own restarts (Restart=), still trying.
attempt() {
    for unit in "$@"; do $systemctl restart --no-block "$unit" >&2 || true; done
    end=$(($(date +%s) + deadline))
    for unit in "$@"; do
        while :; do
            state=$($systemctl is-active "$unit" 2>/dev/null || true)
            if [ -z "$($systemctl list-jobs --no-legend "$unit" 2>/dev/null || true)" ]; then
                case $state in
                    active) break ;;
                    failed | inactive) echo "$unit"; break ;;
                esac
            fi
            [ "$(date +%s)" -lt "$end" ] || { echo "$unit"; break; }
            sleep "$poll"
        done
    done
}

# shellcheck disable=SC2086  # unit lists, split on purpose
failed=$(attempt $required $optional)
if [ -n "$failed" ]; then
    log "not active within $deadline s: $(printf '%s\n' "$failed" | paste -sd ' '); restarting once more"
    for unit in $failed; do $systemctl reset-failed "$unit" >&2 2>/dev/null || true; done
    # shellcheck disable=SC2086
    failed=$(attempt $failed)
fi

status=0
for unit in $failed; do
    $systemctl status --no-pager --lines 20 "$unit" >&2 || true
    case " $optional " in
        *" $unit "*)
            log "DEGRADED: $unit (optional) is not active after two starts of $deadline s; the boot goes on without it"
            mkdir -p "$(dirname "$degraded_file")"
            echo "$unit" >>"$degraded_file"
            ;;
        *)
            log "$unit is not active after two starts of $deadline s"
            status=1
            ;;
    esac
done
[ -n "$failed" ] || log "started:$required$optional"
exit $status

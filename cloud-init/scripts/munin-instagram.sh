#!/bin/sh
# Munin plugin for the app server's counters: link it as instagram_<counter> for each of core/app-contract.ts's
# APP_COUNTERS (requests, uploads, signups, logins, login_failures, likes, comments), and as instagram_jobs
# and instagram_push where job workers run (their stats file: /run/instagram-work/stats; instagram_push graphs
# notifications sent, failed and dead tokens removed, per minute). The app's master writes running totals to a stats file ("requests 1234" per line);
# Munin's DERIVE turns them into per-second rates, as Instagram graphed signups and photos.
# Config (plugin-conf.d): env.statsfile (default /run/instagram-app/stats).
set -eu
stats=${statsfile:-/run/instagram-app/stats}
counter=${0##*/instagram_}
case "$counter" in
    requests) title="HTTP requests"; label="requests" ;;
    uploads) title="Photo uploads"; label="uploads" ;;
    signups) title="Signups"; label="signups" ;;
    logins) title="Logins"; label="logins" ;;
    login_failures) title="Failed logins"; label="failed_logins" ;;
    likes) title="Likes"; label="likes" ;;
    comments) title="Comments"; label="comments" ;;
    jobs) title="Jobs run (instagram-app work)"; label="jobs" ;;
    push) title="Push notifications"; label="" ;;
    *) echo "unknown counter $counter (link this plugin as instagram_requests, _uploads, _signups, _logins, _login_failures, _likes, _comments, _jobs or _push)" >&2; exit 1 ;;
esac

# The value of one counter in the stats file (see below for U and 0).
value_of() {
    if [ -r "$stats" ]; then
        awk -v k="$1" '$1 == k && $2 ~ /^[0-9]+$/ { print $2; found = 1 } END { if (!found) print 0 }' "$stats"
    else
        echo U
    fi
}

# field:label pairs of the graph (labels with _ for spaces), and the rate's unit: one counter per second, or push's three per minute.
fields="$counter:$label"
period=second
if [ "$counter" = push ]; then
    fields="push_sent:sent push_failed:failed push_tokens_removed:dead_tokens_removed"
    period=minute
fi

if [ "${1:-}" = autoconf ]; then
    if [ -r "$stats" ]; then echo yes; else echo "no ($stats not readable)"; fi
    exit 0
fi
if [ "${1:-}" = config ]; then
    echo "graph_title Instagram $title per $period"
    echo "graph_category instagram"
    echo "graph_vlabel per $period"
    echo "graph_period $period"
    echo "graph_args --base 1000 -l 0"
    for f in $fields; do
        echo "${f%%:*}.label $(echo "${f#*:}" | tr _ ' ')"
        echo "${f%%:*}.type DERIVE"
        echo "${f%%:*}.min 0"
    done
    exit 0
fi
for f in $fields; do echo "${f%%:*}.value $(value_of "${f%%:*}")"; done

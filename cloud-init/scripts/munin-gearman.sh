#!/bin/sh
# Munin plugin for a gearmand job server, from its admin protocol (`gearadmin --status`: one line per
# function, FUNCTION TOTAL RUNNING AVAILABLE_WORKERS). Link it as gearman_queue (jobs queued per function,
# running ones included) or gearman_workers (workers registered per function).
# Config (plugin-conf.d): env.host (default 127.0.0.1), env.port (default 4730).
set -eu
host=${host:-127.0.0.1}
port=${port:-4730}
graph=${0##*/gearman_}
case "$graph" in
    queue) title="Gearman jobs queued"; vlabel="jobs"; column=2 ;;
    workers) title="Gearman workers"; vlabel="workers"; column=4 ;;
    *) echo "unknown graph $graph (link this plugin as gearman_queue or gearman_workers)" >&2; exit 1 ;;
esac

status() {
    gearadmin -h "$host" -p "$port" --status 2>/dev/null | awk -F '\t' 'NF == 4 && $1 != "" { print }'
}
# A Munin field name: letters, digits and _ only, not starting with a digit.
field() {
    printf '%s' "$1" | sed 's/[^A-Za-z0-9_]/_/g; s/^[0-9]/_&/'
}

if [ "${1:-}" = autoconf ]; then
    if gearadmin -h "$host" -p "$port" --status >/dev/null 2>&1; then echo yes; else echo "no (gearmand does not answer on $host:$port)"; fi
    exit 0
fi
if [ "${1:-}" = config ]; then
    echo "graph_title $title"
    echo "graph_category gearman"
    echo "graph_vlabel $vlabel"
    echo "graph_args --base 1000 -l 0"
    status | while IFS="$(printf '\t')" read -r fn _; do
        name=$(field "$fn")
        echo "$name.label $fn"
        echo "$name.min 0"
    done
    exit 0
fi
status | while IFS="$(printf '\t')" read -r fn total _running workers; do
    name=$(field "$fn")
    if [ "$column" = 2 ]; then value=$total; else value=$workers; fi
    echo "$name.value $value"
done

#!/bin/sh
# Write Redis's AUTH settings from the password fetch-secrets wrote: the server requires it, and a replica
# uses it to authenticate to its primary.
# usage: redis-auth SECRET_FILE OUTPUT_FILE
set -eu
secret_file=${1:?usage: redis-auth SECRET_FILE OUTPUT_FILE}
out=${2:?usage: redis-auth SECRET_FILE OUTPUT_FILE}
password=$(cat "$secret_file")
printf '%s' "$password" | grep -Eq '^[A-Za-z0-9]{16,128}$' || { echo "redis-auth: $secret_file is not 16-128 letters and digits" >&2; exit 1; }
umask 077
printf 'requirepass %s\nmasterauth %s\n' "$password" "$password" > "$out.new"
chown redis:redis "$out.new" 2>/dev/null || true
chmod 0600 "$out.new"
mv -f "$out.new" "$out"

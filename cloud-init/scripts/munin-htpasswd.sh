#!/bin/sh
# Write nginx's basic-auth file for Munin's web pages from the password fetch-secrets wrote.
# usage: munin-htpasswd SECRET_FILE OUTPUT_FILE
set -eu
secret_file=${1:?usage: munin-htpasswd SECRET_FILE OUTPUT_FILE}
out=${2:?usage: munin-htpasswd SECRET_FILE OUTPUT_FILE}
grep -Eq '^[A-Za-z0-9]{16,128}$' "$secret_file" || { echo "munin-htpasswd: $secret_file is not 16-128 letters and digits" >&2; exit 1; }
umask 027
hash=$(openssl passwd -apr1 -stdin < "$secret_file")
printf 'munin:%s\n' "$hash" > "$out.new"
chown root:www-data "$out.new" 2>/dev/null || true
chmod 0640 "$out.new"
mv -f "$out.new" "$out"

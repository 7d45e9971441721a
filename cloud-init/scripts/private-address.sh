#!/bin/sh
# Render a config template with this instance's private IPv4 address (from IMDSv2), so a daemon listens
# on the private address only. Replaces every @PRIVATE_IP@ in TEMPLATE and writes OUTPUT atomically.
# usage: private-address TEMPLATE OUTPUT        Override for tests: INSTAGRAM_IMDS_ENDPOINT
set -eu
template=${1:?usage: private-address TEMPLATE OUTPUT}
out=${2:?usage: private-address TEMPLATE OUTPUT}
imds=${INSTAGRAM_IMDS_ENDPOINT:-http://169.254.169.254}
token=$(curl -sf --retry 10 --retry-connrefused --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/latest/api/token")
ip=$(curl -sf --retry 10 --max-time 5 -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/local-ipv4")
echo "$ip" | grep -Eq '^[0-9]{1,3}(\.[0-9]{1,3}){3}$' || { echo "private-address: instance metadata gave no IPv4 address ($ip)" >&2; exit 1; }
sed "s/@PRIVATE_IP@/$ip/g" "$template" > "$out.new"
chmod --reference="$template" "$out.new"
chown --reference="$template" "$out.new"
mv -f "$out.new" "$out"

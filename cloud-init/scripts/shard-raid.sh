#!/bin/sh
# Bring up a shard's data array from its EBS volumes, safely, on every boot of every instance:
#   1. wait (bounded) for each volume, found by its NVMe serial (the volume ID without the hyphen), since
#      volumes attached by VolumeAttachment arrive after the instance boots;
#   2. if the disks carry the array already (a replaced or rebooted host), assemble it - never create;
#      if they are all blank, create RAID 0 or 10; anything else (some disks blank, a foreign filesystem,
#      two arrays) stops the boot with a message, touching nothing;
#   3. record the array in mdadm.conf and the initramfs, so it keeps its name across reboots;
#   4. make XFS with the stripe geometry if the array is new, mount it noatime,nofail, and add it to fstab.
#
# Input (environment): VOLUME_IDS ("vol-0abc vol-0def ..."), RAID_LEVEL (0|10), MOUNT_POINT.
# Tunables: WAIT_SECONDS (default 600), CHUNK_KIB (default 256), MD_DEVICE (default /dev/md/pgdata).
# The tools and paths below can be pointed elsewhere; only the tests do that (this machine has no md driver).
set -eu

: "${VOLUME_IDS:?VOLUME_IDS is required}" "${RAID_LEVEL:?RAID_LEVEL is required}" "${MOUNT_POINT:?MOUNT_POINT is required}"
WAIT_SECONDS=${WAIT_SECONDS:-600}
CHUNK_KIB=${CHUNK_KIB:-256}
MD_DEVICE=${MD_DEVICE:-/dev/md/pgdata}
ARRAY_NAME=$(basename "$MD_DEVICE")
DEV_ROOT=${DEV_ROOT:-/dev}
MDADM=${MDADM:-mdadm}
MKFS_XFS=${MKFS_XFS:-mkfs.xfs}
BLKID=${BLKID:-blkid}
MOUNT=${MOUNT:-mount}
MOUNTPOINT=${MOUNTPOINT:-mountpoint}
UPDATE_INITRAMFS=${UPDATE_INITRAMFS:-update-initramfs}
MDADM_CONF=${MDADM_CONF:-/etc/mdadm/mdadm.conf}
FSTAB=${FSTAB:-/etc/fstab}

log() { echo "shard-raid: $*" >&2; }
die() { log "$*"; exit 1; }

case "$RAID_LEVEL" in 0|10) ;; *) die "RAID_LEVEL must be 0 or 10, not $RAID_LEVEL" ;; esac
count=$(echo "$VOLUME_IDS" | wc -w)
[ "$count" -ge 1 ] || die "VOLUME_IDS names no volume"
if [ "$RAID_LEVEL" = 10 ] && { [ "$count" -lt 4 ] || [ $((count % 2)) -ne 0 ]; }; then
    die "RAID 10 needs an even number of volumes, at least 4 (got $count)"
fi

if $MOUNTPOINT -q "$MOUNT_POINT" 2>/dev/null; then
    log "$MOUNT_POINT is already mounted; nothing to do"
    exit 0
fi

# 1. Wait for every volume.
link_of() { echo "$DEV_ROOT/disk/by-id/nvme-Amazon_Elastic_Block_Store_$(echo "$1" | tr -d -)"; }
waited=0
while :; do
    missing=""
    for vol in $VOLUME_IDS; do
        [ -e "$(link_of "$vol")" ] || missing="$missing $vol"
    done
    [ -z "$missing" ] && break
    if [ "$waited" -ge "$WAIT_SECONDS" ]; then
        die "volumes not attached after ${WAIT_SECONDS}s:$missing (nothing was created or changed)"
    fi
    [ $((waited % 30)) -eq 0 ] && log "waiting for volumes:$missing"
    sleep 2
    waited=$((waited + 2))
done
disks=""
for vol in $VOLUME_IDS; do
    disks="$disks $(readlink -f "$(link_of "$vol")")"
done
log "volumes present:$disks"

# 2. Decide: assemble, create, or refuse.
uuids=""
blank=0
for disk in $disks; do
    if sb=$($MDADM --examine --brief "$disk" 2>/dev/null) && [ -n "$sb" ]; then
        uuid=$(echo "$sb" | sed -n 's/.*UUID=\([^ ]*\).*/\1/p' | head -n 1)
        uuids="$uuids $uuid"
    else
        fstype=$($BLKID -o value -s TYPE "$disk" 2>/dev/null || true)
        [ -z "$fstype" ] || die "$disk holds a $fstype filesystem but no RAID superblock; refusing to overwrite it"
        blank=$((blank + 1))
    fi
done
distinct=$(echo "$uuids" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)

if [ "$blank" -eq "$count" ]; then
    log "all $count disks are blank: creating RAID $RAID_LEVEL"
    set -- --create "$MD_DEVICE" --run --metadata=1.2 --name="$ARRAY_NAME" --level="$RAID_LEVEL" --raid-devices="$count" --chunk="$CHUNK_KIB"
    # New EBS volumes read as zeros, so mirrors already agree: skip the initial resync's full read.
    [ "$RAID_LEVEL" = 10 ] && set -- "$@" --assume-clean
    # shellcheck disable=SC2086  # one argument per disk
    $MDADM "$@" $disks
    new_array=1
elif [ "$blank" -eq 0 ] && [ "$distinct" -eq 1 ]; then
    uuid=$(echo "$uuids" | awk '{print $1}')
    if active=$($MDADM --detail --scan 2>/dev/null | grep "UUID=$uuid"); then
        # udev or the initramfs assembled it already, maybe under another name (md127): use it as it is.
        MD_DEVICE=$(echo "$active" | awk '{print $2}')
        log "array $uuid is already running as $MD_DEVICE"
    else
        log "assembling existing array $uuid"
        # shellcheck disable=SC2086
        $MDADM --assemble "$MD_DEVICE" --uuid="$uuid" --run $disks
    fi
    new_array=0
else
    die "disks disagree: $blank of $count blank, array UUIDs:${uuids:- none}; refusing to create or assemble (inspect with mdadm --examine)"
fi

# 3. Keep the array's name across reboots.
install -d "$(dirname "$MDADM_CONF")"
touch "$MDADM_CONF"
array_line=$($MDADM --detail --brief "$MD_DEVICE")
array_uuid=$(echo "$array_line" | sed -n 's/.*UUID=\([^ ]*\).*/\1/p')
grep -v "UUID=$array_uuid" "$MDADM_CONF" > "$MDADM_CONF.new" || true
echo "$array_line" >> "$MDADM_CONF.new"
mv -f "$MDADM_CONF.new" "$MDADM_CONF"
$UPDATE_INITRAMFS -u

# 4. Filesystem, fstab, mount.
fstype=$($BLKID -o value -s TYPE "$MD_DEVICE" 2>/dev/null || true)
if [ -z "$fstype" ]; then
    [ "$new_array" = 1 ] || die "existing array $MD_DEVICE has no filesystem; refusing to format it (was it ever initialized?)"
    data_disks=$count
    [ "$RAID_LEVEL" = 10 ] && data_disks=$((count / 2))
    $MKFS_XFS -L pgdata -d "su=${CHUNK_KIB}k,sw=$data_disks" "$MD_DEVICE"
elif [ "$fstype" != xfs ]; then
    die "$MD_DEVICE holds $fstype, not xfs; refusing to continue"
fi
fs_uuid=$($BLKID -o value -s UUID "$MD_DEVICE")
[ -n "$fs_uuid" ] || die "no filesystem UUID on $MD_DEVICE"
awk -v mp="$MOUNT_POINT" '$2 != mp' "$FSTAB" > "$FSTAB.new" 2>/dev/null || true
echo "UUID=$fs_uuid $MOUNT_POINT xfs noatime,nofail,x-systemd.device-timeout=30s 0 2" >> "$FSTAB.new"
mv -f "$FSTAB.new" "$FSTAB"
install -d -m 0755 "$MOUNT_POINT"
$MOUNT "$MOUNT_POINT"
log "$MD_DEVICE (RAID $RAID_LEVEL over $count volumes) mounted on $MOUNT_POINT"

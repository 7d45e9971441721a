#!/bin/sh
# Build the boot test's VM image: Debian bookworm with the packages the roles install already installed
# (the VMs get no network), real cloud-init, udev and mdadm, and the test's own small additions:
#   - cloud-init reads a NoCloud seed and skips the modules that need the network (apt-configure,
#     package-update-upgrade-install); everything else in the user data runs as on EC2;
#   - a udev rule gives NVMe disks the by-id names EC2 gives EBS volumes;
#   - cloud-final's environment points the role scripts at the test's stand-ins for IMDS, SSM and S3;
#   - qemu-guest-agent, so the test can look inside without SSH;
#   - the initramfs the role regenerates in the VM holds only the modules that VM needs (MODULES=dep);
#   - Node.js: the role installs NodeSource's package, which this machine cannot download, so the image
#     gets the node binary of the machine that builds it (NODE_BINARY; the boot test passes its own);
#   - networking is cloud-init's: the seed's network-config brings up eth0 (DHCP, the stand-ins) and, for
#     VMs that talk to each other, eth1 on a private segment with the host's address from the program.
# usage: build-image.sh OUT_DIR PACKAGE...
#   PACKAGEs: what the hosts' user data installs (the boot test collects them from the program); writes
#   OUT_DIR/vmlinuz, initrd.img, root.img; needs root and debootstrap.
set -eu
out=${1:?usage: build-image.sh OUT_DIR PACKAGE...}
shift
[ "$#" -gt 0 ] || { echo "build-image.sh: name the packages the hosts install" >&2; exit 2; }
node_binary=${NODE_BINARY:-$(command -v node)}
[ -x "$node_binary" ] || { echo "build-image.sh: no node binary at '$node_binary' (set NODE_BINARY)" >&2; exit 1; }
mirror=${BOOT_MIRROR:-http://deb.debian.org/debian}
rootfs="$out/rootfs"
rm -rf "$rootfs"
mkdir -p "$out"

debootstrap --variant=minbase \
    --include=linux-image-cloud-amd64,initramfs-tools,systemd-sysv,udev,cloud-init,python3-cffi-backend,mdadm,ifupdown,isc-dhcp-client,iproute2,netbase,ca-certificates,dbus,procps \
    bookworm "$rootfs" "$mirror"

# Packages the hosts install (their user data's `packages:`), installed now since the VMs have no network,
# plus the test's guest agent. Debian's policy-rc.d keeps them from starting inside the chroot.
printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
mount -t proc proc "$rootfs/proc"
trap 'umount "$rootfs/proc" 2>/dev/null || true' EXIT
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3 qemu-guest-agent
enabled_units() { systemctl --root="$rootfs" list-unit-files --state=enabled --no-legend | awk '{print $1}' | sort; }
enabled_units > "$out/units.before"
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
chroot "$rootfs" apt-get clean
# On EC2 a host has only its own role's packages; here every VM has every role's. So that a VM runs only
# what its role starts, the services these packages enabled are disabled again: each role enables (and
# restarts) its own daemons, which this image therefore also proves.
enabled_units > "$out/units.after"
for unit in $(comm -13 "$out/units.before" "$out/units.after"); do
    systemctl --root="$rootfs" disable "$unit"
done
rm -f "$out/units.before" "$out/units.after"
# SysV scripts of services that have a native systemd unit of the same name: systemd never runs them, but
# `systemctl enable` hands each one to systemd-sysv-install (update-rc.d, in perl), which took 10 to 90 s per
# service under emulation (the search host enables four). Dropping them changes nothing a role does: every
# role enables and starts the native unit, as on Ubuntu. Services without a native unit keep their script.
for script in "$rootfs"/etc/init.d/*; do
    service=$(basename "$script")
    [ -e "$rootfs/lib/systemd/system/$service.service" ] || [ -e "$rootfs/usr/lib/systemd/system/$service.service" ] || continue
    rm -f "$script" "$rootfs"/etc/rc[0-6S].d/[SK][0-9][0-9]"$service"
done
umount "$rootfs/proc"
trap - EXIT
rm -f "$rootfs/usr/sbin/policy-rc.d"

cat > "$rootfs/etc/cloud/cloud.cfg.d/99-boot-test.cfg" <<'CFG'
# Boot test image: a NoCloud seed, and no module that needs the network (the packages are installed).
datasource_list: [NoCloud, None]
cloud_init_modules: [migrator, seed_random, bootcmd, write-files, set_hostname, update_hostname, update_etc_hosts, users-groups]
cloud_config_modules: [set-passwords, timezone, runcmd]
cloud_final_modules: [write-files-deferred, scripts-per-once, scripts-per-boot, scripts-per-instance, scripts-user, final-message]
CFG
cat > "$rootfs/etc/udev/rules.d/99-ebs-names.rules" <<'RULES'
# EC2 names an EBS volume's NVMe disk by its serial, the volume ID without the hyphen.
KERNEL=="nvme*n*", ENV{DEVTYPE}=="disk", ENV{ID_SERIAL_SHORT}=="vol?*", SYMLINK+="disk/by-id/nvme-Amazon_Elastic_Block_Store_$env{ID_SERIAL_SHORT}"
RULES
mkdir -p "$rootfs/etc/systemd/system/cloud-final.service.d"
cat > "$rootfs/etc/systemd/system/cloud-final.service.d/boot-test-endpoints.conf" <<'UNIT'
[Service]
Environment=INSTAGRAM_IMDS_ENDPOINT=http://10.0.2.100 INSTAGRAM_SSM_ENDPOINT=http://10.0.2.101 INSTAGRAM_S3_ENDPOINT=http://10.0.2.102
# pgBackRest's S3 client: the TLS stand-in for the backup bucket, and the stand-in IMDS's credentials (it asks
# only 169.254.169.254 for the instance profile's, which the VM cannot reach).
Environment=INSTAGRAM_BACKUP_S3_ENDPOINT=10.0.2.103:443 INSTAGRAM_BACKUP_S3_CREDENTIALS=ASIABOOTTEST:boot/test+secret:boot-test-token
# A volume that never arrives fails the boot after 2 minutes here, not the role's 10.
Environment=WAIT_SECONDS=120
UNIT
# The app host's shard directory copy is kept by a service of its own: the same stand-ins.
mkdir -p "$rootfs/etc/systemd/system/instagram-shard-directory.service.d"
cat > "$rootfs/etc/systemd/system/instagram-shard-directory.service.d/boot-test-endpoints.conf" <<'UNIT'
[Service]
Environment=INSTAGRAM_IMDS_ENDPOINT=http://10.0.2.100 INSTAGRAM_SSM_ENDPOINT=http://10.0.2.101
UNIT
# The host metrics publisher (its timer, once a minute): the stand-in IMDS and CloudWatch.
mkdir -p "$rootfs/etc/systemd/system/instagram-host-metrics.service.d"
cat > "$rootfs/etc/systemd/system/instagram-host-metrics.service.d/boot-test-endpoints.conf" <<'UNIT'
[Service]
Environment=INSTAGRAM_IMDS_ENDPOINT=http://10.0.2.100 INSTAGRAM_CLOUDWATCH_ENDPOINT=http://10.0.2.104
UNIT
cat > "$rootfs/etc/network/interfaces" <<'NET'
auto lo
iface lo inet loopback
source /etc/network/interfaces.d/*
NET
install -m 0755 "$node_binary" "$rootfs/usr/bin/node"
echo "/dev/vda / ext4 defaults 0 1" > "$rootfs/etc/fstab"
# The VMs boot the kernel and initramfs built here (qemu -kernel/-initrd); it holds only the modules that
# hardware needs, so it loads faster under emulation.
echo "MODULES=dep" > "$rootfs/etc/initramfs-tools/conf.d/boot-test.conf"
cp "$rootfs"/boot/vmlinuz-* "$out/vmlinuz"
cp "$rootfs"/boot/initrd.img-* "$out/initrd.img"
chmod 0644 "$out/vmlinuz" "$out/initrd.img"
rm -f "$out/root.img"
mkfs.ext4 -q -L root -d "$rootfs" "$out/root.img" 4G
rm -rf "$rootfs"
echo "boot image ready in $out"

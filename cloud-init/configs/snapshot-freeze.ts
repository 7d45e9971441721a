/**
 * The pre and post scripts Data Lifecycle Manager runs on a shard host around each snapshot set of its data
 * volumes (through an SSM Command document, components/shard-snapshots.ts): a checkpoint, then /data frozen
 * (XFS on the RAID: every member volume's snapshot is taken at one instant of a quiesced filesystem), thawed
 * by the post script, and by a timer in any case, so that a lost post script cannot leave the shard frozen.
 */

/** Seconds after which /data is thawed even if the post script never comes (DLM's script timeout is less). */
export const FREEZE_SAFETY_SECONDS = 60;

/** The shell script, with `{{ command }}` where SSM substitutes pre-script, post-script or dry-run. */
export function snapshotFreezeScript(mount = "/data"): string {
    return `set -eu
mount=${mount}
command="{{ command }}"
case "$command" in
dry-run)
    mountpoint -q "$mount" && command -v fsfreeze > /dev/null
    ;;
pre-script)
    mountpoint -q "$mount" || { echo "$mount is not mounted: no snapshot of it" >&2; exit 1; }
    # A checkpoint (a restartpoint on a standby) first, so recovery from the snapshot replays little WAL.
    timeout 30 runuser -u postgres -- psql -X -q -c CHECKPOINT || echo "CHECKPOINT failed or took over 30 s; freezing anyway" >&2
    sync
    systemctl stop instagram-snapshot-thaw.timer 2> /dev/null || true
    systemd-run --unit=instagram-snapshot-thaw --on-active=${FREEZE_SAFETY_SECONDS} /usr/sbin/fsfreeze -u "$mount"
    fsfreeze -f "$mount"
    echo "froze $mount"
    ;;
post-script)
    fsfreeze -u "$mount" 2> /dev/null || echo "$mount was not frozen (the safety timer thawed it?)" >&2
    systemctl stop instagram-snapshot-thaw.timer 2> /dev/null || true
    echo "thawed $mount"
    ;;
*)
    echo "unknown command $command: expected pre-script, post-script or dry-run" >&2
    exit 1
    ;;
esac
`;
}

/** The SSM Command document (schema 2.2) DLM calls with command=pre-script/post-script/dry-run. */
export function snapshotFreezeDocument(mount = "/data"): Record<string, unknown> {
    return {
        schemaVersion: "2.2",
        description: `Freeze ${mount} around a Data Lifecycle Manager snapshot set (pre-script), thaw it after (post-script)`,
        parameters: {
            executionId: { type: "String", default: "None", description: "DLM's execution id", allowedPattern: "^(None|[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12})$" },
            command: { type: "String", default: "dry-run", description: "pre-script, post-script or dry-run", allowedValues: ["pre-script", "post-script", "dry-run"] },
        },
        mainSteps: [{
            action: "aws:runShellScript",
            name: "freezeDataAroundSnapshot",
            precondition: { StringEquals: ["platformType", "Linux"] },
            inputs: { timeoutSeconds: "50", runCommand: snapshotFreezeScript(mount).trimEnd().split("\n") },
        }],
    };
}

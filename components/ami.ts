/** Canonical's official Ubuntu AMI for a release and CPU architecture, looked up by owner ID (never by name alone). */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { UbuntuRelease } from "../core/ubuntu";
import { Architecture } from "../core/instance-types";

export const CANONICAL_OWNER_ID = "099720109477";

const CODENAMES: Record<UbuntuRelease, string> = { "22.04": "jammy", "24.04": "noble" };

/** The AMI name pattern Canonical publishes (gp3 root volumes from 24.04 on). */
export function ubuntuAmiNamePattern(release: UbuntuRelease, architecture: Architecture): string {
    const arch = architecture === "arm64" ? "arm64" : "amd64";
    const storage = release === "22.04" ? "hvm-ssd" : "hvm-ssd-gp3";
    return `ubuntu/images/${storage}/ubuntu-${CODENAMES[release]}-${release}-${arch}-server-*`;
}

export function ubuntuAmi(release: UbuntuRelease, architecture: Architecture, opts: pulumi.InvokeOutputOptions): pulumi.Output<string> {
    return aws.ec2
        .getAmiOutput(
            {
                owners: [CANONICAL_OWNER_ID],
                mostRecent: true,
                filters: [
                    { name: "name", values: [ubuntuAmiNamePattern(release, architecture)] },
                    { name: "architecture", values: [architecture] },
                    { name: "virtualization-type", values: ["hvm"] },
                    { name: "root-device-type", values: ["ebs"] },
                ],
            },
            opts,
        )
        .apply((ami) => ami.id);
}

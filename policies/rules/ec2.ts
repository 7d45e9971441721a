/** Rules for EC2 hosts and EBS volumes. */
import * as aws from "@pulumi/aws";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { problem, userDataText } from "./common";

export const ec2Imdsv2Required: ResourceValidationPolicy = {
    name: "ec2-imdsv2-required",
    description: "Instances require IMDSv2 session tokens (Checkov CKV_AWS_79; Trivy aws-ec2-enforce-http-token-imds).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ec2.Instance, (instance, args, report) => {
        if (instance.metadataOptions?.httpTokens !== "required") {
            report(problem(args.name, "metadataOptions.httpTokens", `is ${JSON.stringify(instance.metadataOptions?.httpTokens ?? "optional")}`, 'set it to "required" (IMDSv2 only)'));
        }
    }),
};

export const ec2VolumesEncrypted: ResourceValidationPolicy = {
    name: "ec2-volumes-encrypted",
    description: "Instance root and attached block devices are encrypted (Checkov CKV_AWS_8; Trivy aws-ec2-enable-at-rest-encryption).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ec2.Instance, (instance, args, report) => {
        if (instance.rootBlockDevice?.encrypted !== true) {
            report(problem(args.name, "rootBlockDevice.encrypted", "is not true", "set rootBlockDevice.encrypted = true"));
        }
        (instance.ebsBlockDevices ?? []).forEach((device, i) => {
            if (device.encrypted !== true) report(problem(args.name, `ebsBlockDevices[${i}].encrypted`, "is not true", "encrypt every block device"));
        });
    }),
};

export const ebsVolumeEncrypted: ResourceValidationPolicy = {
    name: "ebs-volume-encrypted",
    description: "EBS volumes are encrypted (Checkov CKV_AWS_3; Trivy aws-ebs-enable-volume-encryption).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ebs.Volume, (volume, args, report) => {
        if (volume.encrypted !== true) report(problem(args.name, "encrypted", "is not true", "set encrypted = true on the volume"));
    }),
};

export const ec2NoPublicIp: ResourceValidationPolicy = {
    name: "ec2-no-public-ip",
    description: "Hosts get no public IP; only the load balancer faces the internet (Checkov CKV_AWS_88).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ec2.Instance, (instance, args, report) => {
        if (instance.associatePublicIpAddress === true) {
            report(problem(args.name, "associatePublicIpAddress", "is true", "set it to false and reach the host through the load balancer or SSM"));
        }
    }),
};

export const ec2DetailedMonitoring: ResourceValidationPolicy = {
    name: "ec2-detailed-monitoring",
    description: "Instances have detailed (1-minute) CloudWatch monitoring (Checkov CKV_AWS_126).",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(aws.ec2.Instance, (instance, args, report) => {
        if (instance.monitoring !== true) report(problem(args.name, "monitoring", "is not true", "set monitoring = true"));
    }),
};

export const ec2InstanceProfile: ResourceValidationPolicy = {
    name: "ec2-instance-profile",
    description: "Instances have an IAM instance profile, so they use role credentials and SSM, never keys (Checkov CKV2_AWS_41).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ec2.Instance, (instance, args, report) => {
        if (!instance.iamInstanceProfile) report(problem(args.name, "iamInstanceProfile", "is not set", "attach an instance profile (the stack's HostIdentity)"));
    }),
};

/** What secret material looks like in a user-data script. */
const SECRET_PATTERNS: [RegExp, string][] = [
    [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key ID"],
    [/aws_secret_access_key\s*[=:]/i, "an AWS secret access key"],
    [/-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/, "a private key"],
    // A value that looks generated: 12+ characters mixing letters and digits (not a placeholder or a $(command)).
    [/\b(password|passwd|pwd|secret|token|api_key|apikey)\s*[=:]\s*["']?(?=[^\s"']*\d)(?=[^\s"']*[A-Za-z])[A-Za-z0-9+/=_.-]{12,}/i, "a literal password or token"],
];

export const ec2NoSecretsInUserData: ResourceValidationPolicy = {
    name: "ec2-no-secrets-in-user-data",
    description: "User data holds no credentials or passwords; hosts fetch secrets from SSM at boot (Checkov CKV_AWS_46).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.ec2.Instance, (instance, args, report) => {
        const text = userDataText(instance);
        if (text === undefined) return;
        for (const [pattern, what] of SECRET_PATTERNS) {
            const match = pattern.exec(text);
            if (match) {
                // Name where it is (line number), never echo the secret itself into CI logs.
                const line = text.slice(0, match.index).split("\n").length;
                report(problem(args.name, "userData", `contains ${what} (line ${line})`, "store it as an SSM SecureString and fetch it at boot with the instance role"));
            }
        }
    }),
};

export const ec2Policies = [ec2Imdsv2Required, ec2VolumesEncrypted, ebsVolumeEncrypted, ec2NoPublicIp, ec2DetailedMonitoring, ec2InstanceProfile, ec2NoSecretsInUserData];

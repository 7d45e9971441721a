/**
 * AWS's default values of the quotas this stack touches, with where each number comes from. A default is what
 * Service Quotas calls the "AWS default quota value": an account's applied value can be higher (AWS raises some
 * with use, or on request) and, for a new account, the vCPU quota starts at it. `--quotas FILE` replaces these
 * with the account's own values (`aws service-quotas get-service-quota ... --query Quota.Value`).
 *
 * Data only; read by tools/quotas/report.ts. When a number could not be confirmed in AWS's own pages, the entry
 * says so in `unconfirmed`, and the report prints it.
 */

/** When the numbers and links below were last compared with the pages they cite. */
export const DEFAULTS_CHECKED = "2026-12-07";

export type QuotaId =
    | "L-1216C47A" | "L-7A658B76" | "L-D18FCD1D" | "L-FD252861"
    | "L-0263D0A3" | "L-FE5A380F" | "L-0EA8095F" | "L-E79EC296" | "L-F678F1CE" | "L-A4707A72" | "L-1B52E74A"
    | "ssm-parameter-store-throughput";

export interface QuotaDefault {
    /** The Service Quotas code, or an id of ours for a limit that Service Quotas does not manage. */
    readonly id: QuotaId;
    /** The Service Quotas service code (what `--service-code` takes); undefined when not in Service Quotas. */
    readonly serviceCode?: "ec2" | "ebs" | "vpc";
    /** The quota's name as Service Quotas (or the cited page) spells it. */
    readonly name: string;
    readonly default: number;
    readonly unit: string;
    /** Per Region, per AZ, per security group... */
    readonly scope: string;
    /** The AWS page that states the default (or, for SSM, how to raise it). */
    readonly source: string;
    /** What the source says, in a line; what else a reader should know about the number. */
    readonly note?: string;
    /** Set when the default could not be read in an AWS page: why, and what to check. */
    readonly unconfirmed?: string;
    /** How to raise it when it is not a Service Quotas request (SSM Parameter Store throughput is a setting). */
    readonly raiseCommand?: string;
}

const VPC_QUOTAS = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html";
const ROSA_QUOTAS = "https://docs.aws.amazon.com/rosa/latest/userguide/service-quotas-rosa.html";

export const QUOTA_DEFAULTS: readonly QuotaDefault[] = [
    {
        id: "L-1216C47A", serviceCode: "ec2", name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
        default: 5, unit: "vCPUs", scope: "per Region", source: ROSA_QUOTAS,
        note: "AWS's ROSA guide: \"the default value of 5 vCPUs\" (Service Quotas' AWS default). The EC2 User Guide "
            + "(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-on-demand-instances.html#ec2-on-demand-instances-limits) "
            + "gives no number today; an earlier version listed 1,152 vCPUs and \"New AWS accounts might start with limits that "
            + "are lower\". AWS raises an account's applied value with use, so an older account may already have more.",
    },
    {
        id: "L-7A658B76", serviceCode: "ebs", name: "Storage for General Purpose SSD (gp3) volumes, in TiB",
        default: 50, unit: "TiB", scope: "per Region", source: ROSA_QUOTAS,
        note: "AWS's ROSA guide lists its default as 50; the quota itself is on "
            + "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-resource-quotas.html (\"the maximum aggregated amount of storage, "
            + "in TiB, that can be provisioned across gp3 volumes in this Region\").",
    },
    {
        id: "L-D18FCD1D", serviceCode: "ebs", name: "Storage for General Purpose SSD (gp2) volumes, in TiB",
        default: 50, unit: "TiB", scope: "per Region", source: ROSA_QUOTAS,
    },
    {
        id: "L-FD252861", serviceCode: "ebs", name: "Storage for Provisioned IOPS SSD (io1) volumes, in TiB",
        default: 50, unit: "TiB", scope: "per Region", source: ROSA_QUOTAS,
    },
    {
        id: "L-0263D0A3", serviceCode: "ec2", name: "EC2-VPC Elastic IPs",
        default: 5, unit: "addresses", scope: "per Region", source: VPC_QUOTAS,
        note: "\"Elastic IP addresses per Region: 5\"; each NAT gateway holds one.",
    },
    {
        id: "L-FE5A380F", serviceCode: "vpc", name: "NAT gateways per Availability Zone",
        default: 5, unit: "NAT gateways", scope: "per AZ", source: VPC_QUOTAS,
    },
    {
        id: "L-0EA8095F", serviceCode: "vpc", name: "Inbound or outbound rules per security group",
        default: 60, unit: "rules", scope: "per security group and direction", source: VPC_QUOTAS,
        note: "Enforced separately for IPv4 and IPv6 rules; a rule naming a prefix list counts as the list's maximum entries. "
            + "Multiplied by security groups per network interface (L-2AFB9258, 5) it cannot exceed 1,000.",
    },
    {
        id: "L-E79EC296", serviceCode: "vpc", name: "VPC security groups per Region",
        default: 2500, unit: "security groups", scope: "per Region", source: VPC_QUOTAS,
    },
    {
        id: "L-F678F1CE", serviceCode: "vpc", name: "VPCs per Region",
        default: 5, unit: "VPCs", scope: "per Region", source: VPC_QUOTAS,
        note: "An account's default VPC in the Region counts too.",
    },
    {
        id: "L-A4707A72", serviceCode: "vpc", name: "Internet gateways per Region",
        default: 5, unit: "internet gateways", scope: "per Region", source: VPC_QUOTAS,
        note: "Raised with VPCs per Region; the default VPC's internet gateway counts too.",
    },
    {
        id: "L-1B52E74A", serviceCode: "vpc", name: "Gateway VPC endpoints per Region",
        default: 20, unit: "gateway endpoints", scope: "per Region", source: VPC_QUOTAS,
        note: "At most 255 per VPC.",
    },
    {
        id: "ssm-parameter-store-throughput", name: "Parameter Store throughput (GetParameter, GetParameters, GetParametersByPath)",
        default: 40, unit: "requests/s", scope: "per Region",
        source: "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-throughput.html",
        note: "Not a Service Quotas quota: higher throughput is an account setting, charged per request.",
        unconfirmed: "40 (shared by the three reads) is AWS's \"Default throughput\" as quoted from "
            + "https://docs.aws.amazon.com/general/latest/gr/ssm.html by others; that page could not be read here.",
        raiseCommand: "aws ssm update-service-setting --setting-id arn:aws:ssm:REGION:ACCOUNT_ID:servicesetting/ssm/parameter-store/high-throughput-enabled --setting-value true",
    },
];

export function quotaDefault(id: string): QuotaDefault | undefined {
    return QUOTA_DEFAULTS.find((q) => q.id === id);
}

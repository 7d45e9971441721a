/**
 * Example values for everything the cloud computes, in AWS's formats: every resource gets an ID and the
 * computed outputs the program reads (ARNs, DNS names, private IPs, ACM validation records...), and every
 * data-source call gets a realistic answer (account 123456789012). Values are deterministic (hashes of
 * names), so two runs give the same result. The tests run the program against them (every apply runs), and
 * `npm run validate` checks the IAM documents the plan cannot know with them. A call this file does not
 * know fails loudly instead of returning nothing.
 */
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { formatIPv4, parseCidr } from "../../core/cidr";

export const ACCOUNT_ID = "123456789012";
export const HOSTED_ZONE_ID = "Z0MOCKZONE0123456789";
export const ALB_ZONE_ID = "Z35SXDOTRQ7X7K";
export const CLOUDFRONT_ZONE_ID = "Z2FDTNDATAQYW2";
export const MOCK_AMI = { x86_64: "ami-0mockubuntuamd6400", arm64: "ami-0mockubuntuarm6400" };

function hex(seed: string, length: number): string {
    return crypto.createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** A stand-in for a random password: as long and as varied as the real one, but repeatable. */
function fakePassword(seed: string, length: number): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const bytes = crypto.createHash("sha512").update(`password:${seed}`).digest();
    return Array.from({ length }, (_, i) => alphabet[bytes[i % bytes.length] % alphabet.length]).join("");
}

/**
 * What the program's local.Commands print when they run: `build:app --json` a manifest whose SHA-256 follows
 * from the source hash it was triggered by (as a reproducible build's does), the waits their success line.
 */
function commandStdout(name: string, inputs: Record<string, any>): string {
    const create = String(inputs.create ?? "");
    if (create.includes("build:app")) {
        const sourceHash = String(inputs.triggers?.[0]);
        const sha256 = hex(`bundle:${sourceHash}`, 64);
        return `${JSON.stringify({ name: "instagram-app", version: "0.1.0", sha256, bytes: 373071, files: 6, sourceHash, path: `${inputs.dir}/dist/app/instagram-app-${sha256}.tar.gz`, node: ">=20" })}\n`;
    }
    if (create.includes("wait-healthy.ts target")) return `target ${inputs.triggers?.[0]} in ${name} healthy after 95 s: healthy\n`;
    if (create.includes("wait-healthy.ts url")) return `${create.split(" ")[5]} healthy after 140 s: 200 (ready)\n`;
    throw new Error(`mocks: local.Command ${name} runs ${JSON.stringify(create)}, which the mocks do not know`);
}

export class StackMocks implements pulumi.runtime.Mocks {
    private readonly subnets = new Map<string, { cidr: string; az: string; next: number }>();

    /** `deployed`: SSM parameters that exist before this run (name -> value), e.g. a deployed shard directory. */
    constructor(private readonly region: string, private readonly deployed: Readonly<Record<string, string>> = {}) {}

    /** The region of each AWS provider the run created, by its name (a resource made through it lives there). */
    private readonly providerRegions = new Map<string, string>();

    /** The region of the AWS provider a resource is made through (a reference is `<urn>::<id>`), if this run created it. */
    private providerRegion(ref: string | undefined): string | undefined {
        const parts = (ref ?? "").split("::");
        return parts.length >= 5 && parts[2].endsWith("pulumi:providers:aws") ? this.providerRegions.get(parts[3]) : undefined;
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        const { type, name, inputs } = args;
        if (type === "pulumi:providers:aws" && typeof inputs.region === "string") this.providerRegions.set(name, inputs.region);
        // A resource's own region input, else its provider's (the us-east-1 one for CloudFront's certificate), else the stack's.
        const region: string = inputs.region ?? this.providerRegion(args.provider) ?? this.region;
        const id = this.idFor(type, name);
        const arn = `arn:aws:${type.split(":")[1]?.split("/")[0] ?? "mock"}:${region}:${ACCOUNT_ID}:${name}`;
        const state: Record<string, unknown> = { ...inputs, arn, id };
        switch (type) {
            case "aws:ec2/subnet:Subnet":
                this.subnets.set(id, { cidr: inputs.cidrBlock, az: inputs.availabilityZone, next: 10 });
                break;
            case "aws:ec2/instance:Instance": {
                const subnet = this.subnets.get(inputs.subnetId);
                if (!subnet) throw new Error(`instance ${name} names subnet ${inputs.subnetId}, which the program never created`);
                subnet.next += 1;
                const base = parseCidr(subnet.cidr)!.base;
                state.privateIp = inputs.privateIp ?? formatIPv4(base + 100 + subnet.next);
                state.availabilityZone = subnet.az;
                state.privateDns = `ip-${String(state.privateIp).replace(/\./g, "-")}.ec2.internal`;
                break;
            }
            case "aws:ebs/volume:Volume":
                state.arn = `arn:aws:ec2:${region}:${ACCOUNT_ID}:volume/${id}`;
                break;
            case "aws:s3/bucket:Bucket": {
                const bucket = inputs.bucket ?? `${name}-${hex(name, 7)}`;
                Object.assign(state, {
                    bucket,
                    arn: `arn:aws:s3:::${bucket}`,
                    bucketDomainName: `${bucket}.s3.amazonaws.com`,
                    bucketRegionalDomainName: `${bucket}.s3.${region}.amazonaws.com`,
                    region,
                });
                break;
            }
            case "aws:acm/certificate:Certificate": {
                const names: string[] = [inputs.domainName, ...(inputs.subjectAlternativeNames ?? [])];
                state.arn = `arn:aws:acm:${region}:${ACCOUNT_ID}:certificate/${hex(name, 8)}-${hex(name + "x", 4)}`;
                state.domainValidationOptions = names.map((domainName) => ({
                    domainName,
                    resourceRecordName: `_${hex(domainName, 32)}.${domainName}.`,
                    resourceRecordType: "CNAME",
                    resourceRecordValue: `_${hex(domainName + "v", 32)}.acm-validations.aws.`,
                }));
                break;
            }
            case "aws:acm/certificateValidation:CertificateValidation":
                state.certificateArn = inputs.certificateArn;
                break;
            case "aws:route53/record:Record":
                state.fqdn = String(inputs.name).replace(/\.$/, "");
                break;
            case "aws:lb/loadBalancer:LoadBalancer":
                state.dnsName = `${name}-${hex(name, 9)}.${region}.elb.amazonaws.com`;
                state.zoneId = ALB_ZONE_ID;
                state.arnSuffix = `app/${name}/${hex(name, 16)}`;
                break;
            case "aws:lb/targetGroup:TargetGroup":
                state.arnSuffix = `targetgroup/${name}/${hex(name, 16)}`;
                break;
            case "pagerduty:index/serviceIntegration:ServiceIntegration":
                state.integrationKey = hex(`${name}:key`, 32);
                break;
            case "aws:cloudfront/distribution:Distribution":
                state.domainName = `d${hex(name, 13)}.cloudfront.net`;
                state.hostedZoneId = CLOUDFRONT_ZONE_ID;
                state.arn = `arn:aws:cloudfront::${ACCOUNT_ID}:distribution/${id}`;
                break;
            case "aws:ssm/parameter:Parameter":
                state.arn = `arn:aws:ssm:${region}:${ACCOUNT_ID}:parameter${inputs.name}`;
                break;
            case "aws:iam/role:Role":
            case "aws:iam/instanceProfile:InstanceProfile":
                state.name = inputs.name ?? `${name}-${hex(name, 7)}`;
                state.arn = `arn:aws:iam::${ACCOUNT_ID}:${type.includes("role") ? "role" : "instance-profile"}/${state.name}`;
                break;
            case "aws:ec2/securityGroup:SecurityGroup":
                state.arn = `arn:aws:ec2:${region}:${ACCOUNT_ID}:security-group/${id}`;
                break;
            case "command:local:Command":
                state.stdout = commandStdout(name, inputs);
                state.stderr = "";
                break;
            case "aws:s3/bucketObjectv2:BucketObjectv2":
                state.versionId = hex(`${inputs.key}:version`, 32);
                state.etag = hex(`${inputs.key}:etag`, 32);
                break;
            case "random:index/randomPassword:RandomPassword":
                state.result = fakePassword(name, inputs.length ?? 16);
                break;
        }
        return { id, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        const { token, inputs } = args;
        switch (token) {
            case "aws:ec2/getAmi:getAmi": {
                const arch = (inputs.filters ?? []).find((f: { name: string }) => f.name === "architecture")?.values?.[0] ?? "x86_64";
                return { id: MOCK_AMI[arch as "x86_64" | "arm64"], architecture: arch, ownerId: inputs.owners?.[0], name: "ubuntu/images/mock" };
            }
            case "aws:s3/getObject:getObject":
                // A pinned release that exists (a test of the missing case throws from its own mock).
                return { bucket: inputs.bucket, key: inputs.key, contentType: "application/gzip", id: `${inputs.bucket}/${inputs.key}` };
            case "aws:index/getAvailabilityZones:getAvailabilityZones": {
                const letters = ["a", "b", "c", "d"];
                return { names: letters.map((l) => `${this.region}${l}`), zoneIds: letters.map((_, i) => `use1-az${i + 1}`), id: this.region };
            }
            case "aws:route53/getZone:getZone":
                return { zoneId: HOSTED_ZONE_ID, id: HOSTED_ZONE_ID, name: inputs.name, nameServers: ["ns-1.awsdns-00.com"] };
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return { accountId: ACCOUNT_ID, arn: `arn:aws:iam::${ACCOUNT_ID}:user/ci`, userId: "AIDAMOCK", id: ACCOUNT_ID };
            case "aws:index/getRegion:getRegion":
                return { name: this.region, region: this.region, id: this.region };
            case "aws:index/getPartition:getPartition":
                return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
            case "aws:ssm/getParametersByPath:getParametersByPath": {
                const under = Object.keys(this.deployed).filter((name) => name.startsWith(`${inputs.path}/`) && (inputs.recursive || !name.slice(inputs.path.length + 1).includes("/")));
                return { id: inputs.path, path: inputs.path, names: under, values: under.map((n) => this.deployed[n]), types: under.map(() => "String"), arns: under.map((n) => `arn:aws:ssm:${this.region}:${ACCOUNT_ID}:parameter${n}`), region: this.region };
            }
            case "aws:iam/getPolicyDocument:getPolicyDocument":
                return { json: JSON.stringify({ Version: "2012-10-17", Statement: inputs.statements ?? [] }), id: "policy" };
            case "pagerduty:index/getVendor:getVendor":
                // PagerDuty's vendor ID of its Amazon CloudWatch integration.
                return { id: "PZQ6AUS", name: inputs.name, type: "generic_events_api_inbound_integration" };
            default:
                throw new Error(`the mocks do not know the call ${token}; add it to tools/offline/example-mocks.ts`);
        }
    }

    private idFor(type: string, name: string): string {
        const prefixes: Record<string, string> = {
            "aws:ec2/vpc:Vpc": "vpc-",
            "aws:ec2/subnet:Subnet": "subnet-",
            "aws:ec2/instance:Instance": "i-",
            "aws:ebs/volume:Volume": "vol-",
            "aws:ec2/securityGroup:SecurityGroup": "sg-",
            "aws:ec2/natGateway:NatGateway": "nat-",
            "aws:ec2/internetGateway:InternetGateway": "igw-",
            "aws:ec2/routeTable:RouteTable": "rtb-",
            "aws:ec2/eip:Eip": "eipalloc-",
        };
        const prefix = prefixes[type];
        return prefix ? `${prefix}0${hex(`${type}:${name}`, 16)}` : `${name}-id`;
    }
}

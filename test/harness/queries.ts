/** Questions tests ask of a recorded program run, named for what they mean. */
import * as zlib from "zlib";
import { ProgramRun, RecordedResource } from "../../tools/offline/runtime";

export const T = {
    instance: "aws:ec2/instance:Instance",
    volume: "aws:ebs/volume:Volume",
    attachment: "aws:ec2/volumeAttachment:VolumeAttachment",
    subnet: "aws:ec2/subnet:Subnet",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    natGateway: "aws:ec2/natGateway:NatGateway",
    routeTable: "aws:ec2/routeTable:RouteTable",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    listener: "aws:lb/listener:Listener",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    targetGroupAttachment: "aws:lb/targetGroupAttachment:TargetGroupAttachment",
    record: "aws:route53/record:Record",
    certificate: "aws:acm/certificate:Certificate",
    certificateValidation: "aws:acm/certificateValidation:CertificateValidation",
    bucket: "aws:s3/bucket:Bucket",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    distribution: "aws:cloudfront/distribution:Distribution",
    oac: "aws:cloudfront/originAccessControl:OriginAccessControl",
    ssmParameter: "aws:ssm/parameter:Parameter",
    randomPassword: "random:index/randomPassword:RandomPassword",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    instanceProfile: "aws:iam/instanceProfile:InstanceProfile",
    provider: "pulumi:providers:aws",
} as const;

/** The user data bytes EC2 gets for an instance: plain text, or gzip when it was too large for that. */
export function rawUserDataOf(instance: RecordedResource): Buffer {
    if (instance.inputs.userData) return Buffer.from(instance.inputs.userData, "utf8");
    if (instance.inputs.userDataBase64) return Buffer.from(instance.inputs.userDataBase64, "base64");
    throw new Error(`instance ${instance.name} has no user data`);
}

/** The #cloud-config text an instance boots with, unzipped when it was too large for plain user data. */
export function userDataOf(instance: RecordedResource): string {
    const raw = rawUserDataOf(instance);
    return (instance.inputs.userData ? raw : zlib.gunzipSync(raw)).toString("utf8");
}

export function hostName(instance: RecordedResource): string {
    return instance.inputs.tags.Name;
}

/** Security group ID -> the role it serves (its Role tag). */
export function groupRoles(run: ProgramRun): Map<string, string> {
    return new Map(run.ofType(T.securityGroup).map((sg) => [sg.state.id, sg.inputs.tags.Role]));
}

export function byId(run: ProgramRun, type: string): Map<string, RecordedResource> {
    return new Map(run.ofType(type).map((r) => [r.state.id, r]));
}

/** Every string anywhere inside a value (for "does X appear anywhere" checks). */
export function allStrings(value: unknown): string[] {
    if (typeof value === "string") return [value];
    if (Array.isArray(value)) return value.flatMap(allStrings);
    if (value && typeof value === "object") return Object.values(value).flatMap(allStrings);
    return [];
}

export function policyOf(resource: RecordedResource): { Statement: any[] } {
    return JSON.parse(resource.inputs.policy);
}

/** The secret parameters (ARNs) a tier's hosts may read: its policy's ReadOwnSecrets statements. */
export function readableSecrets(r: { named(type: string, name: string): RecordedResource; ofType(type: string): RecordedResource[] }, tier: string): string[] {
    const role = r.named(T.role, `${tier}-host`);
    const policy = r.ofType(T.rolePolicy).find((p) => p.inputs.role === role.state.id);
    return policy ? policyOf(policy).Statement.filter((s: { Sid: string }) => s.Sid === "ReadOwnSecrets").flatMap((s: { Resource: string[] }) => s.Resource) : [];
}

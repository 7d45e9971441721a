/** Following references between resources in a stack policy, at preview (IDs unknown) as well as after. */
import { PolicyResource } from "@pulumi/policy";

/** Does `resource`'s property `prop` refer to `target`: through the engine's property dependencies, or by value? */
export function refersTo(resource: PolicyResource, prop: string, target: PolicyResource, targetKeys: string[] = ["id", "bucket", "arn"]): boolean {
    if ((resource.propertyDependencies?.[prop] ?? []).some((d) => d.urn === target.urn)) return true;
    const values = [resource.props[prop]].flat().filter((v) => v !== undefined && v !== null && v !== "");
    const keys = targetKeys.map((k) => target.props[k]).filter((v) => v !== undefined && v !== null && v !== "");
    return values.some((v) => keys.includes(v));
}

export function ofType(resources: PolicyResource[], type: string): PolicyResource[] {
    return resources.filter((r) => r.type === type);
}

export const TYPES = {
    bucket: "aws:s3/bucket:Bucket",
    publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    logging: "aws:s3/bucketLogging:BucketLogging",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    distribution: "aws:cloudfront/distribution:Distribution",
    instance: "aws:ec2/instance:Instance",
    volume: "aws:ebs/volume:Volume",
    attachment: "aws:ec2/volumeAttachment:VolumeAttachment",
    subnet: "aws:ec2/subnet:Subnet",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    legacyRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    randomPassword: "random:index/randomPassword:RandomPassword",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
} as const;

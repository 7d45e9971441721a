/**
 * The AWS acceptance check as the policy pack runs it (`pulumi preview --policy-pack policies`): each of its
 * three sources reaches a violation through the mandatory policies, unknowns and secrets as CrossGuard passes
 * them are not checked, and the stack policy sees what spans resources in the real program's graph.
 */
import { describe, expect, test } from "vitest";
import { PolicyResource, Secret } from "@pulumi/policy";
import { awsAcceptsInputs, awsAcceptsStack } from "../../policies/rules/aws-acceptance";
import { checkResource, checkStack, policyResources } from "../harness/policy";
import { runMocked } from "../harness/program";

const INSTANCE = {
    ami: "ami-0abc",
    instanceType: "c7i.2xlarge",
    subnetId: "subnet-1",
    metadataOptions: { httpTokens: "required" },
    rootBlockDevice: { volumeType: "gp3", volumeSize: 30, encrypted: true },
    userData: "#cloud-config\n",
};
const RULE = { securityGroupId: "sg-1", ipProtocol: "tcp", fromPort: 6432, toPort: 6432, referencedSecurityGroupId: "sg-2", description: "Job workers to pgbouncer" };
const ROLE_POLICY = (action: string) => ({ role: "app-host", policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: "Photos", Effect: "Allow", Action: [action], Resource: "arn:aws:s3:::media-bucket/*" }] }) });

describe("aws-accepts-inputs", () => {
    test("is mandatory, and compliant inputs pass", async () => {
        expect(awsAcceptsInputs.enforcementLevel).toBe("mandatory");
        expect(await checkResource(awsAcceptsInputs, "aws:ec2/instance:Instance", INSTANCE)).toEqual([]);
        expect(await checkResource(awsAcceptsInputs, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", RULE)).toEqual([]);
        expect(await checkResource(awsAcceptsInputs, "aws:iam/rolePolicy:RolePolicy", ROLE_POLICY("s3:GetObject"))).toEqual([]);
    });

    test("an API model's enum, a documented character set and the IAM catalogue each refuse", async () => {
        expect(await checkResource(awsAcceptsInputs, "aws:ec2/instance:Instance", { ...INSTANCE, instanceType: "c7i.3xlarge" }, "app-0")).toEqual([
            expect.stringMatching(/^urn:pulumi:test::instagram::aws:ec2\/instance:Instance::app-0: instanceType = "c7i\.3xlarge" must be one of the \d+ values of InstanceType \[AWS API models: ec2 RunInstances InstanceType: shape InstanceType, botocore [\d.]+\]$/),
        ]);
        expect(await checkResource(awsAcceptsInputs, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", { ...RULE, description: "Job workers to pgbouncer (a photo's owner)" })).toEqual([
            expect.stringContaining(`description = "Job workers to pgbouncer (a photo's owner)" must contain only a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (found "'") [AWS documentation: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html]`),
        ]);
        const [message, ...rest] = await checkResource(awsAcceptsInputs, "aws:iam/rolePolicy:RolePolicy", ROLE_POLICY("s3:GetObjekt"));
        expect(rest).toEqual([]);
        expect(message).toMatch(/s3:GetObjekt.*\[IAM service catalogue: /);
    });

    test("what CrossGuard passes as unknown (at preview) or secret is not checked", async () => {
        const unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        expect(await checkResource(awsAcceptsInputs, "aws:ec2/instance:Instance", { ...INSTANCE, instanceType: unknownString })).toEqual([]);
        expect(await checkResource(awsAcceptsInputs, "aws:ssm/parameter:Parameter", { name: "/instagram/dev/redis-auth", type: "SecureString", value: new Secret("x".repeat(5000)) })).toEqual([]);
        // The same value in the clear is over the standard tier's 4 KB.
        expect(await checkResource(awsAcceptsInputs, "aws:ssm/parameter:Parameter", { name: "/instagram/dev/redis-auth", type: "SecureString", value: "x".repeat(5000) })).toHaveLength(1);
    });
});

describe("aws-accepts-stack", () => {
    test("the real program's graph has no violation; 61 inbound rules on one group is one", async () => {
        const resources = policyResources(await runMocked("dev"));
        expect(awsAcceptsStack.enforcementLevel).toBe("mandatory");
        expect(await checkStack(awsAcceptsStack, resources)).toEqual([]);
        const group = resources.find((r) => r.type === "aws:ec2/securityGroup:SecurityGroup" && r.name.endsWith("-app"))!;
        const crowded: PolicyResource[] = Array.from({ length: 61 }, (_, i) => ({
            type: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            name: `extra-${i}`,
            urn: `urn:pulumi:dev::instagram::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::extra-${i}`,
            props: { securityGroupId: group.props.id, ipProtocol: "tcp", fromPort: 10000 + i, toPort: 10000 + i, cidrIpv4: "10.20.0.0/16" },
            opts: {} as never,
            dependencies: [group],
            propertyDependencies: { securityGroupId: [group] },
        } as unknown as PolicyResource));
        const found = await checkStack(awsAcceptsStack, [...resources, ...crowded]);
        expect(found).toHaveLength(1);
        expect(found[0].message).toMatch(/must have at most 60 inbound IPv4 rules/);
        expect(found[0].urn).toBe(group.urn);
    });
});

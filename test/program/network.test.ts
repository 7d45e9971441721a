import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { groupRoles, T } from "../harness/queries";

let dev: ProgramRun;
let wide: ProgramRun;
beforeAll(async () => {
    dev = await runStack("dev");
    wide = await runStack("instagram-2011", { "instagram:adminCidrs": ["203.0.113.0/24"] });
});

/** "from->to:port" for every rule between groups, "cidr->to:port" for the rest. */
function ruleKeys(run: ProgramRun, type: string): string[] {
    const roles = groupRoles(run);
    return run.ofType(type).map((r) => {
        const self = roles.get(r.inputs.securityGroupId);
        const other = r.inputs.referencedSecurityGroupId ? roles.get(r.inputs.referencedSecurityGroupId) : r.inputs.cidrIpv4;
        return type === T.ingress ? `${other}->${self}:${r.inputs.fromPort}` : `${self}->${other}:${r.inputs.fromPort}`;
    }).sort();
}

describe("network", () => {
    test("one public and one private subnet in each of azCount distinct AZs", () => {
        for (const [run, azCount] of [[dev, 2], [wide, 3]] as const) {
            const subnets = run.ofType(T.subnet);
            for (const tier of ["public", "private"]) {
                const azs = subnets.filter((s) => s.inputs.tags.Tier === tier).map((s) => s.inputs.availabilityZone);
                expect(azs).toHaveLength(azCount);
                expect(new Set(azs).size).toBe(azCount);
            }
            expect(subnets.every((s) => s.inputs.mapPublicIpOnLaunch === false)).toBe(true);
        }
    });

    test("private subnets route out through NAT: one per AZ, or one in all when natPerAz is off", () => {
        expect(dev.ofType(T.natGateway)).toHaveLength(1);
        expect(wide.ofType(T.natGateway)).toHaveLength(3);
        for (const run of [dev, wide]) {
            const nats = new Set(run.ofType(T.natGateway).map((n) => n.state.id));
            const privateTables = run.ofType(T.routeTable).filter((r) => r.name.includes("private"));
            for (const table of privateTables) {
                expect(table.inputs.routes).toHaveLength(1);
                expect(nats.has(table.inputs.routes[0].natGatewayId)).toBe(true);
            }
        }
    });

    test("S3 from the private subnets goes through a gateway endpoint in the stack's region, on every private route table and no public one", async () => {
        // Both stacks are in us-east-1.
        for (const run of [dev, wide]) {
            const endpoints = run.ofType("aws:ec2/vpcEndpoint:VpcEndpoint");
            expect(endpoints).toHaveLength(1);
            const [s3] = endpoints;
            expect(s3.inputs).toMatchObject({ vpcEndpointType: "Gateway", serviceName: "com.amazonaws.us-east-1.s3", vpcId: run.ofType("aws:ec2/vpc:Vpc")[0].state.id });
            expect(s3.inputs.policy).toBeUndefined();
            const tables = run.ofType(T.routeTable);
            const ids = (tier: string) => tables.filter((t) => t.name.includes(tier)).map((t) => t.state.id).sort();
            expect([...s3.inputs.routeTableIds].sort()).toEqual(ids("private"));
            expect(ids("private")).toHaveLength(run === dev ? 2 : 3);
        }
        const elsewhere = await runStack("dev", { "aws:region": "eu-south-2" });
        expect(elsewhere.ofType("aws:ec2/vpcEndpoint:VpcEndpoint")[0].inputs.serviceName).toBe("com.amazonaws.eu-south-2.s3");
    });

    test("exactly the designed group-to-group paths exist, each as ingress on the target and egress on the source", () => {
        const expected = [
            "lb->app:80",
            "app->shard:6432",
            "shard->shard:5432",
            "app->redis:6379",
            "redis->redis:6379",
            "app->memcached:11211",
            "app->gearman:4730",
            "worker->gearman:4730",
            "worker->shard:6432",
            "worker->redis:6379",
            "app->search:6432",
            "worker->search:6432",
            "search->search:5432",
            ...["app", "shard", "redis", "memcached", "gearman", "worker", "search"].map((to) => `monitoring->${to}:4949`),
        ].sort();
        for (const run of [dev, wide]) {
            const ingress = ruleKeys(run, T.ingress).filter((k) => !k.includes("/"));
            const egress = ruleKeys(run, T.egress).filter((k) => !k.includes("/"));
            expect(ingress).toEqual(expected);
            expect(egress).toEqual(expected);
        }
    });

    test("from the internet only the load balancer's 80 and 443; SSH only from adminCidrs, and none by default", () => {
        expect(ruleKeys(dev, T.ingress).filter((k) => k.includes("/"))).toEqual(["0.0.0.0/0->lb:443", "0.0.0.0/0->lb:80"]);
        expect(ruleKeys(wide, T.ingress).filter((k) => k.includes("/"))).toEqual([
            "0.0.0.0/0->lb:443",
            "0.0.0.0/0->lb:80",
            ...["app", "gearman", "memcached", "monitoring", "redis", "search", "shard", "worker"].map((r) => `203.0.113.0/24->${r}:22`),
        ]);
        expect(dev.ofType(T.ingress).some((r) => r.inputs.fromPort === 22)).toBe(false);
    });

    test("hosts reach the internet only on 80 and 443, and the load balancer not at all", () => {
        const out = ruleKeys(dev, T.egress).filter((k) => k.includes("/"));
        expect(out).toEqual(["app", "gearman", "memcached", "monitoring", "redis", "search", "shard", "worker"].flatMap((r) => [`${r}->0.0.0.0/0:443`, `${r}->0.0.0.0/0:80`]).sort());
        expect(ruleKeys(dev, T.egress).filter((k) => k.startsWith("lb->"))).toEqual(["lb->app:80"]);
    });

    test("every rule is a single TCP port with a description", () => {
        for (const r of [...wide.ofType(T.ingress), ...wide.ofType(T.egress)]) {
            expect(r.inputs.ipProtocol, r.name).toBe("tcp");
            expect(r.inputs.fromPort, r.name).toBe(r.inputs.toPort);
            expect(r.inputs.description?.length, r.name).toBeGreaterThan(10);
        }
    });

    test("the VPC's default security group is taken over with no rules", () => {
        const d = dev.ofType("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup");
        expect(d).toHaveLength(1);
        expect(d[0].inputs.ingress ?? []).toEqual([]);
        expect(d[0].inputs.egress ?? []).toEqual([]);
    });
});

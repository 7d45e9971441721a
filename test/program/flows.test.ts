/**
 * Every connection a host makes (test/harness/flows.ts: read from its user data, the shard directory, the
 * load balancer, its role, the operations scripts) is allowed by the plan's security groups, out of its
 * source and into its destination, at both profiles; and every rule is used by some flow, or is in the short
 * list of rules that exist for something other than the hosts (said why).
 */
import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { groupRoles, T } from "../harness/queries";
import { Flow, recordFlows, refusal, rulesFor, securityRules } from "../harness/flows";

let dev: ProgramRun;
let seed: ProgramRun;
beforeAll(async () => {
    dev = await runStack("dev");
    seed = await runStack("instagram-2011", { "instagram:adminCidrs": ["203.0.113.0/24"] });
});

const key = (f: Flow) => `${f.from.name}->${f.to.name}:${f.port}`;

/** The rules no flow uses, as "from->to:port" by group role. */
function unusedRules(run: ProgramRun, flows: Flow[]): string[] {
    const rules = securityRules(run);
    const used = new Set(flows.flatMap((f) => {
        const { egress, ingress } = rulesFor(f, rules);
        return [...egress, ...ingress];
    }));
    const roles = groupRoles(run);
    return rules.filter((r) => !used.has(r)).map((r) => {
        const self = roles.get(r.group);
        const peer = r.peerGroup ? roles.get(r.peerGroup) : r.cidr;
        return r.direction === "ingress" ? `${peer}->${self}:${r.port} in` : `${self}->${peer}:${r.port} out`;
    }).sort();
}

describe.each(["dev", "instagram-2011"])("the %s stack's flows", (stack) => {
    const run = () => (stack === "dev" ? dev : seed);

    test("every flow a host makes is allowed by the source's egress and the destination's ingress", () => {
        const flows = recordFlows(run());
        const rules = securityRules(run());
        expect(flows.filter((f) => refusal(f, rules)).map((f) => refusal(f, rules))).toEqual([]);
        // The recording found what the tiers are for (so an empty refusal list means something).
        const generic = (e: Flow["from"]) => (e.groups.length > 0 ? e.name.replace(/-\d+/g, "-N") : e.name);
        const names = new Set(flows.map((f) => `${generic(f.from)}->${generic(f.to)}:${f.port}`));
        for (const expected of [
            "internet->lb:443", "lb->app-N:80", "app-N->shard-N-primary:6432", "app-N->redis-primary:6379", "app-N->memcached-N:11211",
            "app-N->gearman-N:4730", "app-N->search-primary:6432", "munin->app-N:4949", "munin->shard-N-primary:4949",
            "app-N->archive.ubuntu.com:80", "app-N->deb.nodesource.com:443", "shard-N-primary->s3.us-east-1.amazonaws.com:443",
            "redis-primary->monitoring.us-east-1.amazonaws.com:443", "app-N->ssm.us-east-1.amazonaws.com:443",
        ]) {
            expect(names, expected).toContain(expected);
        }
        if (stack === "instagram-2011") {
            for (const expected of ["shard-N-standby->shard-N-primary:5432", "redis-replica->redis-primary:6379", "search-standby->search-primary:5432", "worker-N->gearman-N:4730", "worker-N->shard-N-primary:6432", "shard-N-primary->shard-N-primary:5432", "app-N->shard-N-standby:6432"]) {
                expect(names, expected).toContain(expected);
            }
        }
    });

    test("a rule no flow uses is kept for people, or for a tier (or a second host of one) this profile does not run", () => {
        const unused = unusedRules(run(), recordFlows(run()));
        console.log(`${stack}: rules no host flow uses:\n${unused.map((u) => `  ${u}`).join("\n") || "  (none)"}`);
        const hostsOf = (role: string) => run().ofType(T.instance).filter((i) => i.inputs.tags.Role === role).length;
        const unexplained = unused.filter((u) => {
            const [, from, to] = /^(\S+)->(\S+):\d+ (in|out)$/.exec(u)!;
            if (from === "203.0.113.0/24" && u.includes(":22 in")) return false; // SSH from adminCidrs: people
            if (from === "0.0.0.0/0") return hostsOf(to) > 0;
            if (to === "0.0.0.0/0") return hostsOf(from) > 0;
            return hostsOf(from) > (from === to ? 1 : 0) && hostsOf(to) > (from === to ? 1 : 0);
        });
        expect(unexplained).toEqual([]);
        if (stack === "dev") expect(unused).toContain("worker->gearman:4730 out"); // no worker hosts in dev
    });
});

test("a flow the groups would drop is reported, naming the missing rule (the evaluation can fail)", () => {
    const flows = recordFlows(dev);
    const rules = securityRules(dev);
    const toMemcached = flows.find((f) => /^app-/.test(f.from.name) && f.port === 11211)!;
    const withoutIngress = rules.filter((r) => !(r.direction === "ingress" && r.port === 11211));
    expect(refusal(toMemcached, withoutIngress)).toMatch(/^app-0 -> memcached-0:11211 \(\/etc\/instagram\/app\.env\): no ingress rule of memcached-0$/);
    const toRedisOnAnotherPort = { ...flows.find((f) => /^app-/.test(f.from.name) && f.port === 6379)!, port: 6380 };
    expect(refusal(toRedisOnAnotherPort, rules)).toMatch(/no egress rule of app-0, no ingress rule of redis-primary/);
    expect(key(toMemcached)).toBe("app-0->memcached-0:11211");
});

import { describe, expect, test } from "vitest";
import { awsCommandEnvironment, CONFIG_KEYS, ConfigError, validateConfig } from "../../core/config";
import { loadStackConfig } from "../../local/project-files";

function problemsOf(overrides: Record<string, unknown>, stack = "dev"): string[] {
    try {
        validateConfig(loadStackConfig(stack, overrides));
    } catch (e) {
        if (e instanceof ConfigError) return [...e.problems];
        throw e;
    }
    return [];
}

describe("stack config validation", () => {
    test("both shipped stacks are valid and parse to typed values", () => {
        const dev = validateConfig(loadStackConfig("dev"));
        expect(dev).toMatchObject({ region: "us-east-1", domain: "dev.example.com", appServers: 1, physicalShards: 1, shardStandby: false, shardRaidLevel: 0, adminCidrs: [] });
        const seed = validateConfig(loadStackConfig("instagram-2011"));
        expect(seed).toMatchObject({ appServers: 25, appInstanceType: "c7i.2xlarge", physicalShards: 12, shardStandby: true, memcachedNodes: 6, redisReplica: true, shardRaidLevel: 10 });
    });

    test.each([
        ["instagram:azCount", 4, /instagram:azCount = "4": must be an integer from 2 to 3/],
        ["instagram:azCount", "two", /Pulumi.yaml declares it as an integer/],
        ["instagram:domain", "Example..com", /instagram:domain = "Example..com": must be a lower-case DNS name/],
        ["instagram:domain", "localhost", /instagram:domain = "localhost"/],
        ["instagram:hostedZoneId", "zone-1", /instagram:hostedZoneId = "zone-1": must be a Route53 hosted zone ID/],
        ["instagram:ubuntuRelease", "20.04", /instagram:ubuntuRelease = "20.04": must be one of 22.04, 24.04/],
        ["instagram:ubuntuRelease", "22.04", /instagram:ubuntuRelease = "22.04": must be 24.04: Ubuntu 22.04 ships pgBackRest 2.37, which cannot use the IMDSv2 tokens every host requires \(support came in 2.39\)/],
        ["instagram:vpcCidr", "10.0.0.0/8", /instagram:vpcCidr = "10.0.0.0\/8": must be a private IPv4 network .* \/16 to \/22/],
        ["instagram:vpcCidr", "8.8.0.0/16", /instagram:vpcCidr = "8.8.0.0\/16"/],
        ["instagram:vpcCidr", "10.0.0.1/16", /instagram:vpcCidr/],
        ["instagram:adminCidrs", ["0.0.0.0/0"], /instagram:adminCidrs = .*never 0.0.0.0\/0/],
        ["instagram:adminCidrs", ["203.0.113.7"], /instagram:adminCidrs/],
        ["instagram:adminCidrs", "203.0.113.0/24", /Pulumi.yaml declares it as an array/],
        ["instagram:natPerAz", "yes", /instagram:natPerAz = "yes": Pulumi.yaml declares it as a boolean/],
        ["instagram:appServers", 0, /instagram:appServers = "0": must be an integer from 1 to 200/],
        ["instagram:appInstanceType", "c1.xlarge", /instagram:appInstanceType = "c1.xlarge": must be an instance type of a known family/],
        ["instagram:appWorkers", -1, /instagram:appWorkers = "-1"/],
        ["instagram:logicalShards", 8193, /instagram:logicalShards = "8193": must be an integer from 1 to 8192/],
        ["instagram:shardVolumes", 0, /instagram:shardVolumes = "0"/],
        ["instagram:shardVolumeGiB", 20000, /instagram:shardVolumeGiB = "20000"/],
        ["instagram:shardRaidLevel", 5, /instagram:shardRaidLevel = "5": must be 0 or 10/],
        ["instagram:memcachedNodes", 0, /instagram:memcachedNodes = "0"/],
        ["instagram:gearmanServers", 0, /instagram:gearmanServers = "0": must be an integer from 1 to 8/],
        ["instagram:searchServers", 3, /instagram:searchServers = "3": must be an integer from 0 to 2/],
        ["instagram:alertEmails", ["oncall"], /instagram:alertEmails = .*: must be a JSON list of up to 20 e-mail addresses/],
        ["instagram:pagerdutyEscalationPolicy", "abc", /instagram:pagerdutyEscalationPolicy = "abc": must be a PagerDuty escalation policy ID, such as PABC123/],
        ["instagram:alarmLb5xxPercent", "0", /instagram:alarmLb5xxPercent = "0": must be a number from 0.01 to 100/],
        ["instagram:alarmLbP99Ms", 5, /instagram:alarmLbP99Ms = "5": must be an integer from 10 to 60000/],
        ["instagram:workerServers", -1, /instagram:workerServers = "-1"/],
        ["instagram:jobWorkers", 513, /instagram:jobWorkers = "513"/],
        ["instagram:shareDestinations", "not json", /instagram:shareDestinations = "not json": must be a JSON list .*: not JSON/],
        ["instagram:shareDestinations", JSON.stringify([{ name: "tw", url: "http://share.example.com/" }]), /entry 0 \(tw\): url must be https:\/\/HOST\/PATH/],
        ["instagram:shareDestinations", JSON.stringify([{ name: "tw", url: "https://share.example.com:8443/" }]), /url must use port 443 \(hosts reach the internet on 443 only\)/],
        ["instagram:shareDestinations", JSON.stringify([{ name: "tw", url: "https://u:p@share.example.com/" }]), /no credentials/],
        ["instagram:shareDestinations", JSON.stringify([{ name: "Twitter!", url: "https://share.example.com/" }]), /name must be 1-32 lower-case letters/],
        ["instagram:shareDestinations", JSON.stringify([{ name: "tw", url: "https://a.example.com/" }, { name: "tw", url: "https://b.example.com/" }]), /name tw is listed twice/],
        ["instagram:shareDestinations", JSON.stringify([{ name: "tw", url: "https://a.example.com/", token: "x" }]), /unknown field\(s\) token/],
        ["instagram:shareDestinations", JSON.stringify([{ name: "tw", url: "https://a.example.com/", timeoutSeconds: 30, attempts: 10 }]), /fit in 110 s \(tw may take 811 s\)/],
        ["aws:region", "mars-1", /aws:region = "mars-1": must be an AWS region name/],
        ["aws:profile", "my profile", /aws:profile = "my profile": must be a profile name from your AWS config/],
    ])("%s = %j is refused with a message naming the key and what is allowed", (key, value, message) => {
        const problems = problemsOf({ [key]: value });
        expect(problems).toHaveLength(1);
        expect(problems[0]).toMatch(message);
    });

    test("values as the Pulumi runtime passes them (strings) are parsed strictly", () => {
        const raw = loadStackConfig("dev");
        expect(() => validateConfig({ ...raw, "instagram:natPerAz": "yes" })).toThrow(/instagram:natPerAz = "yes": must be true or false/);
        expect(() => validateConfig({ ...raw, "instagram:appServers": "2.5" })).toThrow(/instagram:appServers = "2.5": must be an integer/);
        expect(() => validateConfig({ ...raw, "instagram:adminCidrs": "not json" })).toThrow(/instagram:adminCidrs = "not json": must be a list/);
        expect(validateConfig({ ...raw, "instagram:adminCidrs": '["198.51.100.0/24"]' }).adminCidrs).toEqual(["198.51.100.0/24"]);
    });

    test("aws:profile is optional, and handed to both AWS providers when set", () => {
        const raw = loadStackConfig("dev");
        expect(validateConfig(raw).profile).toBeUndefined();
        expect(validateConfig({ ...raw, "aws:profile": "prod-admin" }).profile).toBe("prod-admin");
    });

    test("the deploy-time commands get the region and, when set, the profile by name: never a credential", () => {
        const raw = loadStackConfig("dev");
        expect(awsCommandEnvironment(validateConfig({ ...raw, "aws:profile": "prod-admin", "aws:region": "eu-south-2" }))).toEqual({ AWS_REGION: "eu-south-2", AWS_PROFILE: "prod-admin" });
        expect(awsCommandEnvironment(validateConfig(raw))).toEqual({ AWS_REGION: "us-east-1" });
    });

    test("every problem is reported at once, not just the first", () => {
        const problems = problemsOf({ "instagram:azCount": 9, "instagram:appServers": -3, "instagram:domain": "x" });
        expect(problems.map((p) => p.split(" ")[0])).toEqual(["instagram:domain", "instagram:azCount", "instagram:appServers"]);
    });

    test("a missing required key names the command that sets it", () => {
        const raw = loadStackConfig("dev");
        delete raw["instagram:domain"];
        expect(() => validateConfig(raw)).toThrow(/instagram:domain is not set: set it with `pulumi config set instagram:domain VALUE`/);
    });

    test("a misspelt key is reported instead of silently falling back to a default", () => {
        expect(problemsOf({ "instagram:appServer": 3 })).toEqual([
            "instagram:appServer is not a key this program reads (a typo?); the keys are declared in Pulumi.yaml",
        ]);
    });

    test("cross-key rules name every key involved", () => {
        expect(problemsOf({ "instagram:physicalShards": 4, "instagram:logicalShards": 3 })).toEqual([
            expect.stringMatching(/instagram:logicalShards = 3: must be at least instagram:physicalShards \(4\)/),
        ]);
        expect(problemsOf({ "instagram:shardRaidLevel": 10, "instagram:shardVolumes": 3 })).toEqual([
            expect.stringMatching(/instagram:shardVolumes = 3: RAID 10 \(instagram:shardRaidLevel\) needs an even number of volumes, at least 4/),
        ]);
        expect(problemsOf({ "instagram:shardRaidLevel": 10, "instagram:shardVolumes": 2 })).toHaveLength(1);
        expect(problemsOf({ "instagram:shardRaidLevel": 10, "instagram:shardVolumes": 6 })).toEqual([]);
    });

    test("an instance type too small for its daemon is refused at validation, naming the type", () => {
        expect(problemsOf({ "instagram:shardInstanceType": "t3.nano" })).toEqual([
            expect.stringMatching(/instagram:shardInstanceType = "t3.nano": t3.nano has 0.5 GiB of memory; a PostgreSQL host \(shard or search\) needs at least 1 GiB/),
        ]);
    });

    test("the validator and Pulumi.yaml declare the same keys", () => {
        const merged = loadStackConfig("dev");
        for (const { key } of CONFIG_KEYS) {
            if (["instagram:domain", "instagram:hostedZoneId", "instagram:appRelease", "aws:profile",
                "instagram:apnsTeamId", "instagram:apnsKeyId", "instagram:apnsTopic", "instagram:apnsKey", "instagram:fcmProjectId", "instagram:fcmServiceAccount",
                "instagram:pagerdutyEscalationPolicy", "instagram:sentryDsn"].includes(key)) continue; // no default by design (push is off, and PagerDuty not used, until they are set)
            expect(merged[key], `${key} has no default in Pulumi.yaml`).toBeDefined();
        }
    });
});

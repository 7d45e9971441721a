import { beforeAll, describe, expect, test } from "vitest";
import { ProgramRun } from "../../tools/offline/runtime";
import { runStack } from "../harness/run";
import { policyOf, T } from "../harness/queries";
import { ALB_ZONE_ID, HOSTED_ZONE_ID } from "../../tools/offline/example-mocks";
import { ALB_SSL_POLICY } from "../../components/edge";
import { ELB_LOG_DELIVERY_SERVICE } from "../../core/log-delivery";

let dev: ProgramRun;
let seed: ProgramRun;
beforeAll(async () => {
    dev = await runStack("dev");
    seed = await runStack("instagram-2011", { "instagram:hostedZoneId": "ZGIVEN0123456" });
});

describe("edge", () => {
    test("an internet-facing ALB in the public subnets that drops invalid headers, mitigates desync and logs access", () => {
        const lb = dev.named(T.loadBalancer, "edge");
        const publicSubnets = dev.ofType(T.subnet).filter((s) => s.inputs.tags.Tier === "public").map((s) => s.state.id);
        expect(lb.inputs).toMatchObject({ loadBalancerType: "application", internal: false, dropInvalidHeaderFields: true, desyncMitigationMode: "defensive" });
        expect([...lb.inputs.subnets].sort()).toEqual([...publicSubnets].sort());
        const logs = dev.named(T.bucket, "edge-logs");
        expect(lb.inputs.accessLogs).toEqual({ bucket: logs.state.bucket, prefix: "alb", enabled: true });
        const statements = policyOf(dev.ofType(T.bucketPolicy).find((p) => p.inputs.bucket === logs.state.id)!).Statement;
        expect(statements).toContainEqual(expect.objectContaining({ Effect: "Allow", Principal: { Service: ELB_LOG_DELIVERY_SERVICE }, Action: "s3:PutObject" }));
    });

    test("deletion protection follows the config", () => {
        expect(dev.named(T.loadBalancer, "edge").inputs.enableDeletionProtection).toBe(false);
        expect(seed.named(T.loadBalancer, "edge").inputs.enableDeletionProtection).toBe(true);
    });

    test("HTTPS with a TLS 1.2+ AEAD-only policy, HSTS and no Server header, and the validated certificate; HTTP only redirects, to the site's name", () => {
        const https = dev.named(T.listener, "edge-https");
        const validation = dev.named(T.certificateValidation, "edge-cert");
        expect(https.inputs).toMatchObject({ port: 443, protocol: "HTTPS", sslPolicy: ALB_SSL_POLICY, certificateArn: validation.state.certificateArn });
        expect(https.inputs).toMatchObject({ routingHttpResponseStrictTransportSecurityHeaderValue: "max-age=31536000; includeSubDomains", routingHttpResponseServerEnabled: false });
        expect(https.inputs.defaultActions).toEqual([{ type: "forward", targetGroupArn: dev.named(T.targetGroup, "edge").state.arn }]);
        const http = dev.named(T.listener, "edge-http");
        expect(http.inputs.defaultActions).toEqual([{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", host: "dev.example.com", statusCode: "HTTP_301" } }]);
        // TLS13-1-2-Res: TLS 1.3 and 1.2, ECDHE with AES-GCM only (the plain TLS13-1-2 policy also offers CBC suites).
        expect(ALB_SSL_POLICY).toBe("ELBSecurityPolicy-TLS13-1-2-Res-2021-06");
    });

    test("the target group health-checks /healthz over HTTP on every app host", () => {
        const tg = seed.named(T.targetGroup, "edge");
        expect(tg.inputs).toMatchObject({ port: 80, protocol: "HTTP", targetType: "instance", deregistrationDelay: 30 });
        expect(tg.inputs.healthCheck).toMatchObject({ enabled: true, path: "/healthz", protocol: "HTTP", matcher: "200" });
        const apps = seed.ofType(T.instance).filter((i) => i.inputs.tags.Role === "app").map((i) => i.state.id).sort();
        expect(apps).toHaveLength(25);
        expect(seed.ofType(T.targetGroupAttachment).map((a) => a.inputs.targetId).sort()).toEqual(apps);
        expect(seed.ofType(T.targetGroupAttachment).every((a) => a.inputs.targetGroupArn === tg.state.arn)).toBe(true);
    });

    test("the apex and www are aliases of the load balancer; the certificate covers both and is validated by DNS", () => {
        const lb = dev.named(T.loadBalancer, "edge");
        for (const [name, fqdn] of [["edge-apex", "dev.example.com"], ["edge-www", "www.dev.example.com"]]) {
            const r = dev.named(T.record, name);
            expect(r.inputs).toMatchObject({ zoneId: HOSTED_ZONE_ID, name: fqdn, type: "A" });
            expect(r.inputs.aliases).toEqual([{ name: lb.state.dnsName, zoneId: ALB_ZONE_ID, evaluateTargetHealth: true }]);
        }
        const cert = dev.named(T.certificate, "edge-cert");
        expect(cert.inputs).toMatchObject({ domainName: "dev.example.com", subjectAlternativeNames: ["www.dev.example.com"], validationMethod: "DNS" });
        const validationNames = cert.state.domainValidationOptions.map((o: { resourceRecordName: string }) => o.resourceRecordName).sort();
        const records = [0, 1].map((i) => dev.named(T.record, `edge-cert-validation-${i}`).inputs.name).sort();
        expect(records).toEqual(validationNames);
        expect(dev.named(T.certificateValidation, "edge-cert").inputs.validationRecordFqdns).toHaveLength(2);
    });

    test("the hosted zone is looked up by domain unless its ID is configured", () => {
        expect(dev.calls.filter((c) => c.token === "aws:route53/getZone:getZone").map((c) => c.inputs)).toEqual([{ name: "dev.example.com", privateZone: false }]);
        expect(seed.calls.some((c) => c.token === "aws:route53/getZone:getZone")).toBe(false);
        expect(seed.ofType(T.record).every((r) => r.inputs.zoneId === "ZGIVEN0123456")).toBe(true);
    });
});

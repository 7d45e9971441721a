/**
 * Stand-ins for what a booting host reaches on AWS, on loopback: instance metadata (IMDSv2, the role's
 * credentials, region, the VM's own address), SSM GetParameter for the stack's secrets, and S3 GetObject
 * for release bundles. The VMs reach them through guestfwd at the addresses build-image.sh gives the role
 * scripts (INSTAGRAM_IMDS_ENDPOINT=http://10.0.2.100, INSTAGRAM_SSM_ENDPOINT=...101, INSTAGRAM_S3_ENDPOINT=...102,
 * pgBackRest INSTAGRAM_BACKUP_S3_ENDPOINT=10.0.2.103:443: the session's backup bucket, shared by its VMs, and
 * the host metrics publisher's INSTAGRAM_CLOUDWATCH_ENDPOINT=http://10.0.2.104, CloudWatch's PutMetricData).
 * Each VM's SSM, S3 and CloudWatch stand-ins record every request they served, in IAM's terms, into the VM's
 * one recorder (`calls`, test/harness/aws-calls.ts), for its calls to be evaluated against its role's policy.
 */
import * as http from "http";
import { FakeImds, startFakeImds } from "../../harness/fake-imds";
import { AwsCallRecorder, cloudWatchCalls, s3Calls, ssmCalls } from "../../harness/aws-calls";
import { Forward } from "./vm";

export interface AwsStandIns {
    readonly forwards: Forward[];
    /** Requests the SSM stand-in answered, by parameter name. */
    readonly ssmReads: string[];
    /** PutMetricData requests the CloudWatch stand-in took (the host metrics publisher's), as their form fields. */
    readonly metricPuts: URLSearchParams[];
    /** Every request its SSM, S3 and CloudWatch stand-ins served, as the IAM actions AWS authorizes them with. */
    readonly calls: AwsCallRecorder;
    close(): Promise<void>;
}

/** The region the stand-in IMDS names (the dev stack's). */
const REGION = "us-east-1";

/** What the stand-in IMDS hands out as the role's credentials (build-image.sh gives pgBackRest the same). */
export const BOOT_CREDENTIALS = { accessKeyId: "ASIABOOTTEST", secretAccessKey: "boot/test+secret", sessionToken: "boot-test-token" };

export async function startAwsStandIns(host: string, o: { parameters: Record<string, string>; objects?: Record<string, Buffer>; privateIp?: string; backupS3?: { host: string; port: number } }): Promise<AwsStandIns> {
    const creds = { Code: "Success", AccessKeyId: BOOT_CREDENTIALS.accessKeyId, SecretAccessKey: BOOT_CREDENTIALS.secretAccessKey, Token: BOOT_CREDENTIALS.sessionToken, Expiration: "2030-01-01T00:00:00Z" };
    const imds: FakeImds = await startFakeImds(host, {
        "iam/security-credentials/": "boot-test-role",
        "iam/security-credentials/boot-test-role": JSON.stringify(creds),
        "placement/region": REGION,
        "local-ipv4": o.privateIp ?? "10.0.2.15",
    });
    const calls = new AwsCallRecorder();
    const ssmReads: string[] = [];
    const ssm = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            const name = (JSON.parse(body || "{}") as { Name?: string }).Name ?? "";
            if (!req.headers.authorization?.startsWith("AWS4-HMAC-SHA256 ") || !(name in o.parameters)) {
                res.statusCode = 400;
                res.end(JSON.stringify({ __type: "ParameterNotFound" }));
                return;
            }
            ssmReads.push(name);
            calls.record(() => ssmCalls(String(req.headers["x-amz-target"]).replace(/^AmazonSSM\./, ""), JSON.parse(body), REGION));
            res.setHeader("Content-Type", "application/x-amz-json-1.1");
            res.end(JSON.stringify({ Parameter: { Name: name, Type: "SecureString", Value: o.parameters[name], Version: 1 } }));
        });
    });
    const s3 = http.createServer((req, res) => {
        const object = o.objects?.[decodeURIComponent(req.url ?? "")];
        if (!req.headers.authorization?.startsWith("AWS4-HMAC-SHA256 ") || !object) {
            res.statusCode = 404;
            res.end();
            return;
        }
        calls.record(() => s3Calls(req.method!, req.url!, req.headers));
        res.end(object);
    });
    // CloudWatch's Query API: a signed form POST scoped to the monitoring service, recorded for the test.
    const metricPuts: URLSearchParams[] = [];
    const cloudwatch = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            const form = new URLSearchParams(body);
            if (!/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/us-east-1\/monitoring\/aws4_request, /.test(req.headers.authorization ?? "") || form.get("Action") !== "PutMetricData") {
                res.statusCode = 400;
                res.end("<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>");
                return;
            }
            metricPuts.push(form);
            calls.record(() => cloudWatchCalls(form));
            res.setHeader("Content-Type", "text/xml");
            res.end("<PutMetricDataResponse><ResponseMetadata><RequestId>boot</RequestId></ResponseMetadata></PutMetricDataResponse>");
        });
    });
    const listen = (server: http.Server) => new Promise<number>((resolve) => server.listen(0, host, () => resolve((server.address() as { port: number }).port)));
    const imdsPort = Number(new URL(imds.url).port);
    const ssmPort = await listen(ssm);
    const s3Port = await listen(s3);
    const cloudwatchPort = await listen(cloudwatch);
    return {
        forwards: [
            { guest: "10.0.2.100", guestPort: 80, host, hostPort: imdsPort },
            { guest: "10.0.2.101", guestPort: 80, host, hostPort: ssmPort },
            { guest: "10.0.2.102", guestPort: 80, host, hostPort: s3Port },
            ...(o.backupS3 ? [{ guest: "10.0.2.103", guestPort: 443, host: o.backupS3.host, hostPort: o.backupS3.port }] : []),
            { guest: "10.0.2.104", guestPort: 80, host, hostPort: cloudwatchPort },
        ],
        ssmReads,
        metricPuts,
        calls,
        close: async () => {
            await imds.close();
            await new Promise((resolve) => ssm.close(resolve));
            await new Promise((resolve) => s3.close(resolve));
            await new Promise((resolve) => cloudwatch.close(resolve));
        },
    };
}

/** The metric names a host has published so far to the CloudWatch stand-in, for its Host dimension. */
export function publishedMetrics(aws: AwsStandIns, host: string): string[] {
    const names = new Set<string>();
    for (const form of aws.metricPuts) {
        for (let n = 1; form.has(`MetricData.member.${n}.MetricName`); n++) {
            if (form.get(`MetricData.member.${n}.Dimensions.member.1.Value`) === host) names.add(form.get(`MetricData.member.${n}.MetricName`)!);
        }
    }
    return [...names].sort();
}

/**
 * The provider stand-in for `npm run plan`: it answers only what is known without the cloud, as a
 * `pulumi preview` of a new stack would. A resource's inputs come back as its outputs; everything a provider
 * computes (IDs, ARNs, addresses, DNS names, generated passwords, a command's output) and every data-source
 * answer (AMIs, zones, the account) stays unknown, and so does everything derived from them. The one
 * exception is the app bundle's build: it is reproducible and runs here, so its manifest (the release's
 * SHA-256) is real.
 */
import { execFile } from "child_process";
import * as pulumi from "@pulumi/pulumi";
import { UNKNOWN } from "./runtime";

/** The outputs each data source the program calls would return, all unknown offline. */
const CALL_OUTPUTS: Record<string, readonly string[]> = {
    "aws:ec2/getAmi:getAmi": ["id", "architecture", "ownerId", "name", "imageId"],
    "aws:s3/getObject:getObject": ["id", "bucket", "key", "contentType", "versionId", "etag"],
    "aws:index/getAvailabilityZones:getAvailabilityZones": ["id", "names", "zoneIds"],
    "aws:route53/getZone:getZone": ["id", "zoneId", "name", "nameServers", "arn"],
    "aws:index/getCallerIdentity:getCallerIdentity": ["id", "accountId", "arn", "userId"],
    "aws:index/getRegion:getRegion": ["id", "name", "region", "endpoint"],
    "aws:index/getPartition:getPartition": ["id", "partition", "dnsSuffix"],
    "aws:iam/getPolicyDocument:getPolicyDocument": ["id", "json"],
    "pagerduty:index/getVendor:getVendor": ["id", "name", "type"],
};

/** The command whose output the plan computes for real: the reproducible app build. */
export function isAppBuild(inputs: Record<string, any>): boolean {
    return typeof inputs.create === "string" && /\bbuild:app\b/.test(inputs.create);
}

function runCommand(command: string, dir: string): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile("sh", ["-c", command], { cwd: dir, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
            if (error) reject(new Error(`the app build (${command}) failed: ${stderr.trim() || error.message}`));
            else resolve(stdout);
        });
    });
}

export class PreviewMocks implements pulumi.runtime.Mocks {
    async newResource(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string; state: Record<string, unknown> }> {
        // An empty ID is an unknown one in a preview, as for any resource not yet created.
        if (args.type === "command:local:Command" && isAppBuild(args.inputs)) {
            return { id: "", state: { ...args.inputs, stdout: await runCommand(args.inputs.create, args.inputs.dir), stderr: "" } };
        }
        return { id: "", state: { ...args.inputs } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        // The plan is of a new stack (it reads no deployed state): no shard directory exists yet, so the
        // first deploy's directory follows from the config. `pulumi preview` reads the deployed one.
        if (args.token === "aws:ssm/getParametersByPath:getParametersByPath") {
            return { id: args.inputs.path, path: args.inputs.path, names: [], values: [], types: [], arns: [], region: UNKNOWN };
        }
        const fields = CALL_OUTPUTS[args.token];
        if (!fields) throw new Error(`the offline plan does not know the data source ${args.token}; add its outputs to tools/offline/preview-mocks.ts`);
        return Object.fromEntries(fields.map((f) => [f, UNKNOWN]));
    }
}

/**
 * The app release the hosts run: the bundle built from this repository by `npm run build:app` (a
 * local.Command that reruns when the sources change), uploaded to a private, versioned, encrypted artifacts
 * bucket under releases/<sha256>.tar.gz. Old releases are kept (retainOnDelete), so a roll back is setting
 * instagram:appRelease to an earlier SHA-256: the build is skipped and that object, which must exist, is used.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import { PrivateBucket } from "./private-bucket";
import { PolicyStatement } from "./host";

export const RELEASES_PREFIX = "releases/";
/** Where `npm run build:app` writes (relative to the project). */
export const BUILD_DIR = "dist/app";

/** What `build:app --json` prints (delivery/build.ts BundleManifest), as far as the program needs. */
interface BuiltBundle {
    readonly sha256: string;
    readonly path: string;
    readonly sourceHash: string;
}

export interface AppReleaseArgs {
    /** The checkout `npm run build:app` runs in. */
    readonly projectRoot: string;
    /** Hash of the app's sources (delivery/sources.ts); a new one rebuilds. */
    readonly sourceHash: string;
    /** Deploy this uploaded release instead of building (instagram:appRelease). */
    readonly pinnedSha256?: string;
    /** Keep the artifacts bucket on destroy. */
    readonly deletionProtection: boolean;
    /** Where the artifacts bucket's access logs go. */
    readonly accessLogs: { bucket: pulumi.Input<string>; prefix: string };
}

/** Whether this checkout already holds the bundle for these sources (a fresh clone does not). */
export function builtBundleFor(projectRoot: string, sourceHash: string): BuiltBundle | undefined {
    try {
        const manifest = JSON.parse(fs.readFileSync(path.join(projectRoot, BUILD_DIR, "manifest.json"), "utf8")) as BuiltBundle;
        return manifest.sourceHash === sourceHash && fs.existsSync(manifest.path) ? manifest : undefined;
    } catch {
        return undefined;
    }
}

export function parseBuildOutput(stdout: string): BuiltBundle {
    const line = stdout.trim().split("\n").pop() ?? "";
    let parsed: Partial<BuiltBundle>;
    try {
        parsed = JSON.parse(line);
    } catch {
        throw new Error(`npm run build:app printed no manifest (last line: ${JSON.stringify(line.slice(0, 200))})`);
    }
    if (!/^[0-9a-f]{64}$/.test(parsed.sha256 ?? "") || typeof parsed.path !== "string") {
        throw new Error(`npm run build:app printed a manifest without sha256 and path: ${line.slice(0, 200)}`);
    }
    return parsed as BuiltBundle;
}

/** The app release the hosts run: built here (reproducibly) and uploaded under its SHA-256, or a pinned older one. */
export class AppRelease extends pulumi.ComponentResource {
    /** The private artifacts bucket. */
    readonly bucket: PrivateBucket;
    /** releases/<sha256>.tar.gz */
    readonly key: pulumi.Output<string>;
    /** The release's SHA-256 (the bundle's name and its content check on the host). */
    readonly sha256: pulumi.Output<string>;
    /** s3://BUCKET/KEY, what the hosts' install script downloads. */
    readonly url: pulumi.Output<string>;
    /** Read access for the app hosts: the release objects only, nothing else in the bucket. */
    readonly readStatement: PolicyStatement;
    /** The uploaded object (absent when a pinned release is deployed). */
    readonly object?: aws.s3.BucketObjectv2;

    constructor(name: string, args: AppReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:app:AppRelease", name, {}, opts);
        const parent = { parent: this };
        this.bucket = new PrivateBucket(`${name}-artifacts`, {
            purpose: "app release bundles",
            accessLogs: args.accessLogs,
            forceDestroy: !args.deletionProtection,
        }, parent);
        const bucketName = this.bucket.bucket.bucket;

        if (args.pinnedSha256) {
            this.sha256 = pulumi.output(args.pinnedSha256);
            // Looking the object up fails the preview, naming the key, when that release was never uploaded.
            this.key = aws.s3.getObjectOutput({ bucket: bucketName, key: `${RELEASES_PREFIX}${args.pinnedSha256}.tar.gz` }, parent).key;
        } else {
            const present = builtBundleFor(args.projectRoot, args.sourceHash) !== undefined;
            const build = new command.local.Command(`${name}-bundle`, {
                create: "npm run --silent build:app -- --json",
                dir: args.projectRoot,
                // The build is reproducible, so rebuilding unchanged sources yields the same artifact (and
                // changes no host). It must rerun when this checkout lacks the file: the upload reads it.
                triggers: [args.sourceHash, present ? "bundle-present" : `bundle-missing-${Date.now()}`],
                logging: "stderr",
            }, parent);
            const built = build.stdout.apply(parseBuildOutput);
            this.sha256 = built.sha256;
            this.key = pulumi.interpolate`${RELEASES_PREFIX}${built.sha256}.tar.gz`;
            this.object = new aws.s3.BucketObjectv2(`${name}-artifact`, {
                bucket: this.bucket.bucket.id,
                key: this.key,
                source: built.apply((b) => new pulumi.asset.FileAsset(path.relative(args.projectRoot, b.path) || b.path)),
                contentType: "application/gzip",
                // S3 checks the upload against this checksum; the hosts check the SHA-256 again.
                checksumAlgorithm: "SHA256",
                tags: { Sha256: built.sha256, SourceHash: args.sourceHash.slice(0, 16) },
            }, { ...parent, dependsOn: this.bucket.ready, retainOnDelete: true });
        }
        this.url = pulumi.interpolate`s3://${bucketName}/${this.key}`;
        this.readStatement = {
            Sid: "AppReleasesRead",
            Effect: "Allow",
            Action: ["s3:GetObject"],
            Resource: pulumi.interpolate`${this.bucket.bucket.arn}/${RELEASES_PREFIX}*`,
        };
        this.registerOutputs({ url: this.url, sha256: this.sha256 });
    }
}

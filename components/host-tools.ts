/**
 * The hosts' operational tools (cloud-init/scripts.ts HOST_TOOLS: instagram-shard-move, -promote, ...) as one
 * deterministic tarball in the artifacts bucket, tools/<sha256>.tar.gz, which the shard hosts install at boot
 * with instagram-tools-install (verifying the SHA-256). They are not in the user data, which EC2 limits to
 * 16 KiB gzipped and which a shard host's boot scripts, configs and SQL nearly fill.
 */
import * as crypto from "crypto";
import * as zlib from "zlib";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { hostToolFiles } from "../cloud-init/scripts";
import { tarArchive } from "../delivery/tar";
import { PolicyStatement } from "./host";
import { PrivateBucket } from "./private-bucket";

export const TOOLS_PREFIX = "tools/";
/** A fixed mtime: the same scripts give the same bytes, so the same key and no change to any host. */
const TOOLS_MTIME = 1_700_000_000;

/** The tarball's bytes and SHA-256, from the scripts in this checkout. */
export function hostToolsTarball(): { bytes: Buffer; sha256: string } {
    const tar = tarArchive(hostToolFiles().map((f) => ({ path: f.name, mode: 0o755, content: Buffer.from(f.content) })), TOOLS_MTIME);
    const bytes = zlib.gzipSync(tar, { level: 9 });
    return { bytes, sha256: crypto.createHash("sha256").update(bytes).digest("hex") };
}

export interface HostToolsArgs {
    /** The artifacts bucket (the app release's). */
    readonly bucket: PrivateBucket;
}

/** The tools tarball, uploaded; what a shard host needs to install it and may read. */
export class HostTools extends pulumi.ComponentResource {
    /** s3://BUCKET/tools/<sha256>.tar.gz */
    readonly url: pulumi.Output<string>;
    readonly sha256: string;
    /** Read access to the tools objects only. */
    readonly readStatement: PolicyStatement;

    constructor(name: string, args: HostToolsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:host:HostTools", name, {}, opts);
        const { bytes, sha256 } = hostToolsTarball();
        this.sha256 = sha256;
        const key = `${TOOLS_PREFIX}${sha256}.tar.gz`;
        const object = new aws.s3.BucketObjectv2(name, {
            bucket: args.bucket.bucket.id,
            key,
            contentBase64: bytes.toString("base64"),
            contentType: "application/gzip",
            checksumAlgorithm: "SHA256",
            tags: { Sha256: sha256 },
        }, { parent: this, dependsOn: args.bucket.ready, retainOnDelete: true });
        this.url = pulumi.interpolate`s3://${args.bucket.bucket.bucket}/${object.key}`;
        this.readStatement = { Sid: "HostToolsRead", Effect: "Allow", Action: ["s3:GetObject"], Resource: pulumi.interpolate`${args.bucket.bucket.arn}/${TOOLS_PREFIX}*` };
        this.registerOutputs({ url: this.url, sha256 });
    }
}

/** A stand-in for the EC2 instance metadata service (IMDSv2 only) on loopback, for the host scripts. */
import * as http from "http";

export interface FakeImds {
    readonly url: string;
    close(): Promise<void>;
}

export async function startFakeImds(host: string, metadata: Record<string, string>): Promise<FakeImds> {
    const token = "fake-imds-token";
    const server = http.createServer((req, res) => {
        if (req.method === "PUT" && req.url === "/latest/api/token") {
            res.end(token);
        } else if (req.headers["x-aws-ec2-metadata-token"] !== token) {
            res.statusCode = 401;
            res.end();
        } else if (req.url!.startsWith("/latest/meta-data/") && req.url!.slice("/latest/meta-data/".length) in metadata) {
            res.end(metadata[req.url!.slice("/latest/meta-data/".length)]);
        } else {
            res.statusCode = 404;
            res.end();
        }
    });
    const port = await new Promise<number>((resolve) => server.listen(0, host, () => resolve((server.address() as { port: number }).port)));
    return { url: `http://${host}:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The metadata the host scripts read: an instance role with its credentials, and the region. */
export function instanceRoleMetadata(role: string, credentials: object, region: string): Record<string, string> {
    return {
        "iam/security-credentials/": role,
        [`iam/security-credentials/${role}`]: JSON.stringify(credentials),
        "placement/region": region,
    };
}

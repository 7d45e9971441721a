/** Is an instance healthy in a load balancer's target group? (ELBv2 DescribeTargetHealth) */
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CheckResult } from "./poll";

export interface TargetRef {
    readonly targetGroupArn: string;
    readonly targetId: string;
    readonly port: number;
    readonly region: string;
    /** An ELBv2 API stand-in (tests only). */
    readonly endpoint?: string;
}

/**
 * Credentials come from the SDK's default chain, which reads AWS_PROFILE (the program sets it from aws:profile,
 * core/config.ts awsCommandEnvironment): with a profile set it skips AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
 * as the provider does, and resolves the profile from ~/.aws/config and ~/.aws/credentials (or
 * AWS_CONFIG_FILE/AWS_SHARED_CREDENTIALS_FILE), SSO and assume-role profiles included.
 */
function clientFor(ref: Pick<TargetRef, "region" | "endpoint">): ElasticLoadBalancingV2Client {
    return new ElasticLoadBalancingV2Client({ region: ref.region, ...(ref.endpoint ? { endpoint: ref.endpoint } : {}), maxAttempts: 2 });
}

/** Where the credentials come from, in words (AWS_PROFILE, else the default chain). */
export function credentialSource(env: NodeJS.ProcessEnv = process.env): string {
    return env.AWS_PROFILE ? `profile ${JSON.stringify(env.AWS_PROFILE)} (AWS_PROFILE)` : "the default credential chain (no AWS_PROFILE)";
}

/**
 * Why no request could be signed, or undefined when credentials resolve. Waiting does not fix a profile that
 * does not exist or an expired SSO session, so the wait fails at once instead of polling until its timeout.
 */
export async function credentialsProblem(ref: Pick<TargetRef, "region" | "endpoint">): Promise<string | undefined> {
    try {
        await clientFor(ref).config.credentials();
        return undefined;
    } catch (e) {
        return `no AWS credentials from ${credentialSource()}: ${(e as Error).message}`;
    }
}

export function targetCheck(ref: TargetRef): () => Promise<CheckResult> {
    const client = clientFor(ref);
    return async () => {
        const out = await client.send(new DescribeTargetHealthCommand({
            TargetGroupArn: ref.targetGroupArn,
            Targets: [{ Id: ref.targetId, Port: ref.port }],
        }));
        const health = out.TargetHealthDescriptions?.[0]?.TargetHealth;
        if (!health?.State) return { ok: false, detail: "the target group does not list the target" };
        const why = [health.Reason, health.Description].filter(Boolean).join(": ");
        return { ok: health.State === "healthy", detail: why ? `${health.State} (${why})` : health.State };
    };
}

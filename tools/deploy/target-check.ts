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

export function targetCheck(ref: TargetRef): () => Promise<CheckResult> {
    const client = new ElasticLoadBalancingV2Client({ region: ref.region, ...(ref.endpoint ? { endpoint: ref.endpoint } : {}), maxAttempts: 2 });
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

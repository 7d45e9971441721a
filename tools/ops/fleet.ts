/**
 * The stack's hosts as the operations CLI reaches them on AWS: through SSM Run Command (AWS-RunShellScript),
 * targeted by the tags every host carries (Stack, Role, and a shard host's Shard and Member), the Fabric
 * parallel mode of 2011 without SSH or an open port. Every AWS call goes through the SDK's SSM client; the
 * tests point it at a loopback stand-in (INSTAGRAM_OPS_SSM_ENDPOINT) that checks each request.
 */
import {
    GetCommandInvocationCommand, GetParameterCommand, ListCommandInvocationsCommand, ListCommandsCommand,
    PutParameterCommand, SendCommandCommand, SSMClient, Target,
} from "@aws-sdk/client-ssm";

export interface HostResult {
    readonly instanceId: string;
    readonly name: string;
    /** SSM's status for this host: Success, Failed, TimedOut, Cancelled... */
    readonly status: string;
    /** The command's exit code (-1 when it never ran). */
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export interface RunOptions {
    /** SSM's MaxConcurrency: how many hosts at once (a number or a percentage). */
    readonly maxConcurrency?: string;
    /** SSM's MaxErrors: after this many failures, no further host starts. */
    readonly maxErrors?: string;
    readonly timeoutSeconds?: number;
    readonly comment: string;
}

const TERMINAL = new Set(["Success", "Failed", "TimedOut", "Cancelled"]);

export class Fleet {
    readonly ssm: SSMClient;

    /** pollMs: how often a command's status is asked for (INSTAGRAM_OPS_POLL_MS in tests). */
    constructor(readonly stack: string, region: string, profile?: string, private readonly pollMs = Number(process.env.INSTAGRAM_OPS_POLL_MS ?? 1000)) {
        const endpoint = process.env.INSTAGRAM_OPS_SSM_ENDPOINT;
        this.ssm = new SSMClient({ region, ...(profile ? { profile } : {}), ...(endpoint ? { endpoint } : {}), maxAttempts: 5 });
    }

    /** Hosts of this stack with these tags (Role, and Shard/Member for a shard host). */
    targets(tags: Record<string, string>): Target[] {
        return [{ Key: "tag:Stack", Values: [this.stack] }, ...Object.entries(tags).map(([k, v]) => ({ Key: `tag:${k}`, Values: [v] }))];
    }

    /** Run a shell command on every matching host; resolves once SSM says the command is done everywhere. */
    async run(targets: Target[], commands: readonly string[], o: RunOptions): Promise<HostResult[]> {
        const timeout = o.timeoutSeconds ?? 600;
        const sent = await this.ssm.send(new SendCommandCommand({
            DocumentName: "AWS-RunShellScript",
            Targets: targets,
            Parameters: { commands: [...commands], executionTimeout: [String(timeout)] },
            MaxConcurrency: o.maxConcurrency ?? "50",
            MaxErrors: o.maxErrors ?? "0",
            TimeoutSeconds: 600,
            Comment: o.comment.slice(0, 100),
        }));
        const id = sent.Command!.CommandId!;
        const deadline = Date.now() + (timeout + 120) * 1000;
        for (;;) {
            const listed = await this.ssm.send(new ListCommandsCommand({ CommandId: id }));
            const status = listed.Commands?.[0]?.Status ?? "Pending";
            if (TERMINAL.has(status)) break;
            if (Date.now() > deadline) throw new Error(`SSM command ${id} is still ${status} after ${timeout + 120} s`);
            await new Promise((resolve) => setTimeout(resolve, this.pollMs));
        }
        const invocations = [];
        let token: string | undefined;
        do {
            const page = await this.ssm.send(new ListCommandInvocationsCommand({ CommandId: id, Details: false, NextToken: token }));
            invocations.push(...(page.CommandInvocations ?? []));
            token = page.NextToken;
        } while (token);
        const results: HostResult[] = [];
        for (const inv of invocations) {
            const full = await this.ssm.send(new GetCommandInvocationCommand({ CommandId: id, InstanceId: inv.InstanceId! }));
            results.push({
                instanceId: inv.InstanceId!,
                name: inv.InstanceName ?? inv.InstanceId!,
                status: full.Status ?? inv.Status ?? "Unknown",
                code: full.ResponseCode ?? -1,
                stdout: full.StandardOutputContent ?? "",
                stderr: full.StandardErrorContent ?? "",
            });
        }
        return results.sort((a, b) => a.name.localeCompare(b.name));
    }

    /** A parameter's value and version, or undefined when it does not exist. */
    async getParameter(name: string): Promise<{ value: string; version: number } | undefined> {
        try {
            const r = await this.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: false }));
            return { value: r.Parameter!.Value!, version: r.Parameter!.Version! };
        } catch (e) {
            if ((e as { name?: string }).name === "ParameterNotFound") return undefined;
            throw e;
        }
    }

    /** Overwrite a String parameter; returns its new version. */
    async putParameter(name: string, value: string): Promise<number> {
        const r = await this.ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: "String", Overwrite: true }));
        return r.Version!;
    }
}

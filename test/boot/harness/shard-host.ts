/** What a shard primary's boot test needs from the program: its user data, volumes, secrets and memory. */
import { runProgram } from "../../harness/program";
import { T, userDataOf } from "../../harness/queries";
import { instanceSpec } from "../../../components/instance-types";

export interface ShardHostUnderTest {
    /** Exactly what the program renders for the host. */
    readonly userData: string;
    readonly volumeIds: string[];
    /** SSM parameter name -> value, for the SSM stand-in. */
    readonly parameters: Record<string, string>;
    /** The instance type's memory: PostgreSQL's shared_buffers is sized from it. */
    readonly memoryMiB: number;
}

export async function shardPrimaryUnderTest(): Promise<ShardHostUnderTest> {
    const run = await runProgram("dev", { "instagram:shardVolumes": 4, "instagram:shardRaidLevel": 10 });
    const host = run.ofType(T.instance).find((i) => i.inputs.tags.Name === "shard-0-primary")!;
    return {
        userData: userDataOf(host),
        volumeIds: run.ofType(T.volume).filter((v) => v.name.startsWith("shard-0-primary-data-")).map((v) => v.state.id as string),
        parameters: Object.fromEntries(run.ofType(T.ssmParameter).map((p) => [p.inputs.name as string, p.inputs.value as string])),
        memoryMiB: instanceSpec(host.inputs.instanceType)!.memoryGiB * 1024,
    };
}

/**
 * Where a recorded resource sits in the architecture, for the cost table and the diagram. Its tier: a host's (and its volumes' and IAM identity's) Role tag, else the module of the stack's component it was
 * declared under (instagram:edge:Edge -> "edge", instagram:backup:ShardSnapshots -> "backup").
 */
import { RecordedResource } from "./runtime";

const STACK_TYPE = "instagram:stack:InstagramStack";

export function tierResolver(resources: readonly RecordedResource[]): (resource: RecordedResource) => string {
    const byUrn = new Map(resources.map((r) => [r.urn, r]));
    return (resource) => {
        const role = resource.inputs.tags?.Role;
        if (typeof role === "string") return role;
        // Walk up to the component right below the stack (or the root, for what the stack declares itself).
        let top: RecordedResource = resource;
        for (let parent = byUrn.get(top.parentUrn ?? ""); parent && parent.type !== STACK_TYPE; parent = byUrn.get(parent.parentUrn ?? "")) top = parent;
        if (top.custom || !top.type.startsWith("instagram:")) return "stack";
        return top.type.split(":")[1];
    };
}

/**
 * The AZ of a subnet, 1-based in the network's order: components/network.ts names the subnets of AZ k
 * net-public-k and net-private-k (the AZ's own name is AWS's answer, unknown before `pulumi up`). 0 when
 * the name carries no index.
 */
export function subnetAz(subnet: RecordedResource | undefined): number {
    const match = subnet && /-(\d+)$/.exec(subnet.name);
    return match ? Number(match[1]) + 1 : 0;
}

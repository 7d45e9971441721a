/**
 * Draws an Architecture: as Graphviz DOT (a cluster per tier, inside it one per AZ, a node per host; a flow
 * between tiers is an edge between their clusters) and as Mermaid flowchart text for READMEs.
 */
import { Architecture, Endpoint, Flow, Host } from "./architecture";

const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

/** Hosts per row inside an AZ's box: a tier of 25 stays a block instead of a column. */
const COLUMNS = 4;

function hostsByAz(a: Architecture, tier: string): [number, Host[]][] {
    const zones = new Map<number, Host[]>();
    for (const h of a.hosts.filter((x) => x.tier === tier)) zones.set(h.az, [...(zones.get(h.az) ?? []), h]);
    return [...zones.entries()].sort((x, y) => x[0] - y[0]);
}

function tierLabel(a: Architecture, tier: string): string {
    const hosts = a.hosts.filter((h) => h.tier === tier);
    const types = [...new Set(hosts.map((h) => h.instanceType))].join(", ");
    return `${tier}: ${hosts.length} x ${types}`;
}

/** A flow inside one tier (a standby streaming from its primary): drawn as a loop, not between boxes. */
const withinTier = (f: Flow) => f.from.kind === "tier" && f.to.kind === "tier" && f.from.tier === f.to.tier;

const azLabel = (az: number) => (az > 0 ? `AZ ${az}` : "AZ unknown");

const SHAPES: Record<string, string> = { internet: "ellipse", dns: "box", lb: "box", cdn: "box", bucket: "cylinder", nat: "box" };

export function toDot(a: Architecture): string {
    const out = [
        `digraph ${quote(`instagram-${a.stack}`)} {`,
        `  label=${quote(`Stack ${a.stack}: hosts by tier and AZ; edges are the flows the security groups allow (port), the way out, and references between resources`)};`,
        "  labelloc=t; rankdir=LR; compound=true; newrank=true; nodesep=0.15; ranksep=1.1;",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica, fontsize=10];',
        "  edge [fontname=Helvetica, fontsize=9];",
    ];
    for (const s of a.services) out.push(`  ${quote(s.id)} [label=${quote(s.label)}, shape=${SHAPES[s.kind]}, fillcolor=${s.kind === "internet" ? "lightyellow" : "aliceblue"}];`);
    for (const tier of a.tiers) {
        out.push(`  subgraph ${quote(`cluster_${tier}`)} {`, `    label=${quote(tierLabel(a, tier))}; style="rounded"; color=gray40;`);
        // Where the tier's flows attach: an invisible point in its box, so no host is pulled out of its row.
        out.push(`    ${quote(`tier:${tier}`)} [shape=point, style=invis, width=0, height=0, label=""];`);
        const zones = hostsByAz(a, tier);
        for (const [az, hosts] of zones) {
            out.push(`    subgraph ${quote(`cluster_${tier}_az${az}`)} {`, `      label=${quote(azLabel(az))}; style="dashed"; color=gray60;`);
            for (const h of hosts) out.push(`      ${quote(h.name)} [label=${quote(`${h.name}\n${h.instanceType}`)}];`);
            // Invisible edges lay each row of hosts side by side (rankdir=LR stacks a rank's nodes).
            for (let k = 0; k + 1 < hosts.length; k++) if ((k + 1) % COLUMNS !== 0) out.push(`      ${quote(hosts[k].name)} -> ${quote(hosts[k + 1].name)} [style=invis];`);
            out.push("    }");
        }
        // The anchor and the first host of each AZ on one rank: the tier's box starts where its flows arrive.
        out.push(`    { rank=same; ${[`tier:${tier}`, ...zones.map(([, hosts]) => hosts[0].name)].map(quote).join("; ")}; }`);
        out.push("  }");
    }
    const anchor = (e: Endpoint) => (e.kind === "node" ? e.id : `tier:${e.tier}`);
    for (const f of a.flows) {
        const attrs = [`label=${quote(f.label)}`];
        if (!withinTier(f)) {
            if (f.from.kind === "tier") attrs.push(`ltail=${quote(`cluster_${f.from.tier}`)}`);
            if (f.to.kind === "tier") attrs.push(`lhead=${quote(`cluster_${f.to.tier}`)}`);
        }
        if (f.kind === "outbound") attrs.push("style=dashed", "color=gray50");
        if (f.kind === "reference") attrs.push("style=dotted");
        out.push(`  ${quote(anchor(f.from))} -> ${quote(anchor(f.to))} [${attrs.join(", ")}];`);
    }
    out.push("}");
    return out.join("\n") + "\n";
}

/** Mermaid ids allow letters, digits and underscores. */
const mid = (s: string) => s.replace(/[^A-Za-z0-9_]/g, "_");
const mtext = (s: string) => `"${s.replace(/"/g, "#quot;")}"`;

export function toMermaid(a: Architecture): string {
    const out = ["flowchart LR"];
    for (const s of a.services) {
        const [open, close] = s.kind === "bucket" ? ["[(", ")]"] : s.kind === "internet" ? ["((", "))"] : ["[", "]"];
        out.push(`  ${mid(`svc_${s.id}`)}${open}${mtext(s.label)}${close}`);
    }
    for (const tier of a.tiers) {
        out.push(`  subgraph ${mid(`tier_${tier}`)}[${mtext(tierLabel(a, tier))}]`);
        for (const [az, hosts] of hostsByAz(a, tier)) {
            out.push(`    subgraph ${mid(`tier_${tier}_az${az}`)}[${mtext(azLabel(az))}]`);
            for (const h of hosts) out.push(`      ${mid(`host_${h.name}`)}[${mtext(`${h.name} ${h.instanceType}`)}]`);
            out.push("    end");
        }
        out.push("  end");
    }
    const id = (e: Endpoint) => (e.kind === "node" ? mid(`svc_${e.id}`) : mid(`tier_${e.tier}`));
    for (const f of a.flows) out.push(`  ${mermaidEdge(f, id, a)}`);
    return out.join("\n") + "\n";
}

function mermaidEdge(f: Flow, id: (e: Endpoint) => string, a: Architecture): string {
    const arrow = f.kind === "allowed" ? "-->" : "-.->";
    // A flow within a tier (a standby streaming from its primary) loops on the tier's first host.
    const self = withinTier(f);
    const from = self ? mid(`host_${a.hosts.find((h) => h.tier === (f.from as { tier: string }).tier)!.name}`) : id(f.from);
    const to = self ? from : id(f.to);
    return f.label ? `${from} ${arrow}|${mtext(f.label)}| ${to}` : `${from} ${arrow} ${to}`;
}

/** Renders recorded resources as `pulumi preview` draws them: a tree by parent, then counts by type. */
import { RecordedResource } from "./runtime";

export function renderTree(stackRoot: string, resources: readonly RecordedResource[]): string[] {
    const children = new Map<string | undefined, RecordedResource[]>();
    for (const r of resources) {
        const list = children.get(r.parentUrn) ?? [];
        list.push(r);
        children.set(r.parentUrn, list);
    }
    const rows: [string, string][] = [["pulumi:pulumi:Stack", stackRoot]];
    const walk = (parent: string | undefined, prefix: string) => {
        const kids = children.get(parent) ?? [];
        kids.forEach((r, i) => {
            const last = i === kids.length - 1;
            rows.push([`${prefix}${last ? "└─ " : "├─ "}${r.type}`, r.name + (r.protect ? "  [protected]" : "") + (r.retainOnDelete ? "  [retained on delete]" : "")]);
            walk(r.urn, `${prefix}${last ? "   " : "│  "}`);
        });
    };
    walk(undefined, "");
    const width = Math.max(...rows.map(([t]) => t.length)) + 2;
    return [`   ${"Type".padEnd(width)}Name`, ...rows.map(([t, n]) => ` + ${t.padEnd(width)}${n}`)];
}

export function countByType(resources: readonly RecordedResource[]): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}

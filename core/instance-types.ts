/**
 * What the program needs to know about an EC2 instance type: vCPUs (app worker count), memory (every
 * daemon's sizing) and CPU architecture (which Ubuntu AMI). Pure, so sizing is testable without AWS.
 *
 * Only families whose shape follows AWS's regular size ladder are listed; an unknown type is rejected by
 * config validation with the list below, rather than guessed at and mis-sized.
 */

export type Architecture = "x86_64" | "arm64";

export interface InstanceSpec {
    readonly instanceType: string;
    readonly vcpus: number;
    readonly memoryGiB: number;
    readonly architecture: Architecture;
}

/** GiB of memory per vCPU by family; the ladder below gives vCPUs per size. */
const FAMILIES: Record<string, number> = {
    c5: 2, c6i: 2, c6a: 2, c7i: 2, c7a: 2, c6g: 2, c7g: 2, c8g: 2,
    m5: 4, m6i: 4, m6a: 4, m7i: 4, m7a: 4, m6g: 4, m7g: 4, m8g: 4,
    r5: 8, r6i: 8, r6a: 8, r7i: 8, r7a: 8, r6g: 8, r7g: 8, r8g: 8,
};

const SIZE_VCPUS: Record<string, number> = {
    large: 2, xlarge: 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48, "16xlarge": 64, "24xlarge": 96,
};

/** Burstable types do not follow the ladder: [vCPUs, GiB]. */
const BURSTABLE: Record<string, [number, number]> = {
    nano: [2, 0.5], micro: [2, 1], small: [2, 2], medium: [2, 4], large: [2, 8], xlarge: [4, 16], "2xlarge": [8, 32],
};
const BURSTABLE_FAMILIES = ["t3", "t3a", "t4g"];

/** Graviton families carry a "g" right after the generation digit (c7g, m6g, t4g). */
function architectureOf(family: string): Architecture {
    return /^[a-z]+\d+g/.test(family) ? "arm64" : "x86_64";
}

export function instanceSpec(instanceType: string): InstanceSpec | undefined {
    const match = /^([a-z0-9]+)\.([a-z0-9]+)$/.exec(instanceType);
    if (!match) return undefined;
    const [, family, size] = match;
    if (BURSTABLE_FAMILIES.includes(family)) {
        const shape = BURSTABLE[size];
        if (!shape) return undefined;
        return { instanceType, vcpus: shape[0], memoryGiB: shape[1], architecture: architectureOf(family) };
    }
    const perVcpu = FAMILIES[family];
    const vcpus = SIZE_VCPUS[size];
    if (perVcpu === undefined || vcpus === undefined) return undefined;
    return { instanceType, vcpus, memoryGiB: vcpus * perVcpu, architecture: architectureOf(family) };
}

export function knownInstanceFamilies(): string[] {
    return [...BURSTABLE_FAMILIES, ...Object.keys(FAMILIES)];
}

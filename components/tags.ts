/** Tags every resource of the stack carries, so a user can find and cost it. */
import * as pulumi from "@pulumi/pulumi";

export function stackTags(extra: Record<string, string> = {}): Record<string, string> {
    return { Project: pulumi.getProject(), Stack: pulumi.getStack(), ManagedBy: "pulumi", ...extra };
}

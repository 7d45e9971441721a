/** The tags every AWS resource of the stack carries (the providers' defaultTags), so a user can find and cost it. */
import * as pulumi from "@pulumi/pulumi";

export function stackTags(): Record<string, string> {
    return { Project: pulumi.getProject(), Stack: pulumi.getStack(), ManagedBy: "pulumi" };
}

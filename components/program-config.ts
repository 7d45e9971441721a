/** Reads the program's config from the Pulumi runtime and validates it (see config.ts for the contract). */
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_KEYS, InstagramConfig, PROJECT, RawConfig, validateConfig } from "../core/config";

export function readProgramConfig(): InstagramConfig {
    const raw: Record<string, string | undefined> = {};
    const byNamespace = new Map<string, pulumi.Config>();
    for (const { key, secret } of CONFIG_KEYS) {
        const [namespace, name] = key.split(":");
        if (!byNamespace.has(namespace)) byNamespace.set(namespace, new pulumi.Config(namespace));
        // A secret's text is validated here and wrapped as a secret where it is used (components/secrets.ts);
        // Config.get would warn that it is read in plain text.
        raw[key] = secret ? pulumi.runtime.getConfig(key) : byNamespace.get(namespace)!.get(name);
    }
    // Unknown instagram:* keys are reported too, so a typo does not silently fall back to a default.
    for (const [key, value] of Object.entries(allConfig())) {
        if (key.startsWith(`${PROJECT}:`) && !(key in raw)) raw[key] = value;
    }
    return validateConfig(raw as RawConfig);
}

function allConfig(): Record<string, string> {
    return pulumi.runtime.allConfig();
}

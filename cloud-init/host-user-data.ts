/** The user data of one host: the common role merged with its tier's role, rendered to #cloud-config. */
import { mergeRoles, renderCloudConfig, RoleSpec } from "./role";
import { commonRole } from "./roles/common";
import { hostMetricsRole } from "./roles/host-metrics";
import { scriptFile } from "./scripts";

export interface HostIdentityParams {
    readonly stack: string;
    /** The tier, as in the host's Role tag. */
    readonly role: string;
    readonly hostname: string;
    readonly muninMasterIp: string;
}

export function hostUserData(host: HostIdentityParams, tierRole: RoleSpec): string {
    const metrics = hostMetricsRole(host);
    return renderCloudConfig(mergeRoles(commonRole(host), tierRole, ...(metrics ? [metrics] : [])), { hostname: host.hostname, stack: host.stack }, {
        fetchSecrets: scriptFile("fetchSecrets").content,
        awsLib: scriptFile("awsLib").content,
        startUnits: scriptFile("startUnits").content,
    });
}

/** Rules for the Application Load Balancer (aws.lb.* in @pulumi/aws v7), its listeners and target groups. */
import * as aws from "@pulumi/aws";
import { ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { problem } from "./common";

/** ELB security policies that allow only TLS 1.2 and 1.3. */
export function isTls12Policy(policy: string | undefined): boolean {
    return !!policy && /^ELBSecurityPolicy-(TLS13-1-[23]-|TLS-1-2-|FS-1-2-)/.test(policy);
}

const isApplication = (lb: { loadBalancerType?: string }) => (lb.loadBalancerType ?? "application") === "application";

export const albHttpsTls12: ResourceValidationPolicy = {
    name: "alb-https-tls12",
    description: "HTTPS listeners use a TLS 1.2+ security policy (Checkov CKV_AWS_103; Trivy aws-elb-use-secure-tls-policy).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.lb.Listener, (listener, args, report) => {
        if ((listener.protocol === "HTTPS" || listener.protocol === "TLS") && !isTls12Policy(listener.sslPolicy)) {
            report(problem(args.name, "sslPolicy", `is ${JSON.stringify(listener.sslPolicy ?? "the default")}, which allows TLS below 1.2`, 'use "ELBSecurityPolicy-TLS13-1-2-2021-06" or another TLS 1.2+ policy'));
        }
    }),
};

export const albHttpRedirects: ResourceValidationPolicy = {
    name: "alb-http-redirects-to-https",
    description: "Plain-HTTP listeners only redirect to HTTPS (Checkov CKV2_AWS_20; Trivy aws-elb-http-not-used).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.lb.Listener, (listener, args, report) => {
        if (listener.protocol !== "HTTP") return;
        const actions = listener.defaultActions ?? [];
        const redirects = actions.length > 0 && actions.every((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS");
        if (!redirects) report(problem(args.name, "defaultActions", "serve plain HTTP", 'make the only action a redirect with protocol "HTTPS"'));
    }),
};

export const albDropInvalidHeaders: ResourceValidationPolicy = {
    name: "alb-drop-invalid-headers",
    description: "The ALB drops invalid header fields (Checkov CKV_AWS_131; Trivy aws-elb-drop-invalid-headers).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.lb.LoadBalancer, (lb, args, report) => {
        if (isApplication(lb) && lb.dropInvalidHeaderFields !== true) report(problem(args.name, "dropInvalidHeaderFields", "is not true", "set dropInvalidHeaderFields = true"));
    }),
};

export const albDesyncMitigation: ResourceValidationPolicy = {
    name: "alb-desync-mitigation",
    description: "The ALB's HTTP desync mitigation is defensive or strictest, set explicitly (Checkov CKV_AWS_328).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.lb.LoadBalancer, (lb, args, report) => {
        if (isApplication(lb) && !["defensive", "strictest"].includes(lb.desyncMitigationMode ?? "")) {
            report(problem(args.name, "desyncMitigationMode", `is ${JSON.stringify(lb.desyncMitigationMode ?? "unset")}`, 'set it to "defensive" or "strictest"'));
        }
    }),
};

export const albAccessLogs: ResourceValidationPolicy = {
    name: "alb-access-logs",
    description: "The load balancer writes access logs to S3 (Checkov CKV_AWS_91).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.lb.LoadBalancer, (lb, args, report) => {
        if (lb.accessLogs?.enabled !== true || !lb.accessLogs?.bucket) report(problem(args.name, "accessLogs", "are not enabled", "set accessLogs { bucket, enabled: true }"));
    }),
};

export interface DeletionProtectionConfig {
    /** Off for throwaway environments (dev), where the stack sets deletionProtection false. */
    required: boolean;
}

export const albDeletionProtection: ResourceValidationPolicy = {
    name: "alb-deletion-protection",
    description: "The load balancer cannot be deleted by accident (Checkov CKV_AWS_150). Configurable: { required: false } for throwaway stacks.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { required: { type: "boolean", default: true } } },
    validateResource: validateResourceOfType(aws.lb.LoadBalancer, (lb, args, report) => {
        if (!args.getConfig<DeletionProtectionConfig>().required) return;
        if (lb.enableDeletionProtection !== true) report(problem(args.name, "enableDeletionProtection", "is not true", "set instagram:deletionProtection true (or this policy's required: false for a throwaway stack)"));
    }),
};

export const targetGroupHealthCheck: ResourceValidationPolicy = {
    name: "target-group-health-check",
    description: "Target groups health-check their targets on a path (Checkov CKV_AWS_261).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(aws.lb.TargetGroup, (tg, args, report) => {
        const hc = tg.healthCheck;
        if (!hc || hc.enabled === false) {
            report(problem(args.name, "healthCheck", "is missing or disabled", "enable a health check (this stack uses GET /healthz)"));
        } else if (["HTTP", "HTTPS"].includes(tg.protocol ?? "HTTP") && !hc.path) {
            report(problem(args.name, "healthCheck.path", "is not set", "check a path the app answers only when healthy"));
        }
    }),
};

export const loadBalancerPolicies = [albHttpsTls12, albHttpRedirects, albDropInvalidHeaders, albDesyncMitigation, albAccessLogs, albDeletionProtection, targetGroupHealthCheck];

/** An ACM certificate validated by DNS records in the stack's Route53 zone; `arn` is usable once issued. */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export interface DnsValidatedCertificateArgs {
    /** The certificate's primary name. */
    readonly domainName: string;
    /** More names on the same certificate (www.<domain>). */
    readonly alternativeNames?: string[];
    /** The public zone the validation records go in. */
    readonly zoneId: pulumi.Input<string>;
    /** A provider in another region (CloudFront needs its certificate in us-east-1). */
    readonly provider?: aws.Provider;
}

/** An ACM certificate validated through DNS records in the domain's zone; its ARN is ready once validated. */
export class DnsValidatedCertificate extends pulumi.ComponentResource {
    /** The ARN of the certificate after validation succeeded. */
    readonly arn: pulumi.Output<string>;

    constructor(name: string, args: DnsValidatedCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("instagram:edge:DnsValidatedCertificate", name, {}, opts);
        const names = [args.domainName, ...(args.alternativeNames ?? [])];
        const certificate = new aws.acm.Certificate(name, {
            domainName: args.domainName,
            subjectAlternativeNames: args.alternativeNames,
            validationMethod: "DNS",
            keyAlgorithm: "EC_prime256v1",
            tags: { Name: args.domainName },
        }, { parent: this, provider: args.provider, deleteBeforeReplace: false });

        // One validation record per name: the count is known before ACM answers, the contents are not.
        const records = names.map((_, i) => {
            const option = certificate.domainValidationOptions.apply((options) => {
                if (options.length !== names.length) throw new Error(`ACM returned ${options.length} validation options for ${names.length} names`);
                return options[i];
            });
            return new aws.route53.Record(`${name}-validation-${i}`, {
                zoneId: args.zoneId,
                name: option.resourceRecordName,
                type: option.resourceRecordType,
                records: [option.resourceRecordValue],
                ttl: 300,
                allowOverwrite: true,
            }, { parent: this });
        });
        const validation = new aws.acm.CertificateValidation(name, {
            certificateArn: certificate.arn,
            validationRecordFqdns: records.map((r) => r.fqdn),
        }, { parent: this, provider: args.provider });
        this.arn = validation.certificateArn;
        this.registerOutputs({ arn: this.arn });
    }
}

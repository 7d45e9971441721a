/**
 * Which AWS API operation each Pulumi resource's inputs become, and under which member of that operation's
 * request: the bridge from the provider's camelCase inputs to the shapes of AWS's API models (botocore), whose
 * constraints then apply. Read from the AWS provider's resource code (terraform-provider-aws, e.g.
 * internal/service/ec2/ec2_instance.go builds RunInstancesInput) and checked against the models: a mapped path
 * that names no member fails the models' test (test/policies/acceptance-api.test.ts).
 *
 * Paths: "a.b" walks into objects, "[]" marks a list's elements. A property not listed is matched by name one
 * level at a time (camelCase → PascalCase, as most members are named), under the nearest listed parent or at
 * the top of the first operation; what still names no member stays unchecked and is listed by
 * `npm run validate -- --coverage`.
 */

export interface OperationMapping {
    /** The botocore service directory (ec2, elbv2, iam, ...). */
    readonly service: string;
    readonly operation: string;
    /** Pulumi input path → member path in the operation's request. */
    readonly properties: Readonly<Record<string, string>>;
    /**
     * Required request members the provider supplies itself (client tokens, counts, autonamed names, the
     * parent's ID when the provider makes a second call), so their absence from the inputs is not a refusal.
     * "*.Name" stands for that member of any structure.
     */
    readonly provided?: readonly string[];
    /** Only the listed properties go to this operation (true for every operation but a resource's first). */
    readonly listedOnly?: boolean;
}

const EC2_TAGS = { tags: "TagSpecifications[].Tags" };

export const API_MAPPINGS: Readonly<Record<string, readonly OperationMapping[]>> = {
    // --- EC2 and VPC ---
    // DNS attributes and public IPs on launch are booleans of Modify*Attribute calls: nothing to constrain.
    "aws:ec2/vpc:Vpc": [{ service: "ec2", operation: "CreateVpc", properties: { ...EC2_TAGS, enableDnsHostnames: "", enableDnsSupport: "" } }],
    "aws:ec2/subnet:Subnet": [{ service: "ec2", operation: "CreateSubnet", properties: { ...EC2_TAGS, mapPublicIpOnLaunch: "" } }],
    "aws:ec2/internetGateway:InternetGateway": [
        { service: "ec2", operation: "CreateInternetGateway", properties: { ...EC2_TAGS, vpcId: "" } },
        { service: "ec2", operation: "AttachInternetGateway", properties: { vpcId: "VpcId" }, provided: ["InternetGatewayId"], listedOnly: true },
    ],
    "aws:ec2/natGateway:NatGateway": [{ service: "ec2", operation: "CreateNatGateway", properties: { ...EC2_TAGS } }],
    "aws:ec2/eip:Eip": [{ service: "ec2", operation: "AllocateAddress", properties: { ...EC2_TAGS } }],
    // vpcId, serviceName, vpcEndpointType and routeTableIds match their members by name.
    "aws:ec2/vpcEndpoint:VpcEndpoint": [{ service: "ec2", operation: "CreateVpcEndpoint", properties: { ...EC2_TAGS } }],
    "aws:ec2/routeTable:RouteTable": [
        { service: "ec2", operation: "CreateRouteTable", properties: { ...EC2_TAGS } },
        { service: "ec2", operation: "CreateRoute", properties: { "routes[].cidrBlock": "DestinationCidrBlock", "routes[].ipv6CidrBlock": "DestinationIpv6CidrBlock", "routes[].gatewayId": "GatewayId", "routes[].natGatewayId": "NatGatewayId", "routes[].networkInterfaceId": "NetworkInterfaceId", "routes[].vpcPeeringConnectionId": "VpcPeeringConnectionId", "routes[].transitGatewayId": "TransitGatewayId", "routes[].vpcEndpointId": "VpcEndpointId" }, provided: ["RouteTableId"], listedOnly: true },
    ],
    "aws:ec2/routeTableAssociation:RouteTableAssociation": [{ service: "ec2", operation: "AssociateRouteTable", properties: {} }],
    "aws:ec2/securityGroup:SecurityGroup": [
        { service: "ec2", operation: "CreateSecurityGroup", properties: { ...EC2_TAGS, name: "GroupName", ingress: "", egress: "", revokeRulesOnDelete: "" }, provided: ["GroupName"] },
        { service: "ec2", operation: "AuthorizeSecurityGroupIngress", properties: { ingress: "IpPermissions", "ingress[].protocol": "IpPermissions[].IpProtocol", "ingress[].cidrBlocks": "IpPermissions[].IpRanges[].CidrIp", "ingress[].description": "IpPermissions[].IpRanges[].Description" }, provided: ["GroupId"], listedOnly: true },
        { service: "ec2", operation: "AuthorizeSecurityGroupEgress", properties: { egress: "IpPermissions", "egress[].protocol": "IpPermissions[].IpProtocol", "egress[].cidrBlocks": "IpPermissions[].IpRanges[].CidrIp", "egress[].description": "IpPermissions[].IpRanges[].Description" }, provided: ["GroupId"], listedOnly: true },
    ],
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": [{ service: "ec2", operation: "CreateTags", properties: { tags: "Tags", vpcId: "" }, provided: ["Resources"], listedOnly: true }],
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": [{
        service: "ec2",
        operation: "AuthorizeSecurityGroupIngress",
        properties: { securityGroupId: "GroupId", ipProtocol: "IpPermissions[].IpProtocol", fromPort: "IpPermissions[].FromPort", toPort: "IpPermissions[].ToPort", cidrIpv4: "IpPermissions[].IpRanges[].CidrIp", cidrIpv6: "IpPermissions[].Ipv6Ranges[].CidrIpv6", referencedSecurityGroupId: "IpPermissions[].UserIdGroupPairs[].GroupId", prefixListId: "IpPermissions[].PrefixListIds[].PrefixListId", description: "IpPermissions[].IpRanges[].Description", ...EC2_TAGS },
    }],
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": [{
        service: "ec2",
        operation: "AuthorizeSecurityGroupEgress",
        properties: { securityGroupId: "GroupId", ipProtocol: "IpPermissions[].IpProtocol", fromPort: "IpPermissions[].FromPort", toPort: "IpPermissions[].ToPort", cidrIpv4: "IpPermissions[].IpRanges[].CidrIp", cidrIpv6: "IpPermissions[].Ipv6Ranges[].CidrIpv6", referencedSecurityGroupId: "IpPermissions[].UserIdGroupPairs[].GroupId", prefixListId: "IpPermissions[].PrefixListIds[].PrefixListId", description: "IpPermissions[].IpRanges[].Description", ...EC2_TAGS },
    }],
    "aws:ec2/instance:Instance": [{
        service: "ec2",
        operation: "RunInstances",
        properties: {
            ...EC2_TAGS,
            ami: "ImageId",
            vpcSecurityGroupIds: "SecurityGroupIds",
            privateIp: "PrivateIpAddress",
            iamInstanceProfile: "IamInstanceProfile.Name",
            monitoring: "Monitoring.Enabled",
            rootBlockDevice: "BlockDeviceMappings[].Ebs",
            ebsBlockDevices: "BlockDeviceMappings",
            "ebsBlockDevices[].volumeSize": "BlockDeviceMappings[].Ebs.VolumeSize",
            "ebsBlockDevices[].volumeType": "BlockDeviceMappings[].Ebs.VolumeType",
            "ebsBlockDevices[].iops": "BlockDeviceMappings[].Ebs.Iops",
            "ebsBlockDevices[].throughput": "BlockDeviceMappings[].Ebs.Throughput",
            "ebsBlockDevices[].encrypted": "BlockDeviceMappings[].Ebs.Encrypted",
            "ebsBlockDevices[].kmsKeyId": "BlockDeviceMappings[].Ebs.KmsKeyId",
            "ebsBlockDevices[].snapshotId": "BlockDeviceMappings[].Ebs.SnapshotId",
            "ebsBlockDevices[].deleteOnTermination": "BlockDeviceMappings[].Ebs.DeleteOnTermination",
            associatePublicIpAddress: "NetworkInterfaces[].AssociatePublicIpAddress",
            instanceInitiatedShutdownBehavior: "InstanceInitiatedShutdownBehavior",
            // The provider's own settings, not sent to EC2 (user data goes as UserData either way).
            userDataReplaceOnChange: "",
            userDataBase64: "UserData",
            sourceDestCheck: "",
            "rootBlockDevice.tags": "",
        },
        provided: ["MaxCount", "MinCount"],
    }],
    "aws:ebs/volume:Volume": [{ service: "ec2", operation: "CreateVolume", properties: { ...EC2_TAGS, type: "VolumeType", finalSnapshot: "" } }],
    "aws:ec2/volumeAttachment:VolumeAttachment": [{ service: "ec2", operation: "AttachVolume", properties: { deviceName: "Device", stopInstanceBeforeDetaching: "", skipDestroy: "", forceDetach: "" } }],

    // --- IAM and KMS ---
    "aws:iam/role:Role": [{ service: "iam", operation: "CreateRole", properties: { name: "RoleName", assumeRolePolicy: "AssumeRolePolicyDocument", permissionsBoundary: "PermissionsBoundary", forceDetachPolicies: "", inlinePolicies: "", managedPolicyArns: "", tags: "Tags" }, provided: ["RoleName"] }],
    "aws:iam/rolePolicy:RolePolicy": [{ service: "iam", operation: "PutRolePolicy", properties: { role: "RoleName", name: "PolicyName", policy: "PolicyDocument" }, provided: ["PolicyName"] }],
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": [{ service: "iam", operation: "AttachRolePolicy", properties: { role: "RoleName" } }],
    "aws:iam/instanceProfile:InstanceProfile": [
        { service: "iam", operation: "CreateInstanceProfile", properties: { name: "InstanceProfileName", role: "", tags: "Tags" }, provided: ["InstanceProfileName"] },
        { service: "iam", operation: "AddRoleToInstanceProfile", properties: { role: "RoleName" }, provided: ["InstanceProfileName"], listedOnly: true },
    ],
    "aws:kms/key:Key": [
        { service: "kms", operation: "CreateKey", properties: { keyUsage: "KeyUsage", customerMasterKeySpec: "KeySpec", bypassPolicyLockoutSafetyCheck: "BypassPolicyLockoutSafetyCheck", enableKeyRotation: "", deletionWindowInDays: "", isEnabled: "", rotationPeriodInDays: "", tags: "Tags" } },
        { service: "kms", operation: "EnableKeyRotation", properties: { rotationPeriodInDays: "RotationPeriodInDays" }, provided: ["KeyId"], listedOnly: true },
        // The window a `pulumi destroy` asks for when it schedules the key's deletion.
        { service: "kms", operation: "ScheduleKeyDeletion", properties: { deletionWindowInDays: "PendingWindowInDays" }, provided: ["KeyId"], listedOnly: true },
    ],

    // --- Load balancing ---
    "aws:lb/loadBalancer:LoadBalancer": [
        { service: "elbv2", operation: "CreateLoadBalancer", properties: { loadBalancerType: "Type", internal: "Scheme", securityGroups: "SecurityGroups", accessLogs: "", dropInvalidHeaderFields: "", desyncMitigationMode: "", enableDeletionProtection: "", idleTimeout: "", enableHttp2: "", tags: "Tags", namePrefix: "" }, provided: ["Name"] },
        // Attributes are key/value strings in the API; their documented values are checked by the documentation rules.
    ],
    "aws:lb/targetGroup:TargetGroup": [{
        service: "elbv2",
        operation: "CreateTargetGroup",
        properties: {
            "healthCheck.enabled": "HealthCheckEnabled",
            "healthCheck.path": "HealthCheckPath",
            "healthCheck.port": "HealthCheckPort",
            "healthCheck.protocol": "HealthCheckProtocol",
            "healthCheck.interval": "HealthCheckIntervalSeconds",
            "healthCheck.timeout": "HealthCheckTimeoutSeconds",
            "healthCheck.healthyThreshold": "HealthyThresholdCount",
            "healthCheck.unhealthyThreshold": "UnhealthyThresholdCount",
            "healthCheck.matcher": "Matcher.HttpCode",
            deregistrationDelay: "",
            namePrefix: "",
            tags: "Tags",
        },
        provided: ["Name"],
    }],
    "aws:lb/targetGroupAttachment:TargetGroupAttachment": [{ service: "elbv2", operation: "RegisterTargets", properties: { targetId: "Targets[].Id", port: "Targets[].Port", availabilityZone: "Targets[].AvailabilityZone" } }],
    // name is autonamed by the provider; the security headers match their members by name under the config.
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": [{
        service: "cloudfront",
        operation: "CreateResponseHeadersPolicy",
        properties: { comment: "ResponseHeadersPolicyConfig.Comment", securityHeadersConfig: "ResponseHeadersPolicyConfig.SecurityHeadersConfig" },
        provided: ["*.Name"],
    }],
    "aws:lb/listener:Listener": [{
        service: "elbv2",
        operation: "CreateListener",
        properties: {
            certificateArn: "Certificates[].CertificateArn",
            defaultActions: "DefaultActions",
            "defaultActions[].redirect": "DefaultActions[].RedirectConfig",
            "defaultActions[].fixedResponse": "DefaultActions[].FixedResponseConfig",
            "defaultActions[].forward": "DefaultActions[].ForwardConfig",
            tags: "Tags",
            // Listener attributes (ModifyListenerAttributes' key/value strings), like the load balancer's.
            routingHttpResponseStrictTransportSecurityHeaderValue: "",
            routingHttpResponseServerEnabled: "",
        },
    }],
    // domainValidationOptions is ACM's answer (the records to create); the request's own is validationOptions.
    "aws:acm/certificate:Certificate": [{ service: "acm", operation: "RequestCertificate", properties: { tags: "Tags", validationOptions: "DomainValidationOptions", domainValidationOptions: "" } }],

    // --- DNS and CDN ---
    "aws:route53/record:Record": [{
        service: "route53",
        operation: "ChangeResourceRecordSets",
        properties: {
            zoneId: "HostedZoneId",
            name: "ChangeBatch.Changes[].ResourceRecordSet.Name",
            type: "ChangeBatch.Changes[].ResourceRecordSet.Type",
            ttl: "ChangeBatch.Changes[].ResourceRecordSet.TTL",
            records: "ChangeBatch.Changes[].ResourceRecordSet.ResourceRecords[].Value",
            setIdentifier: "ChangeBatch.Changes[].ResourceRecordSet.SetIdentifier",
            healthCheckId: "ChangeBatch.Changes[].ResourceRecordSet.HealthCheckId",
            "aliases[].name": "ChangeBatch.Changes[].ResourceRecordSet.AliasTarget.DNSName",
            "aliases[].zoneId": "ChangeBatch.Changes[].ResourceRecordSet.AliasTarget.HostedZoneId",
            "aliases[].evaluateTargetHealth": "ChangeBatch.Changes[].ResourceRecordSet.AliasTarget.EvaluateTargetHealth",
            allowOverwrite: "",
        },
        provided: ["ChangeBatch.Changes[].Action"],
    }],
    "aws:route53/healthCheck:HealthCheck": [
        {
            service: "route53",
            operation: "CreateHealthCheck",
            properties: {
                type: "HealthCheckConfig.Type",
                fqdn: "HealthCheckConfig.FullyQualifiedDomainName",
                ipAddress: "HealthCheckConfig.IPAddress",
                port: "HealthCheckConfig.Port",
                resourcePath: "HealthCheckConfig.ResourcePath",
                searchString: "HealthCheckConfig.SearchString",
                requestInterval: "HealthCheckConfig.RequestInterval",
                failureThreshold: "HealthCheckConfig.FailureThreshold",
                measureLatency: "HealthCheckConfig.MeasureLatency",
                invertHealthcheck: "HealthCheckConfig.Inverted",
                disabled: "HealthCheckConfig.Disabled",
                enableSni: "HealthCheckConfig.EnableSNI",
                regions: "HealthCheckConfig.Regions",
                childHealthchecks: "HealthCheckConfig.ChildHealthChecks",
                childHealthThreshold: "HealthCheckConfig.HealthThreshold",
                cloudwatchAlarmName: "HealthCheckConfig.AlarmIdentifier.Name",
                cloudwatchAlarmRegion: "HealthCheckConfig.AlarmIdentifier.Region",
                insufficientDataHealthStatus: "HealthCheckConfig.InsufficientDataHealthStatus",
                tags: "",
            },
            provided: ["CallerReference"],
        },
        { service: "route53", operation: "ChangeTagsForResource", properties: { tags: "AddTags" }, provided: ["ResourceType", "ResourceId"], listedOnly: true },
    ],
    "aws:cloudfront/distribution:Distribution": [{
        service: "cloudfront",
        operation: "CreateDistributionWithTags",
        properties: {
            aliases: "DistributionConfigWithTags.DistributionConfig.Aliases.Items",
            comment: "DistributionConfigWithTags.DistributionConfig.Comment",
            enabled: "DistributionConfigWithTags.DistributionConfig.Enabled",
            httpVersion: "DistributionConfigWithTags.DistributionConfig.HttpVersion",
            isIpv6Enabled: "DistributionConfigWithTags.DistributionConfig.IsIPV6Enabled",
            priceClass: "DistributionConfigWithTags.DistributionConfig.PriceClass",
            defaultRootObject: "DistributionConfigWithTags.DistributionConfig.DefaultRootObject",
            webAclId: "DistributionConfigWithTags.DistributionConfig.WebACLId",
            defaultCacheBehavior: "DistributionConfigWithTags.DistributionConfig.DefaultCacheBehavior",
            "defaultCacheBehavior.allowedMethods": "DistributionConfigWithTags.DistributionConfig.DefaultCacheBehavior.AllowedMethods.Items",
            "defaultCacheBehavior.cachedMethods": "DistributionConfigWithTags.DistributionConfig.DefaultCacheBehavior.AllowedMethods.CachedMethods.Items",
            origins: "DistributionConfigWithTags.DistributionConfig.Origins.Items",
            "origins[].originId": "DistributionConfigWithTags.DistributionConfig.Origins.Items[].Id",
            loggingConfig: "DistributionConfigWithTags.DistributionConfig.Logging",
            "loggingConfig.includeCookies": "DistributionConfigWithTags.DistributionConfig.Logging.IncludeCookies",
            restrictions: "DistributionConfigWithTags.DistributionConfig.Restrictions",
            "restrictions.geoRestriction.locations": "DistributionConfigWithTags.DistributionConfig.Restrictions.GeoRestriction.Items",
            viewerCertificate: "DistributionConfigWithTags.DistributionConfig.ViewerCertificate",
            "viewerCertificate.acmCertificateArn": "DistributionConfigWithTags.DistributionConfig.ViewerCertificate.ACMCertificateArn",
            "viewerCertificate.sslSupportMethod": "DistributionConfigWithTags.DistributionConfig.ViewerCertificate.SSLSupportMethod",
            tags: "DistributionConfigWithTags.Tags.Items",
            waitForDeployment: "",
            retainOnDelete: "",
        },
        // CloudFront's lists travel as {Quantity, Items}: the provider counts the items. It always sends a Comment
        // (empty when none is given), and calls CreateDistribution, without Tags, when there are none.
        provided: ["DistributionConfigWithTags.DistributionConfig.CallerReference", "DistributionConfigWithTags.DistributionConfig.Enabled", "DistributionConfigWithTags.DistributionConfig.Comment", "DistributionConfigWithTags.Tags", "*.Quantity"],
    }],
    "aws:cloudfront/originAccessControl:OriginAccessControl": [{ service: "cloudfront", operation: "CreateOriginAccessControl", properties: { name: "OriginAccessControlConfig.Name", description: "OriginAccessControlConfig.Description", originAccessControlOriginType: "OriginAccessControlConfig.OriginAccessControlOriginType", signingBehavior: "OriginAccessControlConfig.SigningBehavior", signingProtocol: "OriginAccessControlConfig.SigningProtocol" }, provided: ["OriginAccessControlConfig.Name"] }],

    // --- Monitoring and alerting ---
    "aws:cloudwatch/metricAlarm:MetricAlarm": [{
        service: "cloudwatch",
        operation: "PutMetricAlarm",
        properties: {
            name: "AlarmName",
            actionsEnabled: "ActionsEnabled",
            dimensions: "Dimensions",
            metricQueries: "Metrics",
            "metricQueries[].metric": "Metrics[].MetricStat",
            "metricQueries[].metric.metricName": "Metrics[].MetricStat.Metric.MetricName",
            "metricQueries[].metric.namespace": "Metrics[].MetricStat.Metric.Namespace",
            "metricQueries[].metric.dimensions": "Metrics[].MetricStat.Metric.Dimensions",
            "metricQueries[].metric.stat": "Metrics[].MetricStat.Stat",
            tags: "Tags",
        },
        provided: ["AlarmName"],
    }],
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": [{
        service: "cloudwatch",
        operation: "PutCompositeAlarm",
        properties: {
            actionsSuppressor: "",
            "actionsSuppressor.alarm": "ActionsSuppressor",
            "actionsSuppressor.extensionPeriod": "ActionsSuppressorExtensionPeriod",
            "actionsSuppressor.waitPeriod": "ActionsSuppressorWaitPeriod",
            tags: "Tags",
        },
    }],
    "aws:sns/topic:Topic": [
        { service: "sns", operation: "CreateTopic", properties: { name: "Name", tags: "Tags", displayName: "", kmsMasterKeyId: "", policy: "", fifoTopic: "" }, provided: ["Name"] },
    ],
    "aws:sns/topicSubscription:TopicSubscription": [{ service: "sns", operation: "Subscribe", properties: { topic: "TopicArn", endpointAutoConfirms: "", confirmationTimeoutInMinutes: "", filterPolicy: "", filterPolicyScope: "", rawMessageDelivery: "", redrivePolicy: "", deliveryPolicy: "", subscriptionRoleArn: "", replayPolicy: "" } }],
    "aws:sns/topicPolicy:TopicPolicy": [{ service: "sns", operation: "SetTopicAttributes", properties: { arn: "TopicArn", policy: "AttributeValue" }, provided: ["AttributeName"] }],
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": [{
        service: "dlm",
        operation: "CreateLifecyclePolicy",
        properties: {
            "policyDetails.schedules[].tagsToAdd": "PolicyDetails.Schedules[].TagsToAdd",
            "policyDetails.schedules[].createRule.scripts": "PolicyDetails.Schedules[].CreateRule.Scripts[]",
            "policyDetails.schedules[].createRule.times": "PolicyDetails.Schedules[].CreateRule.Times[]",
            "policyDetails.targetTags": "PolicyDetails.TargetTags",
            tags: "Tags",
        },
    }],

    // --- S3 ---
    "aws:s3/bucket:Bucket": [{ service: "s3", operation: "CreateBucket", properties: { bucket: "Bucket", forceDestroy: "", objectLockEnabled: "", tags: "" }, provided: ["Bucket"] },
        { service: "s3", operation: "PutBucketTagging", properties: { tags: "Tagging.TagSet" }, provided: ["Bucket"], listedOnly: true }],
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": [{ service: "s3", operation: "PutBucketLifecycleConfiguration", properties: { rules: "LifecycleConfiguration.Rules", "rules[].noncurrentVersionExpiration.noncurrentDays": "LifecycleConfiguration.Rules[].NoncurrentVersionExpiration.NoncurrentDays", "rules[].filter": "LifecycleConfiguration.Rules[].Filter" } }],
    "aws:s3/bucketLogging:BucketLogging": [{ service: "s3", operation: "PutBucketLogging", properties: { targetBucket: "BucketLoggingStatus.LoggingEnabled.TargetBucket", targetPrefix: "BucketLoggingStatus.LoggingEnabled.TargetPrefix" } }],
    "aws:s3/bucketObjectv2:BucketObjectv2": [{ service: "s3", operation: "PutObject", properties: { acl: "ACL", content: "Body", contentBase64: "Body", checksumAlgorithm: "ChecksumAlgorithm", serverSideEncryption: "ServerSideEncryption", kmsKeyId: "SSEKMSKeyId", storageClass: "StorageClass", // Tags travel as a URL-encoded Tagging header, the file as the body: the documentation rules check both.
        tags: "", source: "", forceDestroy: "" } }],
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": [{ service: "s3", operation: "PutBucketOwnershipControls", properties: { rule: "OwnershipControls.Rules[]" } }],
    "aws:s3/bucketPolicy:BucketPolicy": [{ service: "s3", operation: "PutBucketPolicy", properties: {} }],
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": [{ service: "s3", operation: "PutPublicAccessBlock", properties: { blockPublicAcls: "PublicAccessBlockConfiguration.BlockPublicAcls", blockPublicPolicy: "PublicAccessBlockConfiguration.BlockPublicPolicy", ignorePublicAcls: "PublicAccessBlockConfiguration.IgnorePublicAcls", restrictPublicBuckets: "PublicAccessBlockConfiguration.RestrictPublicBuckets" } }],
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [{ service: "s3", operation: "PutBucketEncryption", properties: { rules: "ServerSideEncryptionConfiguration.Rules", "rules[].applyServerSideEncryptionByDefault.sseAlgorithm": "ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.SSEAlgorithm", "rules[].applyServerSideEncryptionByDefault.kmsMasterKeyId": "ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.KMSMasterKeyID" } }],
    "aws:s3/bucketVersioning:BucketVersioning": [{ service: "s3", operation: "PutBucketVersioning", properties: { versioningConfiguration: "VersioningConfiguration", "versioningConfiguration.mfaDelete": "VersioningConfiguration.MFADelete" } }],

    // --- Systems Manager ---
    "aws:ssm/parameter:Parameter": [{ service: "ssm", operation: "PutParameter", properties: { insecureValue: "Value", overwrite: "", tags: "Tags" } }],
    "aws:ssm/document:Document": [{ service: "ssm", operation: "CreateDocument", properties: { permissions: "", tags: "Tags" } }],
};

/** Resource types the check knows to have no AWS request of their own (a waiter, or a provider). */
export const NO_API_REQUEST: Readonly<Record<string, string>> = {
    "aws:acm/certificateValidation:CertificateValidation": "waits for ACM to validate the certificate; it sends nothing AWS could refuse",
    "pulumi:providers:aws": "the provider's own configuration",
};

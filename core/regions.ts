/**
 * Facts about AWS regions the stack depends on. Pure data, each with the AWS page it comes from.
 */

/**
 * The commercial regions an account cannot use until it enables them ("opt-in" regions: every region launched
 * after March 20, 2019). AWS Account Management, "Enable or disable AWS Regions in your account":
 * https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html
 * (the per-region status is on https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).
 * The 17 regions enabled by default are us-east-1, us-east-2, us-west-1, us-west-2, ca-central-1, sa-east-1,
 * eu-west-1, eu-west-2, eu-west-3, eu-central-1, eu-north-1, ap-south-1, ap-northeast-1, ap-northeast-2,
 * ap-northeast-3, ap-southeast-1 and ap-southeast-2. A region AWS opens from now on is opt-in too: add it here.
 */
export const OPT_IN_REGIONS: readonly string[] = [
    "af-south-1", // Africa (Cape Town), 2020
    "ap-east-1", // Asia Pacific (Hong Kong), 2019
    "ap-east-2", // Asia Pacific (Taipei), 2025
    "ap-south-2", // Asia Pacific (Hyderabad), 2022
    "ap-southeast-3", // Asia Pacific (Jakarta), 2021
    "ap-southeast-4", // Asia Pacific (Melbourne), 2023
    "ap-southeast-5", // Asia Pacific (Malaysia), 2024
    "ap-southeast-6", // Asia Pacific (New Zealand), 2025
    "ap-southeast-7", // Asia Pacific (Thailand), 2025
    "ca-west-1", // Canada West (Calgary), 2023
    "eu-central-2", // Europe (Zurich), 2022
    "eu-south-1", // Europe (Milan), 2020
    "eu-south-2", // Europe (Spain), 2022
    "il-central-1", // Israel (Tel Aviv), 2023
    "me-central-1", // Middle East (UAE), 2022
    "me-south-1", // Middle East (Bahrain), 2019
    "mx-central-1", // Mexico (Central), 2025
];

/** Whether the account must enable `region` before anything can be created there. */
export function isOptInRegion(region: string): boolean {
    return OPT_IN_REGIONS.includes(region);
}

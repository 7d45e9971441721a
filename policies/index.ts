// The policy pack: `pulumi preview --policy-pack policies`. Only constructs the pack; the rules live in
// rules/ and are listed in rules.ts, which tests import without starting the pack's gRPC server.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("instagram", { policies });

// The policy pack (PulumiPolicy.yaml): `pulumi preview --policy-pack policy`.
import * as grpc from "@grpc/grpc-js";
import { PolicyPack } from "@pulumi/policy";
import { conductorPolicies } from "./policies";
import { StackKind } from "./stack-kind";

const kind = new StackKind(process.env.CONDUCTOR_PRODUCTION_STACKS || undefined);
// The name of the stack, where the CLI sets it (it does when it starts the pack
// without a language host); else the engine's ConfigureStack call gives it.
kind.stack = process.env.PULUMI_STACK || undefined;
kind.watch(grpc.Server as never);
new PolicyPack("conductor", { policies: conductorPolicies(kind) });

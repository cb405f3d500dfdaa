import * as pulumi from "@pulumi/pulumi";
import { FleetProvider } from "./provider";

pulumi.provider.main(new FleetProvider(), process.argv.slice(2));

// Only the SDK's provider server: the package root also loads the closure
// serializer (and TypeScript with it), about 0.4 s of every deploy.
import { main } from "@pulumi/pulumi/provider";
import { FleetProvider } from "./provider";

main(new FleetProvider(), process.argv.slice(2));

// Only the SDK's provider server: the package root also loads the closure
// serializer (and TypeScript with it), about 0.4 s of every deploy.
import { main } from "@pulumi/pulumi/provider";
import { engineAddressOf, engineLog } from "./engine-log";
import { exitWhenOrphaned } from "./orphan";
import { FleetProvider } from "./provider";
import { runThroughSessions } from "./transport";

const args = process.argv.slice(2);
const engine = engineAddressOf(args);
exitWhenOrphaned(process, 1_000, engine);
main(new FleetProvider(runThroughSessions, engineLog(engine)), args);

// Where this project lives: the folder with Pulumi.yaml. The local-cloud package knows nothing of
// it; scripts, tests and benchmarks pass it in.
import * as path from "node:path";

export const PROJECT_DIR = path.resolve(__dirname, "..");

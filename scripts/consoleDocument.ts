// The posts API's OpenAPI document for the local console's API reference (`openApiDocument` of
// startLocalCloud): api/openapi.ts's document built as `npm run openapi` builds it (routes from
// api/routes.ts, schemas from api/schema.ts, version from package.json), for the stage the console
// shows, with the local cloud's port. The console points its server at the local stage.
//
// The program's modules are required when the console asks, not when this file loads: a live reload
// drops the program's modules from Node's cache and evaluates them again (local-cloud/program/recordProgram.ts),
// so a require here gets the current route table and an added route shows after a reload.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ConsoleStage } from "local-cloud";
import { PROJECT_DIR } from "./project";

export function consoleOpenApiDocument(stage: ConsoleStage): object {
    const { openApiDocument } = require("../api/openapi") as typeof import("../api/openapi");
    const { routes } = require("../api/routes") as typeof import("../api/routes");
    const { postJsonSchemas } = require("../api/schema") as typeof import("../api/schema");
    // Node lists what a module required in `module.children`; each reload's modules would stay
    // reachable from here through that list (a copy of the program per reload) unless it is cleared.
    module.children.splice(0);
    const { version } = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as {
        version: string;
    };
    return openApiDocument({
        servers: { stage: stage.name, region: stage.region, localPort: stage.port },
        routes,
        schemas: postJsonSchemas({ target: "openapi-3.0" }),
        version,
    });
}

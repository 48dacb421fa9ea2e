// mocha's settings. Focused or skipped tests are refused (`forbid-only`, `forbid-pending`), so CI
// cannot pass on a partial suite. The TypeScript loader is named by its full path, so mocha works
// from any folder of the repository (it finds this file by searching upward).
"use strict";
const path = require("node:path");

module.exports = {
    require: [path.join(__dirname, "tests", "support", "register.js")],
    extension: ["ts"],
    timeout: 120000,
    "forbid-only": true,
    "forbid-pending": true,
};

// One linter for the whole repo. Focused or skipped tests are refused by mocha itself
// (`forbid-only` and `forbid-pending` in .mocharc.json), so CI cannot pass on a partial suite.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/**", "bin/**", ".local/**", "**/*.js", "**/*.mjs"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        rules: {
            // CallbackFunction factories must `require` SDK modules inside the closure so that
            // module loading happens at cold start, not in the serialized text.
            "@typescript-eslint/no-require-imports": "off",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
        },
    },
);

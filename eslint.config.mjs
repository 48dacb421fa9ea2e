// One linter for the whole repo. Focused or skipped tests are refused by mocha itself
// (`forbid-only` and `forbid-pending` in .mocharc.js), so CI cannot pass on a partial suite.
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
            // Prettier (npm run lint) wraps code at 120 columns; what it cannot wrap, a long
            // string, template, URL or regular expression, may run over, and comments may not.
            "max-len": [
                "error",
                {
                    code: 120,
                    tabWidth: 4,
                    ignoreStrings: true,
                    ignoreTemplateLiterals: true,
                    ignoreUrls: true,
                    ignoreRegExpLiterals: true,
                },
            ],
        },
    },
);

import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // stdout belongs to the MCP protocol: only the CLI's own output module may print to it.
    files: ["src/**/*.ts"],
    ignores: ["src/cli/output.ts"],
    rules: { "no-console": "error" },
  },
  {
    // The dashboard's page script runs in the browser as a classic ES2017 script (no modules, no
    // bundler): browser globals plus Chart.js's UMD global, and none of Node's. It has no stdout to
    // protect, but stray debug logging should not ship: warnings and errors only. ES2017 has no
    // optional catch binding, so an unused `catch (e)` is fine.
    files: ["src/http/dashboard/static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: "script",
      globals: {
        ...Object.fromEntries(Object.keys(globals.node).filter((name) => !(name in globals.browser)).map((name) => [name, "off"])),
        ...globals.browser,
        Chart: "readonly",
      },
    },
    rules: {
      "no-console": ["error", { allow: ["warn", "error"] }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
);

// Lint: typescript-eslint's recommended rules everywhere; in the code that ships, no console at
// all (text from the service or a user printed with console.log can carry ##vso[ commands).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", ".emulator/", "tasks/*/index.js", "scripts/bench/baseline-poller.js", "scripts/bench/flink-rest-floor.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-control-regex": "off",
    },
  },
  {
    // Tests read loosely typed JSON from the emulator and the agent.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["src/**/*.ts", "tasks/**/*.ts"],
    rules: { "no-console": "error" },
  },
);

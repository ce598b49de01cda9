// One lint gate: typescript-eslint's recommended rules, no import cycles, and the layer rules of
// docs/architecture.md (which folder may import which). Formatting is Prettier's (`npm run format:check`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";

/** Layer rules: `target` may not import from `from` (see docs/architecture.md). */
const layers = [
  // The Pulumi program's layers: handlers are plain code the components wrap; neither knows the local runtime.
  {
    target: "./handlers",
    from: ["./components", "./local", "./index.ts"],
    message: "handlers must not import components or the local runtime",
  },
  { target: "./components", from: ["./local", "./index.ts"], message: "components must not import the local runtime or the stack" },
  // The workflow contract is shared by the program and the local runtime: it imports none of them.
  {
    target: "./workflow",
    from: ["./components", "./handlers", "./local", "./index.ts"],
    message: "workflow/ is the shared contract: it imports nothing of the project",
  },
  // Local services depend on the shared contract (local/common), never on the composition root (local/host).
  {
    target: [
      "./local/stepfunctions",
      "./local/lambda",
      "./local/s3",
      "./local/dynamodb",
      "./local/apigateway",
      "./local/sqs",
      "./local/sns",
      "./local/store",
      "./local/console",
      "./local/iam",
      "./local/program",
      "./local/cloud",
      "./local/common",
    ],
    from: ["./local/host", "./local/cli.ts"],
    message: "services import the contract in local/common, never the composition root",
  },
  {
    target: "./local/common",
    from: [
      "./local/stepfunctions",
      "./local/lambda",
      "./local/s3",
      "./local/dynamodb",
      "./local/apigateway",
      "./local/sqs",
      "./local/sns",
      "./local/store",
      "./local/console",
      "./local/iam",
      "./local/program",
    ],
    message: "the shared contract depends on no service",
  },
  // The ASL machinery knows nothing of HTTP or of the engine around it.
  {
    target: "./local/stepfunctions/asl",
    from: ["./local/stepfunctions/!(errors|limits).ts", "./local/stepfunctions/states/**", "./local/common/http.*", "./local/host/**"],
    message: "asl/ is pure data processing: no engine, no HTTP (errors and limits are shared)",
  },
];

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/.local/**", "**/*.d.ts", "local/console/ui/dist/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { "import-x": importX },
    settings: { "import-x/resolver": { node: { extensions: [".ts", ".js"] } }, "import-x/extensions": [".ts", ".js"] },
    rules: {
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-restricted-paths": ["error", { zones: layers }],
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-require-imports": "off",
      "no-empty": ["error", { allowEmptyCatch: true }],
    },
  },
  {
    files: ["local/lambda/runtime/**/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: {
        require: "readonly",
        process: "readonly",
        module: "writable",
        console: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        __dirname: "readonly",
      },
    },
  },
);

import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * The layers and what each may import (docs/architecture.md). Tests may reach
 * across layers to check them; the code under test may not.
 */
const LAYERS = {
  protocol: {
    may: [],
    why: "protocol/ is the contract both sides import: it imports nothing of ours",
  },
  cli: {
    may: [],
    why: "cli/ parses command lines for host/ and operator/: it imports nothing of ours",
  },
  host: {
    may: ["protocol", "cli"],
    why: "host/ runs on the hosts, bundled alone: it may import only protocol/ and cli/",
  },
  provider: { may: ["protocol"], why: "provider/ talks to hosts through protocol/ only" },
  config: {
    may: ["protocol"],
    why: "config/ reads stack config; it knows nothing of Pulumi resources or hosts",
  },
  components: {
    may: ["protocol", "config"],
    why: "components/ declares resources from config and protocol/",
  },
  operator: {
    may: ["protocol", "cli", "config", "provider"],
    why: "operator/ reads config and reaches hosts like the deploy",
  },
  ci: { may: ["protocol"], why: "ci/ reads previews: it may import only protocol/ names" },
  policy: {
    may: ["protocol"],
    why: "policy/ is loaded alone by the CLI: it reads the program's facts through protocol/ only",
  },
};
const ALL = [...Object.keys(LAYERS), "tooling", "index"];

const layerRules = Object.entries(LAYERS).map(([layer, { may, why }]) => ({
  files: [`${layer}/**/*.ts`],
  ignores: ["**/*.test.ts", "**/*.testutil.ts"],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          {
            // Relative imports out of this folder, one to three levels up.
            group: ALL.filter((l) => l !== layer && !may.includes(l)).flatMap((l) =>
              ["../", "../../", "../../../"].flatMap((up) => [`${up}${l}`, `${up}${l}/**`]),
            ),
            message: why,
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  ...layerRules,
);

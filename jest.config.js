/** Unit tests run with Pulumi mocks and in-process; end-to-end tests drive the real CLI and Docker. */
const tsJest = { "^.+\\.ts$": ["ts-jest", {}] };

module.exports = {
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform: tsJest,
      testMatch: [
        "<rootDir>/{cli,components,config,host,provider,protocol,operator,policy,tooling}/**/*.test.ts",
        "<rootDir>/ci/**/*.test.ts",
      ],
    },
    {
      displayName: "e2e",
      testEnvironment: "node",
      transform: tsJest,
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
      setupFilesAfterEnv: ["<rootDir>/test/e2e/setup.ts"],
    },
    {
      displayName: "fleet",
      testEnvironment: "node",
      transform: tsJest,
      testMatch: ["<rootDir>/test/fleet/**/*.test.ts"],
      setupFilesAfterEnv: ["<rootDir>/test/e2e/setup.ts"],
    },
  ],
};

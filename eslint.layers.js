// @ts-check
// The layer rules of the tree, in one table, used by lint (rule `gridflow/layers` in eslint.config.js)
// and by test/unit/import-graph.test.ts, which checks every import of the whole graph against the same
// table and looks for cycles.
const path = require('node:path');

const ROOT = __dirname;

/**
 * For each top folder: which of our other folders (or single modules) its files may import. Anything
 * not listed runs back up a layer or sideways. `packages`, where given, is every package the folder may
 * use; `typesFrom` are folders it may import types from and nothing else.
 * @type {Record<string, { may: string[]; packages?: string[]; typesFrom?: string[]; why: string }>}
 */
const LAYERS = {
  engine: { may: [], packages: ['xstate', 'zod', 'yaml'], why: 'the engine is pure: everything may use it, it uses nothing of ours' },
  config: { may: ['engine'], why: 'configuration sits under everything that reads it' },
  infra: { may: ['engine', 'config'], why: 'infra (servers, logging, crypto) knows no workflow, service or route' },
  db: { may: ['engine', 'config', 'infra', 'workflows/messages'], why: 'the database layer knows no service, route or activity' },
  workflows: {
    may: ['engine', 'infra/search-attributes'],
    typesFrom: ['activities'],
    why: 'workflow code is deterministic sandbox code: activities by type only, no I/O',
  },
  services: { may: ['engine', 'config', 'infra', 'db', 'workflows'], why: 'services are shared by the API and the activities, so they import neither' },
  activities: { may: ['engine', 'config', 'infra', 'db', 'workflows', 'services'], why: 'activities are called by the worker, never by the API' },
  worker: { may: ['engine', 'config', 'infra', 'db', 'workflows', 'services', 'activities'], why: 'the worker is a composition root' },
  api: { may: ['engine', 'config', 'infra', 'db', 'workflows', 'services'], why: 'the API reaches workflows through services, never through activities or the worker' },
  scripts: { may: ['engine', 'definitions', 'config', 'infra', 'db', 'workflows', 'services', 'activities', 'worker', 'api'], why: 'scripts are entry points' },
  bench: { may: ['engine', 'definitions', 'config', 'infra', 'db', 'workflows', 'services', 'activities', 'worker', 'api', 'scripts'], why: 'the bench is an entry point' },
  test: { may: ['engine', 'definitions', 'config', 'infra', 'db', 'workflows', 'services', 'activities', 'worker', 'api', 'scripts', 'bench', 'web'], why: 'tests may reach anything' },
  web: {
    may: [],
    typesFrom: ['engine/registry-view', 'engine/street-view'],
    why: 'the console runs in the browser and talks to the API over HTTP only; it shares the types of some answers, never code',
  },
};

const EXTENSIONS = /\.(d\.ts|tsx?|jsx?|json)$/;
const BUILTINS = new Set(require('node:module').builtinModules);

/** The folder of the table a path inside the repository belongs to, if any. */
function layerOf(rel) {
  const top = rel.split('/')[0];
  return Object.prototype.hasOwnProperty.call(LAYERS, top) ? top : undefined;
}

/** `@scope/name/x` -> `@scope/name`, `name/x` -> `name`. */
function packageName(spec) {
  const parts = spec.replace(/^node:/, '').split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const covers = (entry, target) => target === entry || target.startsWith(`${entry}/`);

/**
 * What is wrong with `fromRel` (a path relative to the repository) importing `spec`; undefined when
 * the import keeps to the layers. `typeOnly`: the import brings types only.
 * @param {string} fromRel @param {string} spec @param {boolean} typeOnly
 * @returns {string | undefined}
 */
function layerProblem(fromRel, spec, typeOnly) {
  const from = layerOf(fromRel);
  if (!from) return undefined;
  const rule = LAYERS[from];
  if (!spec.startsWith('.')) {
    if (!rule.packages) return undefined;
    const name = packageName(spec);
    if (rule.packages.includes(name) && !(BUILTINS.has(name) || spec.startsWith('node:'))) return undefined;
    return `${from}/ may not import "${spec}": it uses only ${rule.packages.join(', ')} (${rule.why})`;
  }
  const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(fromRel), spec)).split(path.sep).join('/').replace(EXTENSIONS, '');
  const to = layerOf(target);
  if (to === undefined || to === from) return undefined;
  if (rule.may.some((entry) => covers(entry, target))) return undefined;
  if (rule.typesFrom?.some((entry) => covers(entry, target))) {
    return typeOnly ? undefined : `${from}/ may import only types from ${to}/ ("import type"), not "${spec}" (${rule.why})`;
  }
  const may = rule.may.length ? `it may import ${rule.may.join(', ')}` : 'it imports nothing of ours';
  return `${from}/ may not import ${target} (${rule.why}); ${may}`;
}

/** @type {import('eslint').Rule.RuleModule} */
const layersRule = {
  meta: { type: 'problem', docs: { description: 'imports keep to the layers of the tree (eslint.layers.js)' }, schema: [] },
  create(context) {
    const fromRel = path.relative(ROOT, context.filename).split(path.sep).join('/');
    if (!layerOf(fromRel)) return {};
    const check = (node, source, typeOnly) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const message = layerProblem(fromRel, source.value, typeOnly);
      if (message) context.report({ node, message });
    };
    /** An import or export brings types only: `import type`, or every named part is `type`. */
    const onlyTypes = (node) =>
      node.importKind === 'type' ||
      node.exportKind === 'type' ||
      (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'));
    return {
      ImportDeclaration: (node) => check(node, node.source, onlyTypes(node)),
      ExportNamedDeclaration: (node) => check(node, node.source, onlyTypes(node)),
      ExportAllDeclaration: (node) => check(node, node.source, node.exportKind === 'type'),
      ImportExpression: (node) => check(node, node.source, false),
      CallExpression: (node) => {
        const callee = node.callee;
        const isRequire = callee.type === 'Identifier' && callee.name === 'require';
        const isResolve = callee.type === 'MemberExpression' && callee.object.type === 'Identifier' && callee.object.name === 'require';
        if ((isRequire || isResolve) && node.arguments.length > 0) check(node, /** @type {any} */ (node.arguments[0]), false);
      },
    };
  },
};

/** The table as the README's "How it is built" shows it (test/unit/readme-how-built.test.ts checks it). */
function layersTable() {
  const rows = Object.entries(LAYERS).map(([folder, rule]) => {
    const may = [
      ...(rule.packages ? [`the packages ${rule.packages.join(', ')}`] : []),
      ...rule.may.map((m) => `\`${m}${m.includes('/') ? '' : '/'}\``),
      ...(rule.typesFrom ?? []).map((m) => `types from \`${m}${m.includes('/') ? '' : '/'}\``),
    ];
    return `| \`${folder}/\` | ${may.join(', ') || 'nothing of ours'} | ${rule.why} |`;
  });
  return ['| folder | may import, besides itself | why |', '| --- | --- | --- |', ...rows].join('\n');
}

module.exports = { LAYERS, layerProblem, layersTable, plugin: { rules: { layers: layersRule } } };

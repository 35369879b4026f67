import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// The layer table and its check are CommonJS because eslint.config.js loads them too; lint and this
// test judge every import by the same rules.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { LAYERS, layerProblem } = require('../../eslint.layers.js') as {
  LAYERS: Record<string, unknown>;
  layerProblem: (fromRel: string, spec: string, typeOnly: boolean) => string | undefined;
};

const ROOT = path.join(__dirname, '..', '..');

interface Edge {
  from: string;
  spec: string;
  /** The file it resolves to, relative to the repository; undefined for a package. */
  to?: string;
  typeOnly: boolean;
}

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'node_modules' && e.name !== 'dist') walk(p);
      } else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(path.relative(ROOT, p).split(path.sep).join('/'));
    }
  };
  for (const top of Object.keys(LAYERS)) if (fs.existsSync(path.join(ROOT, top))) walk(path.join(ROOT, top));
  return out.sort();
}

function resolve(from: string, spec: string): string | undefined {
  const base = path.join(ROOT, path.dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts'), path.join(base, 'index.tsx')]) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return path.relative(ROOT, c).split(path.sep).join('/');
  }
  return undefined;
}

/** Every import, export-from, dynamic import, require and require.resolve of a file, and whether it brings types only. */
function importsOf(file: string): Edge[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const edges: Edge[] = [];
  const add = (spec: ts.Expression | undefined, typeOnly: boolean) => {
    if (!spec || !ts.isStringLiteralLike(spec)) return;
    edges.push({ from: file, spec: spec.text, to: spec.text.startsWith('.') ? resolve(file, spec.text) : undefined, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      add(node.moduleSpecifier, Boolean(c && (c.isTypeOnly || (!c.name && named && named.length > 0 && named.every((e) => e.isTypeOnly)))));
    } else if (ts.isExportDeclaration(node)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier, node.isTypeOnly || Boolean(named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      const isResolve = ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'require';
      if (isImport || isRequire || isResolve) add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

/** The strongly connected parts of more than one file (Tarjan), each a cycle of imports. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const part: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        part.push(w);
      } while (w !== v);
      if (part.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(part.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return found;
}

const files = sourceFiles();
const edges = files.flatMap(importsOf);

test('the walk sees the whole tree: every top folder of the layer table that has code, and its imports', () => {
  const tops = new Set(files.map((f) => f.split('/')[0]));
  for (const top of ['engine', 'workflows', 'activities', 'services', 'api', 'worker', 'db', 'config', 'infra', 'scripts', 'bench', 'test', 'web']) expect(tops).toContain(top);
  // Relative imports that resolve to no file would slip past both checks.
  expect(edges.filter((e) => e.spec.startsWith('.') && !e.spec.endsWith('.json') && !e.to).map((e) => `${e.from}: ${e.spec}`)).toEqual([]);
});

test('no import runs back up a layer (the table in eslint.layers.js)', () => {
  const problems = edges.map((e) => ({ at: e.from, problem: layerProblem(e.from, e.spec, e.typeOnly) })).filter((p) => p.problem);
  expect(problems.map((p) => `${p.at}: ${p.problem}`)).toEqual([]);
});

test('no cycle of imports anywhere in the tree, types included', () => {
  const graph = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) if (e.to && graph.has(e.to)) graph.get(e.from)?.push(e.to);
  expect(cycles(graph).map((c) => c.join(' -> '))).toEqual([]);
});

describe('the checks themselves can fail', () => {
  test('an upward import is named with the rule it breaks and what would be valid', () => {
    expect(layerProblem('services/processes.service.ts', '../api/auth', true)).toBe(
      'services/ may not import api/auth (services are shared by the API and the activities, so they import neither); it may import engine, config, infra, db, workflows',
    );
    expect(layerProblem('infra/temporal.ts', '../workflows/messages', false)).toMatch(/^infra\/ may not import workflows\/messages/);
    expect(layerProblem('engine/time.ts', 'node:fs', false)).toMatch(/^engine\/ may not import "node:fs": it uses only xstate, zod, yaml/);
    expect(layerProblem('workflows/run-process.workflow.ts', '../activities', false)).toMatch(/may import only types from activities\//);
    expect(layerProblem('workflows/run-process.workflow.ts', '../activities', true)).toBeUndefined();
    expect(layerProblem('web/src/main.tsx', '../../engine/time', true)).toMatch(/^web\/ may not import engine\/time/);
    // The console may read the register's answer types, and only the types: nothing of the server reaches its bundle.
    expect(layerProblem('web/src/pages/registry.tsx', '../../../engine/registry-view', true)).toBeUndefined();
    expect(layerProblem('web/src/pages/registry.tsx', '../../../engine/registry-view', false)).toMatch(/^web\/ may import only types from engine\//);
  });

  test('a cycle is found, and a chain is not one', () => {
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', []]]))).toEqual([]);
  });
});

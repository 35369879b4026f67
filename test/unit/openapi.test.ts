import type express from 'express';
import { createApp, type AppDeps } from '../../api/app';
import { createLogger } from '../../infra/log';
import { OPERATIONS, errorStatuses, openApiDocument } from '../../api/openapi';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  rawPath?: string | string[];
}

/** Every METHOD path the app's router answers, walked through mounted routers, as OpenAPI paths. */
function routesOf(app: express.Express): string[] {
  const found: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = ([] as string[]).concat(layer.route.path);
        for (const p of paths) {
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (!on || method === '_all') continue;
            const full = `${prefix}${p === '/' && prefix ? '' : p}`.replace(/:(\w+)/g, '{$1}');
            found.push(`${method.toUpperCase()} ${full}`);
          }
        }
      } else if (layer.handle.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...new Set(found)].sort();
}

// The routers are only built, never called: no service is reached, so none is needed beyond what
// building reads (the evidence size limit, the console's directory).
const unused = new Proxy({}, { get: () => undefined });
const deps = new Proxy({ log: createLogger('error'), evidence: { settings: { maxBytes: 1024 } }, webDir: undefined } as unknown as AppDeps, {
  get: (target, key) => (key in target ? (target as unknown as Record<string | symbol, unknown>)[key] : unused),
});

// Express names path parameters by what the handler reads (`:id`); the document by what it is (`{workflowId}`).
const shape = (route: string) => route.replace(/\{\w+\}/g, '{}');

test('every route the app answers is in the OpenAPI document, and the document has no route the app lacks', () => {
  const app = createApp(deps);
  const served = routesOf(app).map(shape);
  const documented = OPERATIONS.map((op) => shape(`${op.method.toUpperCase()} ${op.path}`)).sort();
  expect(served.length).toBeGreaterThan(50);
  expect(documented).toEqual(served);
});

test('every operation needing a bearer token answers 401 and 429, and the public ones declare no security', () => {
  const doc = openApiDocument();
  expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
  const paths = doc.paths as Record<string, Record<string, { security: object[]; responses: Record<string, unknown> }>>;
  for (const route of ['/healthz', '/readyz', '/api/openapi.json', '/r/{token}']) expect(paths[route].get.security).toEqual([]);
  expect(paths['/api/intake/tickets'].post.security).toEqual([{ intake: [] }]);
  for (const op of OPERATIONS.filter((o) => (o.auth ?? 'bearer') === 'bearer')) {
    expect(Object.keys(paths[op.path][op.method].responses)).toEqual(expect.arrayContaining(['401', '429']));
  }
});

test('a route guarded by roles documents 403, and one that validates documents 400 with the schema the route parses', () => {
  const doc = openApiDocument();
  const paths = doc.paths as Record<string, Record<string, { parameters?: { name: string; required: boolean; schema: { type?: string } }[]; requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>>;
  for (const op of OPERATIONS.filter((o) => o.roles)) expect(errorStatuses(op)).toContain(403);
  // The diff's versions are required, as the route's query schema says (the document once called them optional).
  const diff = paths['/api/definitions/{key}/diff'].get.parameters ?? [];
  expect(diff.filter((p) => p.name === 'from' || p.name === 'to').map((p) => p.required)).toEqual([true, true]);
  expect(paths['/api/processes'].post.requestBody?.content['application/json'].schema.required).toEqual(['definition']);
});

test('the notification stream is documented as text/event-stream', () => {
  const doc = openApiDocument();
  const stream = (doc.paths as Record<string, Record<string, { responses: Record<string, { content: Record<string, unknown> }> }>>)['/api/notifications/stream'].get;
  expect(Object.keys(stream.responses['200'].content)).toEqual(['text/event-stream']);
});

test('the register import takes a CSV file or an Excel workbook as the body, and documents 415 and 422', () => {
  const doc = openApiDocument();
  const post = (doc.paths as Record<string, Record<string, { requestBody: { content: Record<string, unknown> }; responses: Record<string, unknown> }>>)['/api/registry/import'].post;
  const xlsx = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
  expect(post.requestBody.content).toEqual({ 'text/csv': { schema: { type: 'string', contentMediaType: 'text/csv' } }, [xlsx]: { schema: { type: 'string', contentMediaType: xlsx } } });
  expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['200', '415', '422']));
});

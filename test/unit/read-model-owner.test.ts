import fs from 'node:fs';
import path from 'node:path';

/**
 * db/read-model/ owns every query on the read-model tables. SQL on them anywhere else in the
 * shipped source (a statement that reads, writes or joins one) fails here, with file and line.
 * Tests and the bench are harnesses: they seed and inspect the tables directly and are not looked at.
 */
const ROOT = path.resolve(__dirname, '../..');
const READ_MODEL_TABLES = ['process_instance', 'transition_record', 'process_record', 'process_link', 'task_claim'];
const OWNER = 'db/read-model';
const NOT_SOURCE = new Set(['node_modules', 'dist', 'dist-bench', 'coverage', 'test', 'bench', 'scratch', '.git', '.data', 'db/migrations', OWNER]);
const SQL_ON_TABLE = new RegExp(`\\b(from|join|into|update|table|truncate)\\s+"?(${READ_MODEL_TABLES.join('|')})\\b`, 'i');

function sourceFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = path.relative(ROOT, full).split(path.sep).join('/');
    if (entry.name.startsWith('.') || NOT_SOURCE.has(rel)) continue;
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|tsx|js|mjs|cjs)$/.test(entry.name)) out.push(rel);
  }
  return out;
}

/** Each `file:line: text` with SQL on a read-model table. */
function sqlOnReadModel(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => (SQL_ON_TABLE.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : []));
}

describe('the read model has one owner', () => {
  const files = sourceFiles();

  test('no source outside db/read-model/ runs SQL on process_instance, transition_record, process_record, process_link or task_claim', () => {
    const found = files.flatMap((f) => sqlOnReadModel(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
    // Call a function of db/read-model (add one there) instead of writing the SQL here.
    expect(found).toEqual([]);
  });

  test('the scan covers the services, activities, API and scripts, and not the owner itself', () => {
    for (const f of ['services/processes.service.ts', 'services/stats.service.ts', 'activities/projection.activities.ts', 'api/app.ts', 'scripts/start.ts']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith(`${OWNER}/`) || f.startsWith('test/') || f.startsWith('db/migrations/'))).toEqual([]);
  });

  test('the check recognises SQL on each table, in any case and quoted, and passes prose and other tables', () => {
    const caught = [
      'select * from process_instance where workflow_id = ?',
      '`insert into transition_record (workflow_id, seq) values (?, ?)`',
      "UPDATE process_instance SET status = 'cancelled'",
      'left join task_claim c on c.task_id = t.task->>\'id\'',
      'delete from "process_link" where origin = ?',
      "select workflow_id, at, data from process_record where kind = 'monthly-ranking'",
    ];
    for (const sql of caught) expect(sqlOnReadModel('x.ts', sql)).toHaveLength(1);
    const passed = ['insert into audit_log (at, actor) values (now(), ?)', 'select * from notification where id = ?', 'the process_instance row a step leaves', 'process_instance_counts_index'];
    for (const text of passed) expect(sqlOnReadModel('x.ts', text)).toEqual([]);
  });

  test('db/read-model/ holds a query on every table it owns', () => {
    const owner = fs
      .readdirSync(path.join(ROOT, OWNER))
      .map((f) => fs.readFileSync(path.join(ROOT, OWNER, f), 'utf8'))
      .join('\n');
    for (const table of READ_MODEL_TABLES) expect(owner).toMatch(new RegExp(`\\b(from|join|into|update)\\s+${table}\\b`));
  });
});

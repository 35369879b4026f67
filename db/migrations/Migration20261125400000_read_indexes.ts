import { Migration } from '@mikro-orm/migrations';

/**
 * Indexes behind the process list (`order by updated_at desc, workflow_id desc` under each filter),
 * free-text search and the statistics. bench/read-model.bench.ts measures each with and without them.
 *
 * Each equality filter gets `(column, updated_at, workflow_id)`: read backwards, the first rows are
 * the page and the keyset cursor is a range on the same index, so a page costs the same however
 * old the matching rows are (without it, a filter whose rows are all old walks the whole
 * updated_at index). pg_trgm serves `ilike '%q%'`; where the extension cannot be created (a
 * managed server without it), search stays a scan and nothing fails.
 *
 * Plain `create index` (not concurrently: migrations run in a transaction) blocks writes to the
 * table while it builds: about two seconds per index at 200,000 rows.
 */
export class Migration20261125400000_read_indexes extends Migration {
  override async up(): Promise<void> {
    for (const column of ['definition_key', 'state', 'status']) {
      this.addSql(`create index if not exists "process_instance_${column}_updated_at_index" on "process_instance" ("${column}", "updated_at", "workflow_id");`);
    }
    // A grid's counts per state (the grid leader's view) are read from this index alone.
    this.addSql(
      `create index if not exists "process_instance_grid_updated_at_index" on "process_instance" ("grid", "updated_at", "workflow_id") include ("definition_key", "state", "status", "assignee", "due_at");`,
    );
    // Only running instances have an assignee.
    this.addSql(`create index if not exists "process_instance_assignee_updated_at_index" on "process_instance" ("assignee", "updated_at", "workflow_id") where "assignee" is not null;`);
    // Counts per state under any other filter but q (status=completed, overdue=false) scan this
    // index instead of the wide rows.
    this.addSql(`create index if not exists "process_instance_counts_index" on "process_instance" ("definition_key", "state") include ("grid", "status", "assignee", "due_at");`);
    // Periods of the statistics overview.
    this.addSql(`create index if not exists "process_instance_started_at_index" on "process_instance" ("started_at");`);
    this.addSql(`create index if not exists "transition_record_at_index" on "transition_record" ("at");`);
    this.addSql(`do $$ begin
      create extension if not exists pg_trgm;
    exception when others then
      raise notice 'pg_trgm is not available (%); free-text search over process_instance scans', sqlerrm;
    end $$;`);
    this.addSql(`do $$ begin
      if exists (select 1 from pg_extension where extname = 'pg_trgm') then
        create index if not exists "process_instance_business_key_trgm_index" on "process_instance" using gin ("business_key" gin_trgm_ops);
        create index if not exists "process_instance_title_trgm_index" on "process_instance" using gin ("title" gin_trgm_ops);
      end if;
    end $$;`);
  }

  override async down(): Promise<void> {
    for (const name of [
      'process_instance_definition_key_updated_at_index',
      'process_instance_grid_updated_at_index',
      'process_instance_state_updated_at_index',
      'process_instance_status_updated_at_index',
      'process_instance_assignee_updated_at_index',
      'process_instance_counts_index',
      'process_instance_started_at_index',
      'transition_record_at_index',
      'process_instance_business_key_trgm_index',
      'process_instance_title_trgm_index',
    ]) {
      this.addSql(`drop index if exists "${name}";`);
    }
  }
}

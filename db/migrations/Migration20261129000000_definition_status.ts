import { Migration } from '@mikro-orm/migrations';

/** A definition's lifecycle: paused (its schedule starts nothing) or retired (no new processes); no row is active. */
export class Migration20261129000000_definition_status extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table if not exists "definition_status" ("key" varchar(100) primary key, "status" varchar(20) not null check ("status" in ('active', 'paused', 'retired')), "note" text null, "changed_by" varchar(100) not null, "changed_at" timestamptz not null);`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "definition_status";`);
  }
}

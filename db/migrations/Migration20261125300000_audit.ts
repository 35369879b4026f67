import { Migration } from '@mikro-orm/migrations';

/** Who did what to which process or definition (migrations now; claims, unmasking later). */
export class Migration20261125300000_audit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "audit_log" ("id" bigserial primary key, "at" timestamptz not null, "actor" varchar(100) not null, "action" varchar(50) not null, "subject" varchar(300) not null, "data" jsonb not null);`);
    this.addSql(`create index "audit_log_subject_at_index" on "audit_log" ("subject", "at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "audit_log";`);
  }
}

import { Migration } from '@mikro-orm/migrations';

/** Business-key counters (issue/2026-000123), links between processes, and notification recipients. */
export class Migration20261125200000_links extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "business_key_counter" ("key" varchar(100) not null, "year" int not null, "value" int not null, constraint "business_key_counter_pkey" primary key ("key", "year"));`);
    this.addSql(`create table "process_link" ("origin" varchar(400) not null, "workflow_id" varchar(300) not null, "parent_workflow_id" varchar(300) not null, "created_at" timestamptz not null, constraint "process_link_pkey" primary key ("origin"));`);
    this.addSql(`create index "process_link_parent_workflow_id_index" on "process_link" ("parent_workflow_id");`);
    this.addSql(`alter table "notification" add column "member_id" varchar(100) null;`);
    this.addSql(`create index "notification_member_id_at_index" on "notification" ("member_id", "at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "notification_member_id_at_index";`);
    this.addSql(`alter table "notification" drop column if exists "member_id";`);
    this.addSql(`drop table if exists "process_link";`);
    this.addSql(`drop table if exists "business_key_counter";`);
  }
}

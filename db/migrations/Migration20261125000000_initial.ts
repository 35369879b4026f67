import { Migration } from '@mikro-orm/migrations';

export class Migration20261125000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "definition_version" ("id" serial primary key, "key" varchar(100) not null, "version" int not null, "title" varchar(200) not null, "document" jsonb not null, "hash" varchar(64) not null, "created_at" timestamptz not null, "created_by" varchar(100) not null, "note" text null);`);
    this.addSql(`alter table "definition_version" add constraint "definition_version_key_version_unique" unique ("key", "version");`);
    this.addSql(`create table "notification" ("id" varchar(400) not null, "workflow_id" varchar(300) not null, "at" timestamptz not null, "kind" varchar(20) not null, "role" varchar(50) not null, "grid" varchar(50) null, "title" varchar(500) not null, "body" text not null, "urgent" boolean not null default false, "read_at" timestamptz null, "created_at" timestamptz not null, constraint "notification_pkey" primary key ("id"));`);
    this.addSql(`create index "notification_grid_role_at_index" on "notification" ("grid", "role", "at");`);
    this.addSql(`create index "notification_workflow_id_index" on "notification" ("workflow_id");`);
    this.addSql(`create table "process_instance" ("workflow_id" varchar(300) not null, "definition_key" varchar(100) not null, "definition_version" int not null, "business_key" varchar(300) not null, "title" varchar(300) not null, "grid" varchar(50) null, "status" varchar(20) not null, "state" varchar(200) not null, "state_value" jsonb not null, "context" jsonb not null, "tasks" jsonb not null, "assignee" varchar(100) null, "due_at" timestamptz null, "last_seq" int not null, "started_at" timestamptz not null, "updated_at" timestamptz not null, "ended_at" timestamptz null, constraint "process_instance_pkey" primary key ("workflow_id"));`);
    this.addSql(`create index "process_instance_definition_key_state_index" on "process_instance" ("definition_key", "state");`);
    this.addSql(`create index "process_instance_grid_status_index" on "process_instance" ("grid", "status");`);
    this.addSql(`create index "process_instance_status_due_at_index" on "process_instance" ("status", "due_at");`);
    this.addSql(`create index "process_instance_updated_at_workflow_id_index" on "process_instance" ("updated_at", "workflow_id");`);
    this.addSql(`create table "process_record" ("id" varchar(400) not null, "workflow_id" varchar(300) not null, "kind" varchar(50) not null, "at" timestamptz not null, "grid" varchar(50) null, "data" jsonb not null, constraint "process_record_pkey" primary key ("id"));`);
    this.addSql(`create index "process_record_workflow_id_index" on "process_record" ("workflow_id");`);
    this.addSql(`create index "process_record_kind_at_index" on "process_record" ("kind", "at");`);
    this.addSql(`create table "transition_record" ("id" bigserial primary key, "workflow_id" varchar(300) not null, "seq" int not null, "at" timestamptz not null, "event" varchar(100) not null, "from_state" varchar(200) not null, "to_state" varchar(200) not null, "actor" varchar(100) null, "data" jsonb null, "late" boolean not null default false, "definition_version" int not null);`);
    this.addSql(`alter table "transition_record" add constraint "transition_record_workflow_id_seq_unique" unique ("workflow_id", "seq");`);
  }

  override async down(): Promise<void> {
    for (const table of ['transition_record', 'process_record', 'process_instance', 'notification', 'definition_version']) {
      this.addSql(`drop table if exists "${table}" cascade;`);
    }
  }
}

import { Migration } from '@mikro-orm/migrations';

/**
 * Intake systems (the 12345 hotline and others) with their tickets and status subscriptions, merged
 * duplicates, and evidence files. Outbound status messages share the chat outbox (`delivery`), whose
 * lane column grows to hold `intake:<system>`.
 */
export class Migration20261126100000_intake_evidence extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "delivery" alter column "grid_id" type varchar(100);`);
    this.addSql(`create table "intake_system" ("name" varchar(40) not null, "token_hash" varchar(64) not null, "webhook_url" varchar(1000) null, "secret" text not null, "created_at" timestamptz not null, "revoked_at" timestamptz null, constraint "intake_system_pkey" primary key ("name"));`);
    this.addSql(`alter table "intake_system" add constraint "intake_system_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create table "intake_ticket" ("system" varchar(40) not null, "ticket_id" varchar(100) not null, "workflow_id" varchar(300) not null, "created_at" timestamptz not null, constraint "intake_ticket_pkey" primary key ("system", "ticket_id"));`);
    this.addSql(`create index "intake_ticket_workflow_id_index" on "intake_ticket" ("workflow_id");`);
    this.addSql(`create table "intake_subscription" ("system" varchar(40) not null, "ticket_id" varchar(100) not null, "workflow_id" varchar(300) not null, "last_seq" int not null default -1, "created_at" timestamptz not null, constraint "intake_subscription_pkey" primary key ("system", "ticket_id", "workflow_id"));`);
    this.addSql(`create index "intake_subscription_workflow_id_index" on "intake_subscription" ("workflow_id");`);
    this.addSql(`create table "issue_merge" ("duplicate_workflow_id" varchar(300) not null, "kept_workflow_id" varchar(300) not null, "source" varchar(30) null, "by" varchar(100) not null, "at" timestamptz not null, constraint "issue_merge_pkey" primary key ("duplicate_workflow_id"));`);
    this.addSql(`create index "issue_merge_kept_workflow_id_index" on "issue_merge" ("kept_workflow_id");`);
    this.addSql(`create table "evidence_file" ("workflow_id" varchar(300) not null, "sha256" varchar(64) not null, "name" varchar(200) not null, "type" varchar(100) not null, "size" int not null, "uploaded_by" varchar(100) not null, "at" timestamptz not null, constraint "evidence_file_pkey" primary key ("workflow_id", "sha256"));`);
  }

  override async down(): Promise<void> {
    for (const t of ['evidence_file', 'issue_merge', 'intake_subscription', 'intake_ticket', 'intake_system']) this.addSql(`drop table if exists "${t}";`);
  }
}

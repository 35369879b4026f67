import { Migration } from '@mikro-orm/migrations';

/** API tokens, task claims, notification order, grid chat channels and the delivery outbox. */
export class Migration20261125500000_delivery extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "api_token" ("id" varchar(40) not null, "hash" varchar(64) not null, "role" varchar(30) not null, "member_id" varchar(100) null, "grids" jsonb not null, "name" varchar(100) not null, "created_at" timestamptz not null, "expires_at" timestamptz null, "revoked_at" timestamptz null, constraint "api_token_pkey" primary key ("id"));`);
    this.addSql(`alter table "api_token" add constraint "api_token_hash_unique" unique ("hash");`);
    this.addSql(`create table "task_claim" ("task_id" varchar(400) not null, "workflow_id" varchar(300) not null, "member_id" varchar(100) not null, "by" varchar(100) not null, "at" timestamptz not null, constraint "task_claim_pkey" primary key ("task_id"));`);
    this.addSql(`alter table "notification" add column "seq" bigserial;`);
    this.addSql(`create index "notification_seq_index" on "notification" ("seq");`);
    this.addSql(`create table "grid_channel" ("grid_id" varchar(20) not null, "webhook_url" varchar(1000) not null, "format" varchar(10) not null default 'markdown', "quiet_start" varchar(5) not null default '22:00', "quiet_end" varchar(5) not null default '07:00', "enabled" boolean not null default true, "updated_at" timestamptz not null, constraint "grid_channel_pkey" primary key ("grid_id"));`);
    this.addSql(`create table "delivery" ("id" varchar(400) not null, "workflow_id" varchar(300) not null, "grid_id" varchar(20) not null, "kind" varchar(20) not null, "urgent" boolean not null, "payload" jsonb not null, "status" varchar(20) not null, "attempts" int not null default 0, "last_error" text null, "created_at" timestamptz not null, "deliver_after" timestamptz not null, "next_attempt_at" timestamptz not null, "locked_until" timestamptz null, "delivered_at" timestamptz null, "deferred" boolean not null default false, constraint "delivery_pkey" primary key ("id"));`);
    this.addSql(`create index "delivery_status_next_attempt_at_index" on "delivery" ("status", "next_attempt_at");`);
    this.addSql(`create index "delivery_grid_id_created_at_index" on "delivery" ("grid_id", "created_at");`);
    this.addSql(`create table "delivery_attempt" ("id" bigserial primary key, "delivery_id" varchar(400) not null, "at" timestamptz not null, "ok" boolean not null, "status_code" int null, "error" text null);`);
    this.addSql(`create index "delivery_attempt_delivery_id_index" on "delivery_attempt" ("delivery_id");`);
  }

  override async down(): Promise<void> {
    for (const t of ['delivery_attempt', 'delivery', 'grid_channel', 'task_claim', 'api_token']) this.addSql(`drop table if exists "${t}";`);
    this.addSql(`alter table "notification" drop column if exists "seq";`);
  }
}

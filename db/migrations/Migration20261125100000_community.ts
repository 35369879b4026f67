import { Migration } from '@mikro-orm/migrations';

/** The community registry: grids, their sites and members, and the outside organisations that take on work. */
export class Migration20261125100000_community extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "grid" ("id" varchar(50) not null, "name" varchar(100) not null, "households" int not null, "residents" int not null, "description" text null, constraint "grid_pkey" primary key ("id"));`);
    this.addSql(`create table "site" ("id" varchar(50) not null, "name" varchar(100) not null, "kind" varchar(20) not null, "grid_id" varchar(50) not null, "households" int not null, constraint "site_pkey" primary key ("id"));`);
    this.addSql(`create index "site_grid_id_index" on "site" ("grid_id");`);
    this.addSql(`create table "member" ("id" varchar(100) not null, "name" varchar(100) not null, "role" varchar(50) not null, "grid_id" varchar(50) null, "phone" varchar(20) not null, "active" boolean not null default true, constraint "member_pkey" primary key ("id"));`);
    this.addSql(`create index "member_grid_id_role_index" on "member" ("grid_id", "role");`);
    this.addSql(`create table "organization" ("id" varchar(100) not null, "name" varchar(200) not null, "kind" varchar(30) not null, "grid_ids" jsonb not null, "contact_name" varchar(100) not null, "phone" varchar(20) not null, constraint "organization_pkey" primary key ("id"));`);
  }

  override async down(): Promise<void> {
    for (const table of ['organization', 'member', 'site', 'grid']) {
      this.addSql(`drop table if exists "${table}" cascade;`);
    }
  }
}

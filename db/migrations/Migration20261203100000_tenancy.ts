import { Migration } from '@mikro-orm/migrations';

/**
 * Communities as tenants (issue 18). A community belongs to a street office; grids, members,
 * organisations, tokens and process rows carry their community. Everything that exists already
 * belongs to the default community, 盛世社区 of 新华西街道. Grid ids of other communities are
 * qualified (`linyuan.grid-03`), so the tables keyed by grid need no new column.
 */
export class Migration20261203100000_tenancy extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "community" ("id" varchar(30) not null, "name" varchar(100) not null, "street_id" varchar(30) not null, "street_name" varchar(100) not null, "households" int not null default 0, "residents" int not null default 0, constraint "community_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "community_street_id_index" on "community" ("street_id");`);
    this.addSql(`insert into "community" ("id", "name", "street_id", "street_name", "households", "residents") values ('shengshi', '盛世社区', 'xinhuaxi', '新华西街道', 4635, 9281);`);
    for (const table of ['grid', 'member', 'organization']) {
      this.addSql(`alter table "${table}" add column "community_id" varchar(30) not null default 'shengshi';`);
      this.addSql(`create index "${table}_community_id_index" on "${table}" ("community_id");`);
    }
    this.addSql(`alter table "api_token" add column "community_id" varchar(30) null, add column "street_id" varchar(30) null;`);
    this.addSql(`alter table "process_instance" add column "community_id" varchar(30) not null default 'shengshi';`);
    this.addSql(`alter table "notification" add column "community_id" varchar(30) not null default 'shengshi';`);
    this.addSql(`create index "process_instance_community_id_updated_at_index" on "process_instance" ("community_id", "updated_at");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "process_instance_community_id_updated_at_index";`);
    this.addSql(`alter table "process_instance" drop column if exists "community_id";`);
    this.addSql(`alter table "notification" drop column if exists "community_id";`);
    this.addSql(`alter table "api_token" drop column if exists "community_id", drop column if exists "street_id";`);
    for (const table of ['grid', 'member', 'organization']) this.addSql(`alter table "${table}" drop column if exists "community_id";`);
    this.addSql(`drop table if exists "community";`);
  }
}

import { Migration } from '@mikro-orm/migrations';

/**
 * The special-population register: one row per household and category. Personal fields hold
 * ciphertext (`enc:v1:<key id>:<base64>`), hence their width; the household, category, grid and
 * cycle stay in clear because visit rounds and the coverage view select by them.
 */
export class Migration20261202200000_registry extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table if not exists "registry_entry" (
      "id" varchar(36) primary key,
      "household" varchar(50) not null,
      "category" varchar(20) not null,
      "grid_id" varchar(50) not null,
      "name" varchar(300) not null,
      "phone" varchar(300) null,
      "id_number" varchar(300) null,
      "address" varchar(1000) not null,
      "cycle" varchar(10) null check ("cycle" in ('weekly', 'monthly')),
      "since" varchar(10) not null check ("since" ~ '^\\d{4}-\\d{2}-\\d{2}$'),
      "active" boolean not null default true,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null,
      "updated_by" varchar(100) not null,
      constraint "registry_entry_household_category_unique" unique ("household", "category")
    );`);
    this.addSql(`create index if not exists "registry_entry_grid_id_category_index" on "registry_entry" ("grid_id", "category");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "registry_entry";`);
  }
}

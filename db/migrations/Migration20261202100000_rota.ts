import { Migration } from '@mikro-orm/migrations';

/** The duty rota: duty, rest days and leave per grid, day and member, with stand-ins. */
export class Migration20261202100000_rota extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "rota_entry" (
      "id" bigserial primary key,
      "grid_id" varchar(50) not null,
      "day" date not null,
      "member_id" varchar(100) not null,
      "kind" varchar(10) not null check ("kind" in ('duty', 'rest', 'leave')),
      "stand_in" varchar(100) null,
      "note" varchar(200) null,
      "updated_by" varchar(100) not null,
      "updated_at" timestamptz not null,
      constraint "rota_entry_stand_in_check" check ("stand_in" is null or ("kind" <> 'duty' and "stand_in" <> "member_id"))
    );`);
    this.addSql(`alter table "rota_entry" add constraint "rota_entry_grid_id_day_member_id_unique" unique ("grid_id", "day", "member_id");`);
    this.addSql(`create index "rota_entry_day_index" on "rota_entry" ("day");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "rota_entry";`);
  }
}

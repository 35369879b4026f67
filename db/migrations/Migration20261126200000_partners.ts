import { Migration } from '@mikro-orm/migrations';

/** Members of outside organisations (物业, 包联单位, departments) take the work given to their organisation. */
export class Migration20261126200000_partners extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "member" add column if not exists "organization_id" varchar(100) null;`);
    this.addSql(`create index if not exists "member_organization_id_index" on "member" ("organization_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "member_organization_id_index";`);
    this.addSql(`alter table "member" drop column if exists "organization_id";`);
  }
}

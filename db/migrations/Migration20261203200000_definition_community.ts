import { Migration } from '@mikro-orm/migrations';

/**
 * A community's own versions of a definition (issue 18): a street publishes the template every
 * community uses; a community's local override is recorded as a version of the same key with its
 * community. Null: the street's template, which every existing version is.
 */
export class Migration20261203200000_definition_community extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "definition_version" add column "community_id" varchar(30) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "definition_version" drop column if exists "community_id";`);
  }
}

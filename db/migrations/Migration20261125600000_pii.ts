import { Migration } from '@mikro-orm/migrations';

/** Phone numbers are stored encrypted (`enc:v1:...`), which needs more room than 11 digits. */
export class Migration20261125600000_pii extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "member" alter column "phone" type varchar(200);`);
    this.addSql(`alter table "organization" alter column "phone" type varchar(200);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "member" alter column "phone" type varchar(20);`);
    this.addSql(`alter table "organization" alter column "phone" type varchar(20);`);
  }
}

import { Migration } from '@mikro-orm/migrations';

/**
 * Sign-in with an identity provider (issue 19): accounts linked to members, console sessions (the
 * cookie's secret stored hashed) and sign-ins in progress. A member made inactive loses their
 * sessions however that happens (the API, a script, SQL), so a trigger revokes them.
 */
export class Migration20261202300000_sessions extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "member_identity" ("provider" varchar(20) not null check ("provider" in ('oidc', 'wecom')), "subject" varchar(255) not null, "member_id" varchar(100) not null references "member" ("id") on delete cascade, "linked_at" timestamptz not null, "linked_by" varchar(100) not null, constraint "member_identity_pkey" primary key ("provider", "subject"));`,
    );
    this.addSql(`create index "member_identity_member_id_index" on "member_identity" ("member_id");`);
    this.addSql(
      `create table "console_session" ("id" varchar(24) not null, "hash" varchar(64) not null, "member_id" varchar(100) not null references "member" ("id") on delete cascade, "provider" varchar(20) not null, "subject" varchar(255) not null, "created_at" timestamptz not null, "last_seen_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, "revoked_by" varchar(100) null, "user_agent" varchar(300) null, "address" varchar(64) null, constraint "console_session_pkey" primary key ("id"), constraint "console_session_hash_unique" unique ("hash"));`,
    );
    this.addSql(`create index "console_session_member_id_created_at_index" on "console_session" ("member_id", "created_at");`);
    this.addSql(`create index "console_session_expires_at_index" on "console_session" ("expires_at");`);
    this.addSql(
      `create table "sign_in_attempt" ("hash" varchar(64) not null, "provider" varchar(20) not null, "state" varchar(100) not null, "nonce" varchar(100) null, "code_verifier" varchar(200) null, "expires_at" timestamptz not null, constraint "sign_in_attempt_pkey" primary key ("hash"));`,
    );
    this.addSql(`create index "sign_in_attempt_expires_at_index" on "sign_in_attempt" ("expires_at");`);
    this.addSql(
      `create function "member_inactive_revokes_sessions"() returns trigger language plpgsql as $$
        begin
          update "console_session" set "revoked_at" = now(), "revoked_by" = 'member made inactive' where "member_id" = new."id" and "revoked_at" is null;
          return new;
        end $$;`,
    );
    this.addSql(
      `create trigger "member_inactive_revokes_sessions" after update of "active" on "member" for each row when (old."active" and not new."active") execute function "member_inactive_revokes_sessions"();`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop trigger if exists "member_inactive_revokes_sessions" on "member";`);
    this.addSql(`drop function if exists "member_inactive_revokes_sessions"();`);
    for (const t of ['sign_in_attempt', 'console_session', 'member_identity']) this.addSql(`drop table if exists "${t}";`);
  }
}

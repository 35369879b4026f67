import { EntitySchema } from '@mikro-orm/core';

/** Who may sign in: the identity providers a registry member's account can be linked at. */
export const IDENTITY_PROVIDERS = ['oidc', 'wecom'] as const;
export type IdentityProvider = (typeof IDENTITY_PROVIDERS)[number];

/** A provider's account (its stable subject: OIDC `sub`, WeCom `userid`) linked to a registry member. */
export class MemberIdentity {
  provider!: IdentityProvider;
  subject!: string;
  memberId!: string;
  linkedAt!: Date;
  /** Who linked it: an administrator's token name, or `claim:<name>` when the provider's claim matched. */
  linkedBy!: string;
}

export const MemberIdentitySchema = new EntitySchema<MemberIdentity>({
  class: MemberIdentity,
  tableName: 'member_identity',
  indexes: [{ properties: ['memberId'] }],
  properties: {
    provider: { type: 'string', length: 20, primary: true },
    subject: { type: 'string', length: 255, primary: true },
    memberId: { type: 'string', length: 100 },
    linkedAt: { type: 'Date', columnType: 'timestamptz' },
    linkedBy: { type: 'string', length: 100 },
  },
});

/**
 * A console session: the cookie holds a random secret, the row only its SHA-256. `id` is a separate
 * handle, safe to show in lists and to revoke by. Revoked rows stay until they expire, so the next
 * request can be told why it is refused.
 */
export class ConsoleSession {
  id!: string;
  hash!: string;
  memberId!: string;
  provider!: IdentityProvider;
  subject!: string;
  createdAt!: Date;
  lastSeenAt!: Date;
  expiresAt!: Date;
  revokedAt?: Date | null;
  revokedBy?: string | null;
  userAgent?: string | null;
  address?: string | null;
}

export const ConsoleSessionSchema = new EntitySchema<ConsoleSession>({
  class: ConsoleSession,
  tableName: 'console_session',
  indexes: [{ properties: ['memberId', 'createdAt'] }, { properties: ['expiresAt'] }],
  uniques: [{ properties: ['hash'] }],
  properties: {
    id: { type: 'string', length: 24, primary: true },
    hash: { type: 'string', length: 64 },
    memberId: { type: 'string', length: 100 },
    provider: { type: 'string', length: 20 },
    subject: { type: 'string', length: 255 },
    createdAt: { type: 'Date', columnType: 'timestamptz' },
    lastSeenAt: { type: 'Date', columnType: 'timestamptz' },
    expiresAt: { type: 'Date', columnType: 'timestamptz' },
    revokedAt: { type: 'Date', columnType: 'timestamptz', nullable: true },
    revokedBy: { type: 'string', length: 100, nullable: true },
    userAgent: { type: 'string', length: 300, nullable: true },
    address: { type: 'string', length: 64, nullable: true },
  },
});

/**
 * A sign-in on its way through a provider: what the callback must find again (state, nonce, the
 * PKCE verifier), keyed by the SHA-256 of a cookie only this browser holds. Used once.
 */
export class SignInAttempt {
  hash!: string;
  provider!: IdentityProvider;
  state!: string;
  nonce?: string | null;
  codeVerifier?: string | null;
  expiresAt!: Date;
}

export const SignInAttemptSchema = new EntitySchema<SignInAttempt>({
  class: SignInAttempt,
  tableName: 'sign_in_attempt',
  indexes: [{ properties: ['expiresAt'] }],
  properties: {
    hash: { type: 'string', length: 64, primary: true },
    provider: { type: 'string', length: 20 },
    state: { type: 'string', length: 100 },
    nonce: { type: 'string', length: 100, nullable: true },
    codeVerifier: { type: 'string', length: 200, nullable: true },
    expiresAt: { type: 'Date', columnType: 'timestamptz' },
  },
});

export const sessionEntities = [MemberIdentitySchema, ConsoleSessionSchema, SignInAttemptSchema];

import path from 'node:path';
import { z } from 'zod';

export type Role = 'admin' | 'ops' | 'manager' | 'grid-leader' | 'grid-worker';

/** Requests a minute per caller, by role; failed authentications a minute per address. */
export interface RateLimits {
  perRole: Record<Role, number>;
  unauthenticated: number;
}
export const DEFAULT_RATE_LIMITS: RateLimits = {
  perRole: { admin: 1200, ops: 600, manager: 600, 'grid-leader': 300, 'grid-worker': 300 },
  unauthenticated: 60,
};

/** How far one simulation may go: steps, virtual days and milliseconds of computing. */
export interface SimulationLimits {
  maxSteps: number;
  maxDays: number;
  timeoutMs: number;
}
export const DEFAULT_SIMULATION_LIMITS: SimulationLimits = { maxSteps: 5000, maxDays: 400, timeoutMs: 2000 };

/** Open notification streams per caller, and how often an open stream's token is checked again. */
export interface StreamLimits {
  perCaller: number;
  recheckMs: number;
}
export const DEFAULT_STREAM_LIMITS: StreamLimits = { perCaller: 5, recheckMs: 30_000 };

/** Where chat webhooks may point: host names, and whether private, loopback and link-local addresses are allowed. */
export interface WebhookPolicy {
  hosts: string[];
  allowPrivate: boolean;
}
export const DEFAULT_WEBHOOK_POLICY: WebhookPolicy = { hosts: ['qyapi.weixin.qq.com'], allowPrivate: false };

/** Evidence files: how large, which types, and where they are kept (the data dir, or an S3-compatible bucket). */
export interface EvidenceSettings {
  maxBytes: number;
  types: string[];
  /** Where files go; `dir` is `<data dir>/evidence` for the local store. */
  store: { kind: 'local'; dir: string } | { kind: 's3'; endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string };
}
export const EVIDENCE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'application/pdf'];
export const DEFAULT_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024;

/**
 * Signing in with an identity provider: OpenID Connect, WeCom's OAuth, or both (each only when its
 * variables are set), and the console sessions they open.
 */
export interface SignInSettings {
  oidc?: { issuer: string; clientId: string; clientSecret?: string; redirectUrl: string; scopes: string; memberClaim?: string };
  wecom?: { corpId: string; secret: string; agentId: string; redirectUrl: string; baseUrl: string; authorizeUrl: string };
  session: { secureCookie: boolean; lifetimeMs: number; idleMs: number };
}
export const DEFAULT_SESSION = { hours: 12, idleMinutes: 120 };
export const WECOM_BASE_URL = 'https://qyapi.weixin.qq.com';
export const WECOM_AUTHORIZE_URL = 'https://open.weixin.qq.com/connect/oauth2/authorize';

const count = (fallback: number, max: number, unit: string) => {
  const valid = `must be a whole number of ${unit} from 1 to ${max}`;
  return z.coerce.number({ error: valid }).int(valid).min(1, valid).max(max, valid).default(fallback);
};
const perMinute = (fallback: number) => count(fallback, 1_000_000_000, 'requests a minute');
// Providers are reached over https; plain http only on this machine (a provider the tests start).
const loopback = (u: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
const providerUrl = (example: string) =>
  z.url({ error: `must be a URL, e.g. ${example}` }).refine((v) => { const u = new URL(v); return u.protocol === 'https:' || (u.protocol === 'http:' && loopback(u)); }, `must be an https URL (http only for 127.0.0.1 or localhost), e.g. ${example}`);
const callbackUrl = (route: string) =>
  z.url({ error: `must be the URL people reach gridflow at, ending in ${route}, e.g. https://gridflow.example.org${route}` }).refine((v) => new URL(v).pathname === route, `must end in ${route} (the route that takes the answer), e.g. https://gridflow.example.org${route}`);

/**
 * The one place that reads process.env. A bad value stops the process with a message naming the
 * variable; unset DATABASE_URL / TEMPORAL_ADDRESS mean "start the embedded one" (see scripts/start.ts).
 */
const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_URL: z.string().url().optional(),
  GRIDFLOW_TEMPORAL: z.enum(['dev', 'cluster'], { error: 'must be dev (the CLI\'s dev server) or cluster (Temporal\'s own server on PostgreSQL)' }).default('dev'),
  GRIDFLOW_TEMPORAL_SHARDS: count(4, 16384, 'history shards'),
  GRIDFLOW_WORKERS: z.coerce
    .number({ error: 'must be a whole number of worker processes from 1 to 16' })
    .int('must be a whole number of worker processes from 1 to 16')
    .min(1, 'must be a whole number of worker processes from 1 to 16')
    .max(16, 'must be a whole number of worker processes from 1 to 16')
    .optional(),
  GRIDFLOW_TASK_QUEUE: z.string().min(1).default('gridflow'),
  GRIDFLOW_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  GRIDFLOW_DATA_DIR: z.string().min(1).default('.data'),
  GRIDFLOW_CACHE_DIR: z.string().optional(),
  GRIDFLOW_WORKFLOW_BUNDLE: z.string().optional(),
  GRIDFLOW_WEB_DIR: z.string().min(1).optional(),
  GRIDFLOW_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  GRIDFLOW_DATA_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes in base64 (openssl rand -base64 32)')
    .optional(),
  GRIDFLOW_WORKFLOW_DIAGNOSTICS: z
    .enum(['true', 'false'], { message: 'must be "true" or "false"' })
    .default('false')
    .transform((v) => v === 'true'),
  GRIDFLOW_WORKER_METRICS: z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:9464').optional(),
  GRIDFLOW_RATE_LIMIT_ADMIN: perMinute(DEFAULT_RATE_LIMITS.perRole.admin),
  GRIDFLOW_RATE_LIMIT_OPS: perMinute(DEFAULT_RATE_LIMITS.perRole.ops),
  GRIDFLOW_RATE_LIMIT_MANAGER: perMinute(DEFAULT_RATE_LIMITS.perRole.manager),
  GRIDFLOW_RATE_LIMIT_GRID_LEADER: perMinute(DEFAULT_RATE_LIMITS.perRole['grid-leader']),
  GRIDFLOW_RATE_LIMIT_GRID_WORKER: perMinute(DEFAULT_RATE_LIMITS.perRole['grid-worker']),
  GRIDFLOW_RATE_LIMIT_UNAUTHENTICATED: perMinute(DEFAULT_RATE_LIMITS.unauthenticated),
  GRIDFLOW_SIMULATION_MAX_STEPS: count(DEFAULT_SIMULATION_LIMITS.maxSteps, 1_000_000, 'steps'),
  GRIDFLOW_SIMULATION_MAX_DAYS: count(DEFAULT_SIMULATION_LIMITS.maxDays, 3660, 'days'),
  GRIDFLOW_SIMULATION_TIMEOUT_MS: count(DEFAULT_SIMULATION_LIMITS.timeoutMs, 600_000, 'milliseconds'),
  GRIDFLOW_STREAMS_PER_CALLER: count(DEFAULT_STREAM_LIMITS.perCaller, 1000, 'streams'),
  GRIDFLOW_STREAM_RECHECK_SECONDS: count(DEFAULT_STREAM_LIMITS.recheckMs / 1000, 86_400, 'seconds'),
  GRIDFLOW_WEBHOOK_HOSTS: z
    .string()
    .default(DEFAULT_WEBHOOK_POLICY.hosts.join(','))
    .transform((v) => v.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean))
    .refine((hosts) => hosts.length > 0 && hosts.every((h) => /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^\[?[0-9a-f:.]+\]?$/.test(h)), {
      message: 'must be a comma-separated list of host names or addresses, e.g. "qyapi.weixin.qq.com" or "*.example.com,127.0.0.1"',
    }),
  GRIDFLOW_WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'], { message: 'must be "true" or "false"' })
    .default('false')
    .transform((v) => v === 'true'),
  GRIDFLOW_EVIDENCE_MAX_BYTES: count(DEFAULT_EVIDENCE_MAX_BYTES, 1024 * 1024 * 1024, 'bytes'),
  GRIDFLOW_EVIDENCE_TYPES: z
    .string()
    .default(EVIDENCE_TYPES.join(','))
    .transform((v) => v.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean))
    .refine((types) => types.length > 0 && types.every((t) => EVIDENCE_TYPES.includes(t)), {
      message: `must be a comma-separated list of ${EVIDENCE_TYPES.join(', ')} (types whose content gridflow can recognise)`,
    }),
  GRIDFLOW_EVIDENCE_STORE: z.enum(['local', 's3'], { message: 'must be "local" or "s3"' }).default('local'),
  GRIDFLOW_S3_ENDPOINT: z.string().url('must be a URL, e.g. https://s3.cn-north-1.amazonaws.com.cn or http://127.0.0.1:9000').optional(),
  GRIDFLOW_S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a bucket name (3-63 lower-case letters, digits, dots and hyphens)').optional(),
  GRIDFLOW_S3_REGION: z.string().min(1).default('us-east-1'),
  GRIDFLOW_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  GRIDFLOW_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  GRIDFLOW_OIDC_ISSUER: providerUrl('https://sso.example.gov.cn/realms/city').optional(),
  GRIDFLOW_OIDC_CLIENT_ID: z.string().min(1).optional(),
  GRIDFLOW_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  GRIDFLOW_OIDC_REDIRECT_URL: callbackUrl('/auth/oidc/callback').optional(),
  GRIDFLOW_OIDC_SCOPES: z.string().default('openid profile').refine((v) => v.split(/\s+/).includes('openid'), 'must be space-separated scopes including "openid", e.g. "openid profile"'),
  GRIDFLOW_OIDC_MEMBER_CLAIM: z.string().regex(/^[\w.:-]{1,100}$/, 'must be a claim name, e.g. preferred_username').optional(),
  GRIDFLOW_WECOM_CORP_ID: z.string().regex(/^\w{1,64}$/, 'must be the corp id (企业ID), e.g. ww1234567890abcdef').optional(),
  GRIDFLOW_WECOM_SECRET: z.string().min(1).optional(),
  GRIDFLOW_WECOM_AGENT_ID: z.string().regex(/^\d{1,20}$/, 'must be the application\'s AgentId (digits), e.g. 1000002').optional(),
  GRIDFLOW_WECOM_REDIRECT_URL: callbackUrl('/auth/wecom/callback').optional(),
  GRIDFLOW_WECOM_BASE_URL: providerUrl(WECOM_BASE_URL).default(WECOM_BASE_URL),
  GRIDFLOW_WECOM_AUTHORIZE_URL: providerUrl(WECOM_AUTHORIZE_URL).default(WECOM_AUTHORIZE_URL),
  GRIDFLOW_SESSION_COOKIE_SECURE: z.enum(['auto', 'true', 'false'], { message: 'must be "auto", "true" or "false"' }).default('auto'),
  GRIDFLOW_SESSION_HOURS: count(DEFAULT_SESSION.hours, 720, 'hours'),
  GRIDFLOW_SESSION_IDLE_MINUTES: count(DEFAULT_SESSION.idleMinutes, 43_200, 'minutes'),
  HOME: z.string().default('/root'),
}).superRefine((e, ctx) => {
  // A provider is configured by its first variable; the others it needs must come with it.
  const together = (first: keyof typeof e, others: (keyof typeof e)[]) => {
    if (!e[first]) return;
    for (const name of others) if (!e[name]) ctx.addIssue({ code: 'custom', path: [name], message: `must be set when ${first} is` });
  };
  together('GRIDFLOW_OIDC_ISSUER', ['GRIDFLOW_OIDC_CLIENT_ID', 'GRIDFLOW_OIDC_REDIRECT_URL']);
  together('GRIDFLOW_WECOM_CORP_ID', ['GRIDFLOW_WECOM_SECRET', 'GRIDFLOW_WECOM_AGENT_ID', 'GRIDFLOW_WECOM_REDIRECT_URL']);
  if (e.GRIDFLOW_EVIDENCE_STORE !== 's3') return;
  for (const name of ['GRIDFLOW_S3_ENDPOINT', 'GRIDFLOW_S3_BUCKET', 'GRIDFLOW_S3_ACCESS_KEY_ID', 'GRIDFLOW_S3_SECRET_ACCESS_KEY'] as const) {
    if (!e[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'must be set when GRIDFLOW_EVIDENCE_STORE=s3' });
  }
});

export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  temporalAddress?: string;
  temporalNamespace: string;
  temporalUiUrl?: string;
  /** What `npm start` runs when TEMPORAL_ADDRESS is unset: the CLI's dev server or Temporal's own server on PostgreSQL. */
  temporalMode: 'dev' | 'cluster';
  /** History shards of the cluster mode's server; fixed when its store is first set up. */
  temporalShards: number;
  /** Worker processes `npm start` runs (cluster mode: 2 unless set). */
  workers: number;
  taskQueue: string;
  adminToken?: string;
  dataDir: string;
  cacheDir: string;
  workflowBundle?: string;
  /** The built console the API serves at `/`; unset, the build's own (dist/web). */
  webDir?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Where the worker exports the Temporal SDK's Prometheus metrics, if anywhere. */
  workerMetrics?: string;
  /** The SDK's per-call sandbox deadline and workflow stack traces (worker/sandbox.ts). */
  workflowDiagnostics: boolean;
  /** Encrypts personal data at rest and every Temporal payload. */
  dataKey?: string;
  rateLimits: RateLimits;
  simulation: SimulationLimits;
  streams: StreamLimits;
  webhooks: WebhookPolicy;
  evidence: EvidenceSettings;
  signIn: SignInSettings;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE,
    temporalUiUrl: e.TEMPORAL_UI_URL,
    temporalMode: e.GRIDFLOW_TEMPORAL,
    temporalShards: e.GRIDFLOW_TEMPORAL_SHARDS,
    workers: e.GRIDFLOW_WORKERS ?? (e.GRIDFLOW_TEMPORAL === 'cluster' ? 2 : 1),
    taskQueue: e.GRIDFLOW_TASK_QUEUE,
    adminToken: e.GRIDFLOW_ADMIN_TOKEN,
    dataDir: path.resolve(e.GRIDFLOW_DATA_DIR),
    cacheDir: path.resolve(e.GRIDFLOW_CACHE_DIR ?? path.join(e.HOME, '.cache', 'gridflow')),
    workflowBundle: e.GRIDFLOW_WORKFLOW_BUNDLE,
    webDir: e.GRIDFLOW_WEB_DIR === undefined ? undefined : path.resolve(e.GRIDFLOW_WEB_DIR),
    logLevel: e.GRIDFLOW_LOG_LEVEL,
    workerMetrics: e.GRIDFLOW_WORKER_METRICS,
    workflowDiagnostics: e.GRIDFLOW_WORKFLOW_DIAGNOSTICS,
    dataKey: e.GRIDFLOW_DATA_KEY,
    rateLimits: {
      perRole: {
        admin: e.GRIDFLOW_RATE_LIMIT_ADMIN,
        ops: e.GRIDFLOW_RATE_LIMIT_OPS,
        manager: e.GRIDFLOW_RATE_LIMIT_MANAGER,
        'grid-leader': e.GRIDFLOW_RATE_LIMIT_GRID_LEADER,
        'grid-worker': e.GRIDFLOW_RATE_LIMIT_GRID_WORKER,
      },
      unauthenticated: e.GRIDFLOW_RATE_LIMIT_UNAUTHENTICATED,
    },
    simulation: { maxSteps: e.GRIDFLOW_SIMULATION_MAX_STEPS, maxDays: e.GRIDFLOW_SIMULATION_MAX_DAYS, timeoutMs: e.GRIDFLOW_SIMULATION_TIMEOUT_MS },
    streams: { perCaller: e.GRIDFLOW_STREAMS_PER_CALLER, recheckMs: e.GRIDFLOW_STREAM_RECHECK_SECONDS * 1000 },
    webhooks: { hosts: e.GRIDFLOW_WEBHOOK_HOSTS, allowPrivate: e.GRIDFLOW_WEBHOOK_ALLOW_PRIVATE },
    evidence: {
      maxBytes: e.GRIDFLOW_EVIDENCE_MAX_BYTES,
      types: e.GRIDFLOW_EVIDENCE_TYPES,
      store:
        e.GRIDFLOW_EVIDENCE_STORE === 's3'
          ? { kind: 's3', endpoint: e.GRIDFLOW_S3_ENDPOINT as string, bucket: e.GRIDFLOW_S3_BUCKET as string, region: e.GRIDFLOW_S3_REGION, accessKeyId: e.GRIDFLOW_S3_ACCESS_KEY_ID as string, secretAccessKey: e.GRIDFLOW_S3_SECRET_ACCESS_KEY as string }
          : { kind: 'local', dir: path.join(path.resolve(e.GRIDFLOW_DATA_DIR), 'evidence') },
    },
    signIn: signInSettings(e),
  };
}

function signInSettings(e: z.output<typeof schema>): SignInSettings {
  const oidc = e.GRIDFLOW_OIDC_ISSUER
    ? { issuer: e.GRIDFLOW_OIDC_ISSUER, clientId: e.GRIDFLOW_OIDC_CLIENT_ID as string, clientSecret: e.GRIDFLOW_OIDC_CLIENT_SECRET, redirectUrl: e.GRIDFLOW_OIDC_REDIRECT_URL as string, scopes: e.GRIDFLOW_OIDC_SCOPES, memberClaim: e.GRIDFLOW_OIDC_MEMBER_CLAIM }
    : undefined;
  const wecom = e.GRIDFLOW_WECOM_CORP_ID
    ? { corpId: e.GRIDFLOW_WECOM_CORP_ID, secret: e.GRIDFLOW_WECOM_SECRET as string, agentId: e.GRIDFLOW_WECOM_AGENT_ID as string, redirectUrl: e.GRIDFLOW_WECOM_REDIRECT_URL as string, baseUrl: e.GRIDFLOW_WECOM_BASE_URL, authorizeUrl: e.GRIDFLOW_WECOM_AUTHORIZE_URL }
    : undefined;
  // "auto": Secure whenever people reach the callbacks over https.
  const callbacks = [oidc?.redirectUrl, wecom?.redirectUrl].filter((u): u is string => Boolean(u));
  const secureCookie = e.GRIDFLOW_SESSION_COOKIE_SECURE === 'auto' ? callbacks.length > 0 && callbacks.every((u) => u.startsWith('https:')) : e.GRIDFLOW_SESSION_COOKIE_SECURE === 'true';
  return { oidc, wecom, session: { secureCookie, lifetimeMs: e.GRIDFLOW_SESSION_HOURS * 3_600_000, idleMs: e.GRIDFLOW_SESSION_IDLE_MINUTES * 60_000 } };
}

/** What the CLI (scripts/cli.ts) reads: the API it talks to and the token it sends. */
export interface CliConfig {
  url: string;
  /** GRIDFLOW_TOKEN; without it, `<dataDir>/admin-token` when there is one, else the admin token. */
  token?: string;
  dataDir: string;
  adminToken?: string;
}

const cliSchema = z.object({
  GRIDFLOW_URL: z.url({ protocol: /^https?$/, error: 'must be the API\'s URL, e.g. http://127.0.0.1:3000' }).default('http://127.0.0.1:3000'),
  GRIDFLOW_TOKEN: z.string().min(1).optional(),
  GRIDFLOW_DATA_DIR: schema.shape.GRIDFLOW_DATA_DIR,
  GRIDFLOW_ADMIN_TOKEN: schema.shape.GRIDFLOW_ADMIN_TOKEN,
});

/** The CLI's settings; a bad value is a ConfigError naming the variable, as for the servers. */
export function loadCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const parsed = cliSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  const e = parsed.data;
  return { url: e.GRIDFLOW_URL.replace(/\/$/, ''), token: e.GRIDFLOW_TOKEN, dataDir: path.resolve(e.GRIDFLOW_DATA_DIR), adminToken: e.GRIDFLOW_ADMIN_TOKEN };
}

/**
 * Every variable gridflow reads, each with its default where it has one (after parsing): the
 * README's configuration table is checked against this list (test/unit/readme-configuration.test.ts).
 * HOME is the system's, only the cache dir's default.
 */
export const SETTINGS: { name: string; fallback: unknown }[] = [...Object.entries(schema.shape), ...Object.entries(cliSchema.shape)]
  .filter(([name], i, all) => name !== 'HOME' && all.findIndex(([n]) => n === name) === i)
  .map(([name, field]) => ({ name, fallback: (field as z.ZodType).safeParse(undefined).data }));

/** Loads the configuration or ends the process with the reason. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`gridflow: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}

import path from 'node:path';
import { z } from 'zod';

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
  GRIDFLOW_TASK_QUEUE: z.string().min(1).default('gridflow'),
  GRIDFLOW_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  GRIDFLOW_DATA_DIR: z.string().min(1).default('.data'),
  GRIDFLOW_CACHE_DIR: z.string().optional(),
  GRIDFLOW_WORKFLOW_BUNDLE: z.string().optional(),
  GRIDFLOW_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  GRIDFLOW_DATA_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes in base64 (openssl rand -base64 32)')
    .optional(),
  GRIDFLOW_WORKER_METRICS: z.string().regex(/^[^\s:]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:9464').optional(),
  HOME: z.string().default('/root'),
});

export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  temporalAddress?: string;
  temporalNamespace: string;
  temporalUiUrl?: string;
  taskQueue: string;
  adminToken?: string;
  dataDir: string;
  cacheDir: string;
  workflowBundle?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Where the worker exports the Temporal SDK's Prometheus metrics, if anywhere. */
  workerMetrics?: string;
  /** Encrypts personal data at rest and every Temporal payload. */
  dataKey?: string;
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
    taskQueue: e.GRIDFLOW_TASK_QUEUE,
    adminToken: e.GRIDFLOW_ADMIN_TOKEN,
    dataDir: path.resolve(e.GRIDFLOW_DATA_DIR),
    cacheDir: path.resolve(e.GRIDFLOW_CACHE_DIR ?? path.join(e.HOME, '.cache', 'gridflow')),
    workflowBundle: e.GRIDFLOW_WORKFLOW_BUNDLE,
    logLevel: e.GRIDFLOW_LOG_LEVEL,
    workerMetrics: e.GRIDFLOW_WORKER_METRICS,
    dataKey: e.GRIDFLOW_DATA_KEY,
  };
}

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

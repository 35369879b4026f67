import path from 'node:path';
import { ConfigError, loadCliConfig, loadConfig } from '../../config/config';

const problem = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  return 'no problem';
};

test('the limits of issue 13 have their defaults when unset', () => {
  const c = loadConfig({});
  expect(c.rateLimits).toEqual({ perRole: { admin: 1200, ops: 600, manager: 600, 'grid-leader': 300, 'grid-worker': 300 }, unauthenticated: 60 });
  expect(c.simulation).toEqual({ maxSteps: 5000, maxDays: 400, timeoutMs: 2000 });
  expect(c.streams).toEqual({ perCaller: 5, recheckMs: 30_000 });
  expect(c.webhooks).toEqual({ hosts: ['qyapi.weixin.qq.com'], allowPrivate: false });
});

test('each limit is read from its variable', () => {
  const c = loadConfig({
    GRIDFLOW_RATE_LIMIT_GRID_WORKER: '120',
    GRIDFLOW_RATE_LIMIT_UNAUTHENTICATED: '10',
    GRIDFLOW_SIMULATION_MAX_STEPS: '20000',
    GRIDFLOW_SIMULATION_TIMEOUT_MS: '5000',
    GRIDFLOW_STREAMS_PER_CALLER: '2',
    GRIDFLOW_STREAM_RECHECK_SECONDS: '5',
    GRIDFLOW_WEBHOOK_HOSTS: 'qyapi.weixin.qq.com, *.Example.com',
    GRIDFLOW_WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  expect(c.rateLimits.perRole['grid-worker']).toBe(120);
  expect(c.rateLimits.unauthenticated).toBe(10);
  expect(c.simulation).toEqual({ maxSteps: 20000, maxDays: 400, timeoutMs: 5000 });
  expect(c.streams).toEqual({ perCaller: 2, recheckMs: 5000 });
  expect(c.webhooks).toEqual({ hosts: ['qyapi.weixin.qq.com', '*.example.com'], allowPrivate: true });
});

test.each([
  [{ GRIDFLOW_RATE_LIMIT_OPS: '0' }, 'GRIDFLOW_RATE_LIMIT_OPS: must be a whole number of requests a minute from 1 to 1000000000'],
  [{ GRIDFLOW_RATE_LIMIT_MANAGER: 'lots' }, 'GRIDFLOW_RATE_LIMIT_MANAGER: must be a whole number of requests a minute from 1 to 1000000000'],
  [{ GRIDFLOW_SIMULATION_MAX_DAYS: '4000' }, 'GRIDFLOW_SIMULATION_MAX_DAYS: must be a whole number of days from 1 to 3660'],
  [{ GRIDFLOW_STREAM_RECHECK_SECONDS: '0.5' }, 'GRIDFLOW_STREAM_RECHECK_SECONDS: must be a whole number of seconds from 1 to 86400'],
  [{ GRIDFLOW_WEBHOOK_HOSTS: 'https://qyapi.weixin.qq.com' }, 'GRIDFLOW_WEBHOOK_HOSTS: must be a comma-separated list of host names or addresses'],
  [{ GRIDFLOW_WEBHOOK_HOSTS: ' , ' }, 'GRIDFLOW_WEBHOOK_HOSTS: must be a comma-separated list of host names or addresses'],
  [{ GRIDFLOW_WEBHOOK_ALLOW_PRIVATE: 'yes' }, 'GRIDFLOW_WEBHOOK_ALLOW_PRIVATE: must be "true" or "false"'],
])('a bad value stops start-up naming the variable: %j', (env, message) => {
  expect(problem(env)).toContain(message);
});

test('the console dir is read from GRIDFLOW_WEB_DIR, resolved; unset, the build serves its own', () => {
  expect(loadConfig({}).webDir).toBeUndefined();
  expect(loadConfig({ GRIDFLOW_WEB_DIR: 'build/web' }).webDir).toBe(path.resolve('build/web'));
  expect(problem({ GRIDFLOW_WEB_DIR: '' })).toContain('GRIDFLOW_WEB_DIR');
});

test("the CLI's settings are validated like the servers': the API's URL, its token, else the data dir's admin token", () => {
  expect(loadCliConfig({})).toEqual({ url: 'http://127.0.0.1:3000', token: undefined, dataDir: path.resolve('.data'), adminToken: undefined });
  expect(loadCliConfig({ GRIDFLOW_URL: 'https://gridflow.example.cn/', GRIDFLOW_TOKEN: 't0k' }).url).toBe('https://gridflow.example.cn');
  expect(() => loadCliConfig({ GRIDFLOW_URL: 'localhost:3000' })).toThrow("GRIDFLOW_URL: must be the API's URL, e.g. http://127.0.0.1:3000");
  expect(() => loadCliConfig({ GRIDFLOW_ADMIN_TOKEN: 'short' })).toThrow('GRIDFLOW_ADMIN_TOKEN: must be at least 16 characters');
});

import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>).__gridflow as { dir: string; stops: (() => Promise<void>)[] } | undefined;
  if (!state) return;
  for (const stop of state.stops.reverse()) await stop().catch(() => undefined);
  fs.rmSync(state.dir, { recursive: true, force: true });
}

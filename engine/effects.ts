import type { EffectType, Role } from './expressions';

/**
 * What a step asks the world to do, one member per effect action of the library (library.ts). The
 * workflow runs each as an activity and the simulator reports them; both switch over `type`, so an
 * effect added here does not compile until each of them handles it.
 */

export type Notice = {
  kind: 'info' | 'reminder' | 'escalation';
  to: Role[];
  /** For `partner`: the organisation that owns the work (`context.owner.id`). */
  organization?: string;
  title: string;
  body: string;
  urgent: boolean;
};

/** A row of the process's records, kept as the definition wrote it (`kind`) with its data read from the instance. */
export type RecordParams = { kind: string; data?: Record<string, unknown> };

/** A process to start; without a grid it runs in the grid of the process that starts it. */
export type StartProcessParams = { definition: string; input?: Record<string, unknown>; grid?: string | null };

/** An event for another process, by its workflow id (one effect per id when the definition gave a list). */
export type SendEventParams = { to: string; type: string; data?: Record<string, unknown> };

/** A named data provider to run; its result comes back to this process as the event `send`. */
export type FetchParams = { provider: string; params?: Record<string, unknown>; send: string };

interface EffectOf<T extends EffectType, P> {
  /** Stable within the instance (`<seq>:<index>`): the identity that makes its delivery idempotent. */
  key: string;
  type: T;
  params: P;
}

export type NotifyEffect = EffectOf<'notify', Notice>;
export type RecordEffect = EffectOf<'record', RecordParams>;
export type StartProcessEffect = EffectOf<'startProcess', StartProcessParams>;
export type SendEventEffect = EffectOf<'sendEvent', SendEventParams>;
export type FetchEffect = EffectOf<'fetch', FetchParams>;

export type Effect = NotifyEffect | RecordEffect | StartProcessEffect | SendEventEffect | FetchEffect;

/** An effect before the step numbers it. */
export type EffectBody = Effect extends infer E ? (E extends Effect ? Omit<E, 'key'> : never) : never;

/** The `default` of an exhaustive switch: only a value the types say can not exist reaches it. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}

/**
 * Types the params XState hands back for a non-notify effect action, resolved against the instance
 * (`forEach` already expanded). Their shape is the library's schema, which the definition passed
 * when it was published; the engine does not load zod (see expressions.ts), so it trusts that shape
 * and only turns the ids a `$ref` read into text, which is how they are sent. A `sendEvent` to a
 * list of processes is one effect per process.
 */
export function typedEffects(type: Exclude<EffectType, 'notify'>, params: Record<string, unknown>): EffectBody[] {
  switch (type) {
    case 'record':
      return [{ type, params: params as RecordParams }];
    case 'startProcess': {
      const { grid } = params;
      const text = grid === undefined || grid === null || typeof grid === 'string' ? grid : String(grid);
      return [{ type, params: (text === grid ? params : { ...params, grid: text }) as StartProcessParams }];
    }
    case 'sendEvent':
      return (Array.isArray(params.to) ? params.to : [params.to]).map((to: unknown) => ({ type, params: { ...params, to: String(to) } as SendEventParams }));
    case 'fetch':
      return [{ type, params: params as FetchParams }];
    default:
      return unreachable(type);
  }
}

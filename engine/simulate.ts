import type { CompiledDefinition } from './compile';
import { applyEvent, EventRejected, fireDue, nextDeadline, startInstance, stateName, unreachable, type Notice, type Step } from './engine';
import { formatLocal, localDate } from './time';

export interface SimulationEvent {
  /** ISO 8601 time on the virtual clock. */
  at: string;
  type: string;
  data?: Record<string, unknown>;
  actor?: string;
}

export interface SimulationInput {
  input?: Record<string, unknown>;
  grid?: string;
  /** When the instance starts; defaults to the first event's time. */
  startAt?: string;
  events: SimulationEvent[];
  /** Fire timers up to this time after the last event; defaults to the last event's time. */
  until?: string;
}

export interface SimulatedStep {
  at: string;
  event: string;
  from: string;
  to: string;
  late?: boolean;
  notifications: (Notice & { role: string[] })[];
  effects: { type: string; params: Record<string, unknown> }[];
  rejected?: { code: string; message: string; accepts: string[] };
}

export interface SimulationResult {
  steps: SimulatedStep[];
  final: { state: string; status: 'running' | 'completed'; context: Record<string, unknown> };
}

export class SimulationError extends Error {
  constructor(
    message: string,
    readonly errors: { path: string; message: string }[],
  ) {
    super(message);
  }
}

/** How far a simulation may go. Without limits it runs to the end, however far that is. */
export interface SimulationLimits {
  /** Most steps (the start, each event, timer, reminder and escalation) a run may record. */
  maxSteps: number;
  /** Most virtual days from the start to the end. */
  maxDays: number;
  /** Most milliseconds of computing, measured on `clock`. */
  timeoutMs?: number;
  /** The host's monotonic clock in milliseconds (performance.now); the engine itself reads no clock. */
  clock?: () => number;
}

export type SimulationLimitName = 'steps' | 'days' | 'time';

/** A run that went past one of its limits: which, its value, and where in the request to shorten it. */
export class SimulationLimitReached extends Error {
  constructor(
    readonly limit: SimulationLimitName,
    readonly max: number,
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'SimulationLimitReached';
  }
}

const DAY_MS = 86_400_000;
const thousands = (n: number) => n.toLocaleString('en-US');

function view(step: Step, zone: string): SimulatedStep {
  const notifications: SimulatedStep['notifications'] = [];
  const effects: SimulatedStep['effects'] = [];
  for (const effect of step.effects) {
    switch (effect.type) {
      case 'notify':
        notifications.push({ ...effect.params, role: effect.params.to });
        break;
      case 'record':
      case 'startProcess':
      case 'sendEvent':
      case 'fetch':
        effects.push({ type: effect.type, params: effect.params });
        break;
      default:
        unreachable(effect);
    }
  }
  return {
    at: formatLocal(step.at, zone),
    event: step.event,
    from: step.from,
    to: step.to,
    ...(step.late ? { late: true } : {}),
    notifications,
    effects,
  };
}

/**
 * Runs a definition against timed events on a virtual clock, without Temporal: the same engine
 * the workflow uses, so this is what the definition would do. Timers that fall between events fire
 * in order; a refused event is reported as a step and changes nothing.
 */
export function simulate(def: CompiledDefinition, sim: SimulationInput, limits?: SimulationLimits): SimulationResult {
  const errors: { path: string; message: string }[] = [];
  const parse = (text: string | undefined, path: string): number | undefined => {
    if (text === undefined) return undefined;
    const ms = Date.parse(text);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) {
      errors.push({ path, message: `"${text}" is not a time; use ISO 8601 with offset, e.g. 2026-11-25T09:00:00+08:00` });
    }
    return ms;
  };
  const times = sim.events.map((e, i) => parse(e.at, `events.${i}.at`) as number);
  const startAt = parse(sim.startAt, 'startAt') ?? times[0];
  const until = parse(sim.until, 'until');
  if (startAt === undefined) errors.push({ path: 'startAt', message: 'give startAt or at least one event' });
  times.forEach((t, i) => {
    if (i > 0 && t < times[i - 1]) errors.push({ path: `events.${i}.at`, message: 'events must be in time order' });
    if (startAt !== undefined && t < startAt) errors.push({ path: `events.${i}.at`, message: 'an event can not come before the start' });
  });
  if (errors.length) throw new SimulationError(`cannot simulate: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);

  const zone = def.zone;
  const end = Math.max(until ?? -Infinity, times.at(-1) ?? (startAt as number));
  // Where a caller shortens the run: the until it gave, else its events.
  const shorten = until !== undefined && until >= (times.at(-1) ?? -Infinity) ? 'until' : 'events';
  if (limits && end - (startAt as number) > limits.maxDays * DAY_MS) {
    const days = Math.ceil((end - (startAt as number)) / DAY_MS);
    throw new SimulationLimitReached(
      'days',
      limits.maxDays,
      `the simulation would span ${thousands(days)} days, from ${formatLocal(startAt as number, zone)} to ${formatLocal(end, zone)}; at most ${thousands(limits.maxDays)} days are simulated at once: bring ${shorten === 'until' ? 'until' : 'the last event'} closer to the start`,
      shorten,
    );
  }
  const started = limits?.clock?.();
  const input = sim.input ?? {};
  const day = typeof input.date === 'string' ? input.date : localDate(startAt as number, zone);
  const first = startInstance(def, { input, grid: sim.grid, day, businessKey: `${def.doc.key}/simulation`, at: startAt as number, actor: 'simulation' });
  const steps: SimulatedStep[] = [];
  let instance = first.instance;
  const record = (step: SimulatedStep) => {
    if (limits && steps.length >= limits.maxSteps) {
      throw new SimulationLimitReached(
        'steps',
        limits.maxSteps,
        `the simulation reached its limit of ${thousands(limits.maxSteps)} steps at ${step.at} in state "${step.from}", before its end at ${formatLocal(end, zone)}; simulate a shorter span or fewer events (timers that keep sending each other events step without end)`,
        shorten,
      );
    }
    if (limits?.timeoutMs !== undefined && started !== undefined && steps.length % 64 === 0 && (limits.clock as () => number)() - started > limits.timeoutMs) {
      throw new SimulationLimitReached(
        'time',
        limits.timeoutMs,
        `the simulation ran past its limit of ${thousands(limits.timeoutMs)} ms of computing after ${thousands(steps.length)} steps, at ${step.at}; simulate a shorter span or fewer events`,
        shorten,
      );
    }
    steps.push(step);
  };
  record(view(first, zone));
  // One instant at a time, so a limit stops a run whose timers keep firing before it has built them all.
  const advance = (to: number) => {
    for (let d = nextDeadline(instance); d && d.at <= to; d = nextDeadline(instance)) {
      const fired = fireDue(def, instance, d.at);
      for (const step of fired.steps) record(view(step, zone));
      instance = fired.instance;
    }
  };
  sim.events.forEach((e, i) => {
    advance(times[i]);
    try {
      const step = applyEvent(def, instance, { type: e.type, data: e.data, at: times[i], actor: e.actor ?? 'simulation' });
      record(view(step, zone));
      instance = step.instance;
    } catch (err) {
      if (!(err instanceof EventRejected)) throw err;
      const state = stateName(instance.value);
      record({ at: formatLocal(times[i], zone), event: e.type, from: state, to: state, notifications: [], effects: [], rejected: { code: err.code, message: err.message, accepts: err.accepts } });
    }
  });
  advance(end);
  return { steps, final: { state: stateName(instance.value), status: instance.status, context: instance.context } };
}

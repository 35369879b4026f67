import { communityOfGrid, DEFAULT_COMMUNITY } from '../engine/community';
import crypto from 'node:crypto';
import type { Actor } from '../engine/access';
import type { DataKey } from '../infra/crypto';
import { mayReachProcess, type Principal } from './principal';
import type { CommunityService } from './community.service';
import { badRequest, conflict, forbidden, notFound } from './errors';
import type { ProcessService } from './processes.service';

/** What a resident's link carries: the issue, until when, which verification it answers, and its own id. */
interface LinkPayload {
  w: string;
  e: number;
  v: number;
  n: string;
  /** Who handed it out (member id and role): separation of duties covers them too. */
  m?: string;
  r?: string;
}

const LINK_DAYS = 7;
const MAY_HAND_OUT = new Set<Principal['role']>(['admin', 'manager', 'grid-leader', 'grid-worker']);

/**
 * The resident's voice (回访): a signed, expiring link for an issue awaiting evaluation that the grid
 * hands to the resident who raised it. It needs no account and shows nothing personal; the answer
 * is the EVALUATE, sent as the resident (the definition's rules and threshold apply).
 */
export class SatisfactionService {
  private readonly key: Buffer;

  constructor(private readonly deps: { processes: ProcessService; community: CommunityService; dataKey: DataKey }) {
    this.key = deps.dataKey.derive('satisfaction-link');
  }

  private sign(payload: LinkPayload): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const mac = crypto.createHmac('sha256', this.key).update(body).digest('base64url');
    return `${body}.${mac}`;
  }

  /** The payload of a link this server signed and that has not expired; otherwise a 404 that says nothing more. */
  private open(token: string): LinkPayload {
    const [body, mac] = token.split('.');
    const gone = notFound('this link is not valid or has expired; ask your grid worker for a new one');
    if (!body || !mac) throw gone;
    // Compared as text: base64 decoding ignores a last character's spare bits, so two spellings of one MAC would both pass.
    const expected = Buffer.from(crypto.createHmac('sha256', this.key).update(body).digest('base64url'));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw gone;
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as LinkPayload;
    if (typeof payload.e !== 'number' || payload.e < Date.now()) throw gone;
    return payload;
  }

  /** The resident answering a link, with whoever handed it out behind them. */
  private resident(n: string, grid: string | null, minter?: { id: string; role: string }): Actor {
    // The resident, and whoever handed the link out, belong to the grid and so its community.
    const community = grid ? communityOfGrid(grid) : undefined;
    const where = community && community !== DEFAULT_COMMUNITY ? { community } : {};
    return {
      kind: 'person',
      id: `resident:${n}`,
      role: 'resident',
      grids: grid ? [grid] : [],
      ...where,
      ...(minter ? { by: { kind: 'person', id: minter.id, role: minter.role, grids: grid ? [grid] : [], ...where } } : {}),
    };
  }

  /** Makes a link for an issue awaiting evaluation, for grid staff of its grid and managers (audited). */
  async createLink(p: Principal, workflowId: string): Promise<{ url: string; expiresAt: string }> {
    const found = await this.deps.processes.gridOf(workflowId);
    if (!found || !mayReachProcess(p, found)) throw notFound(`process "${workflowId}" does not exist`);
    if (!MAY_HAND_OUT.has(p.role)) throw forbidden(`a satisfaction link is handed out by the grid's worker or leader, or a manager; you are ${p.role}`);
    const n = crypto.randomBytes(9).toString('base64url');
    const minter = { id: p.memberId ?? p.name, role: p.role };
    const d = await this.deps.processes.get(workflowId, this.resident(n, found.grid, minter));
    if (d.state !== 'awaiting-evaluation') {
      throw conflict(`a satisfaction link is for an issue awaiting evaluation; "${workflowId}" is in state "${d.state}"`);
    }
    // The handler and the verifier may not collect the rating of their own work, not even through a resident.
    if (!d.youMaySend.includes('EVALUATE')) {
      throw forbidden(`you handled or verified "${workflowId}", so you may not hand out its satisfaction link; ask another member of the grid or a manager`);
    }
    const payload: LinkPayload = { w: workflowId, e: Date.now() + LINK_DAYS * 86_400_000, v: Number(d.context.reopenCount ?? 0), n, m: minter.id, r: minter.role };
    await this.deps.community.audit(p.memberId ?? p.name, 'satisfaction.link', workflowId, { link: payload.n, expiresAt: new Date(payload.e).toISOString() });
    return { url: `/r/${this.sign(payload)}`, expiresAt: new Date(payload.e).toISOString() };
  }

  /** What the resident sees: the category and whether an answer is still wanted; nothing personal. */
  async read(token: string): Promise<{ category: string; open: boolean }> {
    const payload = this.open(token);
    const d = await this.deps.processes.get(payload.w).catch(() => undefined);
    if (!d) throw notFound('this link is not valid or has expired; ask your grid worker for a new one');
    const input = (d.context.input ?? {}) as { category?: unknown };
    const open = d.state === 'awaiting-evaluation' && Number(d.context.reopenCount ?? 0) === payload.v;
    return { category: typeof input.category === 'string' ? input.category : '', open };
  }

  /** The resident's answer: EVALUATE sent as the resident; the same link answers once. */
  async answer(token: string, body: { satisfaction?: unknown; comment?: unknown }): Promise<{ state: string }> {
    const payload = this.open(token);
    const satisfaction = Number(body.satisfaction);
    if (!Number.isInteger(satisfaction) || satisfaction < 1 || satisfaction > 5) {
      throw badRequest('satisfaction is a whole number from 1 (very unsatisfied) to 5 (very satisfied)', [{ path: 'satisfaction', message: '1 to 5' }]);
    }
    const comment = typeof body.comment === 'string' && body.comment.trim() ? body.comment.trim().slice(0, 1000) : undefined;
    const seen = await this.read(token);
    if (!seen.open) throw conflict('thank you — this issue has already been evaluated');
    const found = await this.deps.processes.gridOf(payload.w);
    const resident = this.resident(payload.n, found?.grid ?? null, payload.m ? { id: payload.m, role: payload.r ?? 'unknown' } : undefined);
    const res = await this.deps.processes.sendEvent(payload.w, { type: 'EVALUATE', data: { satisfaction, ...(comment ? { comment } : {}) }, requestId: `resident:${payload.n}` }, resident, `resident:${payload.n}`);
    return { state: res.state };
  }
}

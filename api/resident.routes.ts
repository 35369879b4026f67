import express, { Router, type Response } from 'express';
import type { SatisfactionService } from '../services/satisfaction.service';
import { ProblemError } from '../services/errors';
import { z } from 'zod';
import type { Principal } from './auth';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A page for a phone, in Chinese, with no script: one form, or one sentence. */
function page(res: Response, status: number, body: string) {
  res
    .status(status)
    .set({ 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'", 'Cache-Control': 'no-store' })
    .type('html')
    .send(
      `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>办理满意度</title>` +
        `<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.6}fieldset{border:0;padding:0}label{display:block;margin:.4rem 0}button{font-size:1.1rem;padding:.5rem 1.5rem}</style></head><body>${body}</body></html>`,
    );
}

/** The resident's answer, from the form or as JSON. */
export const answerBody = z.object({
  satisfaction: z.coerce.number().int().min(1).max(5).describe('1 (very unsatisfied) to 5 (very satisfied)'),
  comment: z.string().max(1000).optional(),
});

const RATINGS: [number, string][] = [
  [5, '非常满意'],
  [4, '满意'],
  [3, '基本满意'],
  [2, '不满意'],
  [1, '非常不满意'],
];

/** `/r/:token`: the resident's page and answer; no account, nothing personal. JSON when asked for it. */
export function residentRoutes(satisfaction: SatisfactionService): Router {
  const r = Router();
  r.use(express.urlencoded({ extended: false, limit: '16kb' }));
  const wantsJson = (accept: string | undefined) => /application\/json/.test(accept ?? '');

  r.get('/:token', async (req, res) => {
    const seen = await satisfaction.read(req.params.token);
    if (wantsJson(req.get('accept'))) return void res.json(seen);
    if (!seen.open) return page(res, 200, '<h1>感谢您的评价</h1><p>这件事已经评价过了。</p>');
    const options = RATINGS.map(([v, label]) => `<label><input type="radio" name="satisfaction" value="${v}" required> ${label}</label>`).join('');
    page(
      res,
      200,
      `<h1>请您评价办理结果</h1><p>您反映的「${escape(seen.category)}」问题已办理完毕。您满意吗？</p>` +
        `<form method="post"><fieldset><legend>满意度</legend>${options}</fieldset>` +
        `<label>意见（可不填）<br><textarea name="comment" rows="3" maxlength="1000" style="width:100%"></textarea></label><button type="submit">提交</button></form>`,
    );
  });

  r.post('/:token', async (req, res) => {
    const json = req.is('application/json') !== false && req.is('application/json') !== null;
    try {
      const result = await satisfaction.answer(req.params.token, (req.body ?? {}) as Record<string, unknown>);
      if (json) return void res.json(result);
      page(res, 200, '<h1>感谢您的评价</h1><p>您的意见已记录。</p>');
    } catch (e) {
      if (json || !(e instanceof ProblemError)) throw e;
      page(res, e.status, `<h1>未能提交</h1><p>${escape(e.status === 404 ? '链接无效或已过期，请联系您的网格员。' : e.status === 409 ? '这件事已经评价过了。' : '请选择满意度后再提交。')}</p>`);
    }
  });
  return r;
}

/** `POST /api/processes/:id/satisfaction-link`: grid staff hand a resident a link to rate the result. */
export function satisfactionLinkRoutes(satisfaction: SatisfactionService): Router {
  const r = Router();
  r.post('/:id/satisfaction-link', async (req, res) => {
    res.status(201).json(await satisfaction.createLink(req.principal as Principal, String(req.params.id)));
  });
  return r;
}

import { backoffMs, deliverAfter, wecomMessage } from '../../services/delivery.service';
import { atLocal, formatLocal } from '../../engine/time';

const at = (day: string, clock: string) => atLocal(day, clock);
const show = (ms: number) => formatLocal(ms).slice(0, 16);

describe('quiet hours (22:00-07:00 in Asia/Shanghai)', () => {
  test.each([
    ['a reminder at 21:59 goes at once', '2026-11-25', '21:59', false, '2026-11-25T21:59'],
    ['a reminder at 22:00 waits for 07:00 the next morning', '2026-11-25', '22:00', false, '2026-11-26T07:00'],
    ['a reminder at 23:59 waits for 07:00 the next morning', '2026-11-25', '23:59', false, '2026-11-26T07:00'],
    ['a reminder at 03:00 waits for 07:00 the same morning', '2026-11-26', '03:00', false, '2026-11-26T07:00'],
    ['a reminder at 07:00 goes at once', '2026-11-26', '07:00', false, '2026-11-26T07:00'],
    ['an urgent notice at 23:30 goes through', '2026-11-25', '23:30', true, '2026-11-25T23:30'],
  ])('%s', (_name, day, clock, urgent, expected) => {
    expect(show(deliverAfter(at(day, clock), urgent))).toBe(expected);
  });

  test('a grid may set its own quiet hours, also within one day', () => {
    expect(show(deliverAfter(at('2026-11-25', '12:30'), false, '12:00', '13:30'))).toBe('2026-11-25T13:30');
    expect(show(deliverAfter(at('2026-11-25', '21:30'), false, '21:00', '06:30'))).toBe('2026-11-26T06:30');
  });
});

test('retries back off from 1 s, doubling, up to 5 minutes', () => {
  expect([1, 2, 3, 4, 10, 20].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 300_000, 300_000]);
});

test('messages use the WeCom group robot format, text or markdown, Chinese labels', () => {
  const notice = { kind: 'escalation' as const, to: ['grid-leader' as const], title: '督办：巡查超时', body: '请督促', urgent: true };
  expect(wecomMessage('text', notice, 'grid-03', '2026-11-25T18:00:00.000+08:00', 'x#1')).toEqual({ msgtype: 'text', text: { content: '【督办】督办：巡查超时\n请督促' } });
  expect(wecomMessage('markdown', notice, 'grid-03', '2026-11-25T18:00:00.000+08:00', 'x#1')).toEqual({
    msgtype: 'markdown',
    markdown: { content: '<font color="warning">紧急</font> **【督办】督办：巡查超时**\n请督促\n> grid-03 · 2026-11-25 18:00 · x#1' },
  });
});

import { cronProblem, cronTimes, parseCron } from '../../engine/cron';
import { atLocal, formatLocal } from '../../engine/time';

const local = (ms: number) => formatLocal(ms).slice(0, 16);

describe('cron expressions of schedules', () => {
  test('the built-ins\' crons list their runs in Asia/Shanghai', () => {
    const from = atLocal('2026-11-25', '10:00');
    expect(cronTimes('30 8 * * *', 'Asia/Shanghai', from, 3).map(local)).toEqual(['2026-11-26T08:30', '2026-11-27T08:30', '2026-11-28T08:30']);
    expect(cronTimes('0 9 * * 5', 'Asia/Shanghai', from, 2).map(local)).toEqual(['2026-11-27T09:00', '2026-12-04T09:00']);
    expect(cronTimes('0 9 25 * *', 'Asia/Shanghai', from, 2).map(local)).toEqual(['2026-12-25T09:00', '2027-01-25T09:00']);
  });

  test('a run at the very instant given is not "after" it', () => {
    expect(cronTimes('0 9 25 * *', 'Asia/Shanghai', atLocal('2026-11-25', '09:00'), 1).map(local)).toEqual(['2026-12-25T09:00']);
  });

  test('ranges, steps, lists and Sunday as 7', () => {
    expect(parseCron('*/15 8-10/2 * * 7')).toMatchObject({ minutes: [0, 15, 30, 45], hours: [8, 10], weekdays: [0] });
    expect(parseCron('0 9 1,15 * *').days).toEqual([1, 15]);
    expect(parseCron('5/20 * * * 1-5').minutes).toEqual([5, 25, 45]);
    expect(cronTimes('0 9 * * 1-5', 'Asia/Shanghai', atLocal('2026-11-27', '10:00'), 2).map(local)).toEqual(['2026-11-30T09:00', '2026-12-01T09:00']);
  });

  test('a day that never comes gives no runs rather than a loop', () => {
    expect(cronTimes('0 9 31 2 *', 'Asia/Shanghai', atLocal('2026-01-01', '00:00'), 3)).toEqual([]);
  });

  test.each([
    ['every friday', /has 2 field\(s\); write a 5-field cron/],
    ['0 9 * *', /has 4 field\(s\)/],
    ['60 9 * * *', /minute 60 is out of range; use 0 to 59/],
    ['0 24 * * *', /hour 24 is out of range; use 0 to 23/],
    ['0 9 0 * *', /day-of-month 0 is out of range; use 1 to 31/],
    ['0 9 * 13 *', /month 13 is out of range/],
    ['0 9 * * 8', /day-of-week 8 is out of range; use 0 to 7/],
    ['0 9 10-5 * *', /range "10-5" runs backwards/],
    ['0 9 * * MON', /day-of-week "MON" is not a cron field/],
    ['0 9 25 * 5', /restricts both the day of the month \(25\) and the day of the week \(5\); restrict one/],
  ])('"%s" is refused with what is valid', (cron, message) => {
    expect(cronProblem(cron)).toMatch(message);
  });
});

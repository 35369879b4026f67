import { calendarWarnings } from '../../services/calendar-check';
import { atLocal } from '../../engine/time';
import { calendar } from '../support/definitions';

const cal = calendar();

describe('start-up warns before the working-day calendar runs out', () => {
  test('before October nothing is said about next year', () => {
    expect(calendarWarnings(cal, atLocal('2026-09-30', '12:00'))).toEqual([]);
  });

  test('from October on, a missing next year is named with how to add it', () => {
    const [warning, ...rest] = calendarWarnings(cal, atLocal('2026-10-01', '00:00'));
    expect(rest).toEqual([]);
    expect(warning).toMatch(/^the working-day calendar definitions\/calendars\/cn-statutory\.json has no 2027: from 2027-01-01 holidays and make-up working days/);
    expect(warning).toContain('add years.2027 (holidays, workdays, source)');
  });

  test('once next year is added, the warning stops', () => {
    const withNext = { ...cal, years: { ...cal.years, '2027': { holidays: [], workdays: [], source: 'test' } } };
    expect(calendarWarnings(withNext, atLocal('2026-11-29', '12:00'))).toEqual([]);
  });

  test('a year that has begun without its data is named as this year', () => {
    const warnings = calendarWarnings(cal, atLocal('2027-03-01', '12:00'));
    expect(warnings).toEqual([expect.stringMatching(/has no 2027: this year holidays/)]);
  });
});

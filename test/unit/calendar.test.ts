import shipped from '../../definitions/calendars/cn-statutory.json';
import {
  addWorkingDays,
  addWorkingDaysAt,
  checkCalendar,
  coveredYears,
  isWorkingDay,
  parseWorkingDays,
  workCalendar,
  workingDaysBetween,
  type WorkCalendar,
} from '../../engine/calendar';
import { addDays, atLocal, formatLocal, TimeFormatError } from '../../engine/time';

const checked = checkCalendar(shipped);
const cal = checked.calendar as WorkCalendar;

const weekday = (d: string) => ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][new Date(`${d}T00:00:00Z`).getUTCDay()];
const daysFrom = (first: string, last: string) => {
  const out: string[] = [];
  for (let d = first; d <= last; d = addDays(d, 1)) out.push(d);
  return out;
};

describe('the shipped statutory calendar', () => {
  test('passes checkCalendar and covers 2025 and 2026', () => {
    expect(checked.errors).toEqual([]);
    expect(coveredYears(cal)).toEqual(['2025', '2026']);
  });

  // The blocks and make-up days as the State Council notices announce them.
  test.each([
    ['2025-01-01', '2025-01-01', []],
    ['2025-01-28', '2025-02-04', ['2025-01-26', '2025-02-08']],
    ['2025-04-04', '2025-04-06', []],
    ['2025-05-01', '2025-05-05', ['2025-04-27']],
    ['2025-05-31', '2025-06-02', []],
    ['2025-10-01', '2025-10-08', ['2025-09-28', '2025-10-11']],
    ['2026-01-01', '2026-01-03', ['2026-01-04']],
    ['2026-02-15', '2026-02-23', ['2026-02-14', '2026-02-28']],
    ['2026-04-04', '2026-04-06', []],
    ['2026-05-01', '2026-05-05', ['2026-05-09']],
    ['2026-06-19', '2026-06-21', []],
    ['2026-09-25', '2026-09-27', []],
    ['2026-10-01', '2026-10-07', ['2026-09-20', '2026-10-10']],
  ])('%s to %s is a block of days off between working days, with make-up days %j', (first, last, makeUp) => {
    for (const d of daysFrom(first, last)) expect([d, isWorkingDay(d, cal)]).toEqual([d, false]);
    expect(isWorkingDay(addDays(first, -1), cal)).toBe(true);
    expect(isWorkingDay(addDays(last, 1), cal)).toBe(true);
    for (const d of makeUp) {
      expect([d, weekday(d)]).toEqual([d, expect.stringMatching(/^(Sat|Sun)$/)]);
      expect(isWorkingDay(d, cal)).toBe(true);
    }
  });

  test.each(['2025', '2026'])('%s has 248 working days, the statutory 365 - 104 weekend days - 13 holidays', (year) => {
    expect(workingDaysBetween(`${Number(year) - 1}-12-31`, `${year}-12-31`, cal)).toBe(248);
  });
});

describe('working days', () => {
  test.each(['2026-02-14', '2026-02-28', '2026-10-10'])('the make-up Saturday %s is a working day', (d) => {
    expect(weekday(d)).toBe('Sat');
    expect(isWorkingDay(d, cal)).toBe(true);
  });

  test('the make-up Sunday 2026-01-04 is a working day', () => {
    expect(weekday('2026-01-04')).toBe('Sun');
    expect(isWorkingDay('2026-01-04', cal)).toBe(true);
  });

  test('no day of Spring Festival 2026 (Feb 15-23) is a working day, weekdays included', () => {
    expect(daysFrom('2026-02-15', '2026-02-23').filter((d) => isWorkingDay(d, cal))).toEqual([]);
    expect(weekday('2026-02-16')).toBe('Mon');
  });

  test('an ordinary Saturday and Sunday are not working days, an ordinary Wednesday is', () => {
    expect(isWorkingDay('2026-11-28', cal)).toBe(false);
    expect(isWorkingDay('2026-11-29', cal)).toBe(false);
    expect(isWorkingDay('2026-11-25', cal)).toBe(true);
  });

  test('a year the calendar does not cover falls back to Monday to Friday', () => {
    expect(coveredYears(cal)).not.toContain('2027');
    expect(isWorkingDay('2027-01-01', cal)).toBe(true); // a Friday; New Year 2027 is not known yet
    expect(isWorkingDay('2027-01-02', cal)).toBe(false);
    expect(addWorkingDays('2027-01-01', 1, cal)).toBe('2027-01-04');
  });

  test('a date that is not YYYY-MM-DD is refused with what would be valid', () => {
    expect(() => isWorkingDay('2026-02-30', cal)).toThrow(TimeFormatError);
    expect(() => addWorkingDays('2026/02/13', 1, cal)).toThrow(/is not a date; use "YYYY-MM-DD"/);
  });
});

describe('adding working days to a date', () => {
  test('Friday 2026-02-13 + 1 working day is the make-up Saturday 2026-02-14', () => {
    expect(addWorkingDays('2026-02-13', 1, cal)).toBe('2026-02-14');
  });

  test('the make-up Saturday 2026-02-14 + 1 skips the Spring Festival block to Tuesday 2026-02-24', () => {
    expect(weekday('2026-02-24')).toBe('Tue');
    expect(isWorkingDay('2026-02-24', cal)).toBe(true);
    expect(addWorkingDays('2026-02-14', 1, cal)).toBe('2026-02-24');
  });

  test('National Day: 2026-09-30 + 1 is 2026-10-08, and 2026-10-09 + 1 is the make-up Saturday 2026-10-10', () => {
    expect(addWorkingDays('2026-09-30', 1, cal)).toBe('2026-10-08');
    expect(addWorkingDays('2026-10-09', 1, cal)).toBe('2026-10-10');
    expect(addWorkingDays('2026-10-10', 1, cal)).toBe('2026-10-12');
  });

  test('an ordinary Friday + 1 is the Monday; + 3 is the Wednesday', () => {
    expect(addWorkingDays('2026-11-27', 1, cal)).toBe('2026-11-30');
    expect(addWorkingDays('2026-11-27', 3, cal)).toBe('2026-12-02');
  });

  test('a holiday + 1 is the first working day after the block', () => {
    expect(addWorkingDays('2026-10-03', 1, cal)).toBe('2026-10-08');
  });

  test('+ 0 keeps a working day and moves a day off to the next working day', () => {
    expect(addWorkingDays('2026-10-10', 0, cal)).toBe('2026-10-10');
    expect(addWorkingDays('2026-10-01', 0, cal)).toBe('2026-10-08');
    expect(addWorkingDays('2026-11-28', 0, cal)).toBe('2026-11-30');
  });

  test('a working-day count that is negative or fractional is refused', () => {
    expect(() => addWorkingDays('2026-10-09', -1, cal)).toThrow(/use a whole number, 0 or more/);
    expect(() => addWorkingDays('2026-10-09', 1.5, cal)).toThrow(RangeError);
  });

  test('crossing into a year the calendar does not cover continues Monday to Friday', () => {
    expect(addWorkingDays('2026-12-31', 1, cal)).toBe('2027-01-01');
  });
});

describe('adding working days to an instant in Shanghai', () => {
  const shanghai = (ms: number) => formatLocal(ms, 'Asia/Shanghai').slice(0, 16);

  test('Friday 10:00 + 1 working day is Monday 10:00', () => {
    expect(shanghai(addWorkingDaysAt(atLocal('2026-11-27', '10:00'), 1, 'Asia/Shanghai', cal))).toBe('2026-11-30T10:00');
  });

  test('Saturday 15:00 + 1 working day is Monday 15:00', () => {
    expect(shanghai(addWorkingDaysAt(atLocal('2026-11-28', '15:00'), 1, 'Asia/Shanghai', cal))).toBe('2026-11-30T15:00');
  });

  test('across Spring Festival the clock time is kept and the make-up Saturday counts', () => {
    const fri = atLocal('2026-02-13', '10:00');
    expect(shanghai(addWorkingDaysAt(fri, 1, 'Asia/Shanghai', cal))).toBe('2026-02-14T10:00');
    expect(shanghai(addWorkingDaysAt(fri, 2, 'Asia/Shanghai', cal))).toBe('2026-02-24T10:00');
  });

  test('across National Day the clock time to the second is kept', () => {
    const ms = atLocal('2026-09-30', '17:45') + 30_500;
    expect(formatLocal(addWorkingDaysAt(ms, 1, 'Asia/Shanghai', cal))).toBe('2026-10-08T17:45:30.500+08:00');
  });

  test('the local date is the Shanghai date, not the UTC date', () => {
    // 2026-02-13 16:30 UTC is 00:30 on the make-up Saturday in Shanghai.
    const ms = Date.parse('2026-02-13T16:30:00Z');
    expect(shanghai(addWorkingDaysAt(ms, 1, 'Asia/Shanghai', cal))).toBe('2026-02-24T00:30');
    expect(formatLocal(addWorkingDaysAt(ms, 1, 'UTC', cal), 'UTC')).toBe('2026-02-14T16:30:00.000Z');
  });

  test('+ 0 keeps an instant on a working day and moves one on a holiday to the next working day', () => {
    const wed = atLocal('2026-11-25', '09:00');
    expect(addWorkingDaysAt(wed, 0, 'Asia/Shanghai', cal)).toBe(wed);
    expect(shanghai(addWorkingDaysAt(atLocal('2026-10-03', '11:00'), 0, 'Asia/Shanghai', cal))).toBe('2026-10-08T11:00');
  });

  test('an unknown zone is refused with the known ones', () => {
    expect(() => addWorkingDaysAt(0, 1, 'Europe/Berlin', cal)).toThrow(/unknown time zone "Europe\/Berlin"; known: Asia\/Shanghai, UTC/);
  });
});

describe('counting working days between dates', () => {
  test('due the day before National Day and still open on the make-up Saturday is 3 working days overdue', () => {
    expect(workingDaysBetween('2026-09-30', '2026-10-10', cal)).toBe(3); // Oct 8, 9, 10
  });

  test('across Spring Festival only the days around the block count', () => {
    expect(workingDaysBetween('2026-02-13', '2026-02-25', cal)).toBe(3); // Feb 14, 24, 25
  });

  test('an ordinary Wednesday to the next Monday is 3 working days', () => {
    expect(workingDaysBetween('2026-11-25', '2026-11-30', cal)).toBe(3);
  });

  test('the same day or an earlier day counts 0', () => {
    expect(workingDaysBetween('2026-10-08', '2026-10-08', cal)).toBe(0);
    expect(workingDaysBetween('2026-10-09', '2026-10-08', cal)).toBe(0);
  });

  test('counting back what was added gives n for every day of 2026 and n up to 5', () => {
    for (const d of daysFrom('2026-01-01', '2026-12-31')) {
      for (let n = 1; n <= 5; n++) expect([d, n, workingDaysBetween(d, addWorkingDays(d, n, cal), cal)]).toEqual([d, n, n]);
    }
  });
});

describe('working-day durations', () => {
  test.each([
    ['3wd', 3],
    ['1wd', 1],
    ['0wd', 0],
    ['15wd', 15],
  ])('"%s" is %d working days', (text, n) => {
    expect(parseWorkingDays(text)).toBe(n);
  });

  test.each(['3d', '1.5wd', '-1wd', 'wd', '3 wd', '3WD', ' 3wd', '03wd', 'P3D', ''])('"%s" is not a working-day duration', (text) => {
    expect(parseWorkingDays(text)).toBeUndefined();
  });
});

describe('malformed calendars are refused with the path of the mistake', () => {
  const valid = () => ({
    name: 'test',
    zone: 'Asia/Shanghai',
    years: { '2026': { holidays: ['2026-10-01', '2026-10-02'], workdays: ['2026-09-20', '2026-10-10'], source: 'notice' } },
  });
  type Draft = ReturnType<typeof valid> & Record<string, unknown>;
  const year = (c: Draft) => c.years['2026'] as Record<string, unknown> & { holidays: string[]; workdays: string[] };

  test('the small valid base passes, so each case below fails for its own reason', () => {
    expect(checkCalendar(valid())).toEqual({ calendar: valid(), errors: [] });
  });

  test.each<[string, (c: Draft) => void, string, RegExp]>([
    ['a date that does not exist', (c) => (year(c).holidays[1] = '2026-02-30'), 'years.2026.holidays.1', /"2026-02-30" is not a real date; write YYYY-MM-DD/],
    ['a date in another format', (c) => (year(c).holidays[0] = '2026/10/01'), 'years.2026.holidays.0', /is not a real date; write YYYY-MM-DD/],
    ['a date outside its year', (c) => (year(c).workdays[1] = '2027-01-09'), 'years.2026.workdays.1', /"2027-01-09" is not in 2026; move it under years\.2027/],
    ['a day both a holiday and a workday', (c) => year(c).workdays.push('2026-10-02'), 'years.2026.workdays.2', /both a holiday \(holidays\.1\) and a make-up workday; keep it in one list/],
    ['a day listed twice', (c) => year(c).holidays.push('2026-10-01'), 'years.2026.holidays.2', /listed twice \(also at holidays\.0\); remove one/],
    ['a make-up workday on a weekday', (c) => (year(c).workdays[1] = '2026-10-09'), 'years.2026.workdays.1', /is a Friday, a working day anyway; make-up workdays .* Saturday or Sunday/],
    ['an unknown key in a year', (c) => (year(c).holiday = ['2026-10-03']), 'years.2026.holiday', /unknown key "holiday"; allowed: holidays, workdays, source/],
    ['an unknown top-level key', (c) => (c.timezone = 'Asia/Shanghai'), 'timezone', /unknown key "timezone"; allowed: name, zone, description, years/],
    ['a year key that is not four digits', (c) => (c.years = { '26': year(c) } as never), 'years.26', /year "26" is not valid; a year key is four digits/],
    ['an unknown zone', (c) => (c.zone = 'Asia/Beijing'), 'zone', /unknown time zone "Asia\/Beijing"; known: Asia\/Shanghai, UTC/],
    ['a zone named after an object property', (c) => (c.zone = 'constructor'), 'zone', /unknown time zone "constructor"/],
    ['a year without its source', (c) => delete year(c).source, 'years.2026.source', /expected a string, got nothing/],
    ['holidays that are not a list', (c) => (year(c).holidays = '2026-10-01' as never), 'years.2026.holidays', /expected a list of dates, got string/],
  ])('%s', (_, breakIt, path, message) => {
    const draft = valid() as Draft;
    breakIt(draft);
    const { calendar, errors } = checkCalendar(draft);
    expect(calendar).toBeUndefined();
    expect(errors).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  test('something that is not an object is refused at the root', () => {
    expect(checkCalendar(null).errors).toEqual([{ path: '$', message: 'expected a calendar: an object with name, zone and years' }]);
  });

  test('every bad date of a calendar is reported, not only the first', () => {
    const draft = valid();
    draft.years['2026'].holidays = ['2026-13-01', '2025-10-01'];
    expect(checkCalendar(draft).errors.map((e) => e.path)).toEqual(['years.2026.holidays.0', 'years.2026.holidays.1']);
  });

  test('the zod schema itself refuses what checkCalendar refuses', () => {
    const draft = valid();
    draft.years['2026'].workdays.push('2026-10-01');
    expect(workCalendar.safeParse(draft).success).toBe(false);
  });
});

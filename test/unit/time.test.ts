import { addDays, atLocal, formatLocal, isDate, localDate, parseClock, parseDuration } from '../../engine/time';

describe('durations', () => {
  test.each([
    ['90s', 90_000],
    ['30m', 1_800_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['250ms', 250],
    ['PT2H', 7_200_000],
    ['P1DT12H', 129_600_000],
    ['PT0.5S', 500],
  ])('"%s" is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', '2', 'h', '2 h', 'P', 'PT', 'P1M', '-1h', 'two hours'])('"%s" is refused with what would be valid', (text) => {
    expect(() => parseDuration(text)).toThrow(/is not a duration; use e\.g\./);
  });
});

describe('wall-clock times in Asia/Shanghai', () => {
  test('18:00 on 2026-11-25 in Shanghai is 10:00 UTC', () => {
    expect(new Date(atLocal('2026-11-25', '18:00')).toISOString()).toBe('2026-11-25T10:00:00.000Z');
  });

  test('a time after 16:00 UTC falls on the next Shanghai date', () => {
    expect(localDate(Date.parse('2026-11-25T16:30:00Z'))).toBe('2026-11-26');
    expect(localDate(Date.parse('2026-11-25T15:59:59Z'))).toBe('2026-11-25');
  });

  test('times print with the +08:00 offset', () => {
    expect(formatLocal(Date.parse('2026-11-25T10:00:00Z'))).toBe('2026-11-25T18:00:00.000+08:00');
    expect(formatLocal(Date.parse('2026-11-25T10:00:00Z'), 'UTC')).toBe('2026-11-25T10:00:00.000Z');
  });

  test('adding days crosses month and year ends', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
  });

  test('clock and date syntax are checked', () => {
    expect(parseClock('23:59')).toBe(1439);
    expect(() => parseClock('24:00')).toThrow(/24-hour "HH:mm"/);
    expect(isDate('2026-02-29')).toBe(false);
    expect(isDate('2028-02-29')).toBe(true);
    expect(() => atLocal('2026-13-01', '08:00')).toThrow(/not a date/);
  });

  test('an unknown zone is refused naming the known ones', () => {
    expect(() => localDate(0, 'Mars/Olympus')).toThrow('unknown time zone "Mars/Olympus"; known: Asia/Shanghai, UTC');
  });
});

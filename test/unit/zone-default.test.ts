import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_ZONE, formatLocal, ZONE_OFFSETS } from '../../engine/time';

/**
 * A time zone is the definition's (`timezone`, compiled to `def.zone`) or the one default,
 * engine/time.ts's DEFAULT_ZONE. Services, routes, activities, workflows and scripts neither name
 * a zone nor compute with its offset; the engine's table of offsets is the only place that does.
 */
const ROOT = path.resolve(__dirname, '../..');
const LAYERS = ['services', 'api', 'activities', 'workflows', 'scripts', 'worker', 'config'];
const ZONE_LITERAL = new RegExp(`['"\`](${Object.keys(ZONE_OFFSETS).filter((z) => z.includes('/')).join('|')})['"\`]`);
// Arithmetic with the offset (ms or s of eight hours) and midnight written with a fixed offset.
const OFFSET_ARITHMETIC = /\b8 \* (3_?600_?000|3_?600|60 \* 60)\b|T00:00:00[+-]\d\d:\d\d`/;

function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return files(full);
    return /\.(ts|tsx)$/.test(e.name) ? [full] : [];
  });
}

function zoneLiterals(file: string, text: string): string[] {
  return text.split('\n').flatMap((line, i) => {
    const code = line.replace(/\/\/.*$/, '');
    return ZONE_LITERAL.test(code) || OFFSET_ARITHMETIC.test(code) ? [`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`] : [];
  });
}

test('the patterns find a zone written as a literal, its offset in arithmetic, and a midnight with a fixed offset', () => {
  expect(zoneLiterals('x.ts', "const ZONE = 'Asia/Shanghai';")).toHaveLength(1);
  expect(zoneLiterals('x.ts', 'const m = (at + 8 * 3_600_000) % 86_400_000;')).toHaveLength(1);
  expect(zoneLiterals('x.ts', 'const from = `${month}-01T00:00:00+08:00`;')).toHaveLength(1);
  expect(zoneLiterals('x.ts', 'const iso = formatLocal(ms, DEFAULT_ZONE);')).toEqual([]);
});

test('no service, route, activity, workflow or script names a time zone: each uses the definition\'s or DEFAULT_ZONE', () => {
  const found = LAYERS.flatMap((layer) => files(path.join(ROOT, layer))).flatMap((f) => zoneLiterals(f, fs.readFileSync(f, 'utf8')));
  expect(found).toEqual([]);
});

test('the default zone is the community\'s, Asia/Shanghai (UTC+8, no daylight saving time)', () => {
  expect(DEFAULT_ZONE).toBe('Asia/Shanghai');
  expect(formatLocal(Date.parse('2026-11-25T16:00:00Z'))).toBe('2026-11-26T00:00:00.000+08:00');
});

import fs from 'node:fs';
import path from 'node:path';
import { validateText } from '../../engine/validate';

const dir = path.join(__dirname, '..', '..', 'definitions');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.definition.yaml'));

test('the four processes of the brief are built in', () => {
  expect(files.sort()).toEqual(['daily-patrol.definition.yaml', 'issue.definition.yaml', 'monthly-review.definition.yaml', 'weekly-report.definition.yaml']);
});

test.each(files)('%s validates without errors', (file) => {
  const result = validateText(fs.readFileSync(path.join(dir, file), 'utf8'));
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
});

test('the built-ins validate without warnings (the issue awaiting evaluation has its call-back task)', () => {
  const warnings = files.flatMap((f) => validateText(fs.readFileSync(path.join(dir, f), 'utf8')).warnings.map((w) => `${f}: ${w.path}`));
  expect(warnings).toEqual([]);
});

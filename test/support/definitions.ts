import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { checkCalendar, type WorkCalendar } from '../../engine/calendar';
import { compileDefinition, type CompiledDefinition } from '../../engine/compile';
import { definitionDocument } from '../../engine/document.schema';

/** Compiles a built-in definition file straight from definitions/, without the database. */
export function builtIn(key: string): CompiledDefinition {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', 'definitions', `${key}.definition.yaml`), 'utf8');
  return compileDefinition(definitionDocument.parse(parse(text)), calendar());
}

/** The shipped statutory calendar. */
export function calendar(): WorkCalendar {
  const file = path.join(__dirname, '..', '..', 'definitions', 'calendars', 'cn-statutory.json');
  const checked = checkCalendar(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!checked.calendar) throw new Error(JSON.stringify(checked.errors));
  return checked.calendar;
}

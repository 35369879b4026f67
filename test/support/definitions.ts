import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { compileDefinition, type CompiledDefinition } from '../../definitions/compile';
import { definitionDocument } from '../../definitions/document.schema';

/** Compiles a built-in definition file straight from definitions/, without the database. */
export function builtIn(key: string): CompiledDefinition {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', 'definitions', `${key}.definition.yaml`), 'utf8');
  return compileDefinition(definitionDocument.parse(parse(text)));
}

import fs from 'node:fs';
import { parse } from 'yaml';
import { compileDefinition } from '../engine/compile';
import { applyEvent, startInstance, type Instance } from '../engine/engine';
import { DefinitionService } from '../services/definitions.service';
import { FIVE_EVENTS, ISSUE_INPUT, actorOf, memberOf } from './lib/paths';

const doc = parse(fs.readFileSync('definitions/issue.definition.yaml', 'utf8'));
const def = compileDefinition(doc, DefinitionService.readCalendar());
const N = Number(process.env.N ?? 3000);
const t0 = process.hrtime.bigint();
for (let p = 0; p < N; p++) {
  const at0 = Date.parse('2026-11-25T09:00:00+08:00');
  let inst: Instance = startInstance(def, { input: ISSUE_INPUT, grid: 'grid-03', businessKey: `issue/2026-${p}`, at: at0 }).instance;
  FIVE_EVENTS.forEach((ev, k) => {
    inst = applyEvent(def, inst, { type: ev.type, data: ev.data, at: at0 + (k + 1) * 60_000, actor: memberOf(ev.who, 'grid-03'), by: actorOf(ev.who, 'grid-03') }).instance;
  });
}
console.log('us per event', Number(process.hrtime.bigint() - t0) / 1000 / (N * 5));

import { compileDefinition } from '../compile';
import type { CheckContext } from './context';

/**
 * XState itself, as a last line of defence: the document compiles to a machine and every
 * compound state's initial resolves. Runs only on a document nothing else found wrong with.
 */
export function checkWithXState(ctx: CheckContext): void {
  if (ctx.errors.length) return;
  const at = (id: string | undefined) => ctx.ids.get(id ?? '')?.docPath;
  try {
    const compiled = compileDefinition(ctx.doc);
    for (const [id, xnode] of compiled.nodes) {
      try {
        void xnode.initial;
      } catch (e) {
        ctx.error(`${at(id) ?? 'machine'}.initial`, `XState refuses the initial state: ${(e as Error).message}`);
      }
    }
  } catch (e) {
    const message = (e as Error).message;
    const id = /state node '([^']+)'/.exec(message)?.[1];
    ctx.error(at(id) ?? 'machine', `XState refuses the machine: ${message.replace(/\n/g, ' ')}`);
  }
}

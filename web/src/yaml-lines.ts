import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';

export interface ParsedDraft {
  /** The document as JSON, when the YAML parses. */
  value?: unknown;
  /** YAML syntax errors, with their lines. */
  syntax: { line: number; message: string }[];
  /** The line (1-based) of a dotted path such as `machine.states.open.on.DUE`, best effort. */
  lineOf(path: string): number | undefined;
}

/** Parses the editor's YAML and keeps what is needed to point an API error at its line. */
export function parseDraft(text: string): ParsedDraft {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors.map((e) => ({ line: e.linePos?.[0]?.line ?? counter.linePos(e.pos[0]).line, message: e.message.split('\n')[0] }));
  const lineAt = (offset: number | undefined) => (offset === undefined ? undefined : counter.linePos(offset).line);

  const lineOf = (path: string): number | undefined => {
    const segments = path.replace(/^document\./, '').split('.').filter((s) => s && s !== '$');
    let node: unknown = doc.contents;
    let line = lineAt((doc.contents as Node | null)?.range?.[0]);
    for (const seg of segments) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg);
        if (!pair) break;
        line = lineAt((pair.key as Node).range?.[0]) ?? line;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)] as Node | undefined;
        if (!item) break;
        line = lineAt(item.range?.[0]) ?? line;
        node = item;
      } else break;
    }
    return line;
  };

  return { value: syntax.length ? undefined : doc.toJS({ maxAliasCount: 100 }), syntax, lineOf };
}

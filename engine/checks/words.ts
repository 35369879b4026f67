/** Shared wording of the validator's messages: lists, alternatives and near-miss suggestions. */

export const list = (items: Iterable<string>) => [...items].join(', ') || 'none';
export const either = (items: string[]) => (items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}` : items[0] ?? 'a value');

/** Edit distance counting a swap of two neighbours as one edit ("titel" is one from "title"). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** ` (did you mean "notify"?)` when one option is a near miss of `word`. */
export function suggest(word: string, options: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3));
  for (const option of options) {
    const d = distance(word.toLowerCase(), option.toLowerCase());
    if (d <= bestDistance) {
      best = option;
      bestDistance = d;
    }
  }
  return best !== undefined && best !== word ? ` (did you mean "${best}"?)` : '';
}

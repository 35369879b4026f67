/** The longest side a photo keeps on the device before it is queued: enough to read a sign or a meter. */
export const PHOTO_LONGEST_SIDE = 1600;

/** The size a `width` x `height` picture is drawn at so its longest side is at most `max` (never enlarged). */
export function fitWithin(width: number, height: number, max = PHOTO_LONGEST_SIDE): { width: number; height: number } {
  const longest = Math.max(width, height);
  if (longest <= max || longest === 0) return { width, height };
  const scale = max / longest;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

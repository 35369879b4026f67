/**
 * Photos from the phone's camera, made small on the phone: a 12-megapixel picture is 3 to 6 MB,
 * too much to keep in a queue for a day of garages or to send over a weak signal. Each is drawn on a
 * canvas with its longest side at most 1600 px and saved as JPEG (a few hundred KB).
 */
import { PHOTO_LONGEST_SIDE, fitWithin } from './fit';
import type { QueuedPhoto } from './queue';

const QUALITY = 0.82;

/** Decodes a picked file; EXIF rotation applied, so a photo taken upright stays upright. */
async function decode(file: File): Promise<{ source: CanvasImageSource; width: number; height: number; close: () => void }> {
  if (typeof createImageBitmap === 'function') {
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
      return { source: bitmap, width: bitmap.width, height: bitmap.height, close: () => bitmap.close() };
    } catch {
      // Fall through to an <img>, which some browsers decode more formats with.
    }
  }
  // A data: URL, which the console's Content Security Policy allows for images (blob: it does not).
  const url = await new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
  const img = new Image();
  img.src = url;
  await img.decode();
  return { source: img, width: img.naturalWidth, height: img.naturalHeight, close: () => undefined };
}

/** One picked photo, resized and re-encoded as JPEG, ready to queue. */
export async function resizePhoto(file: File, longest = PHOTO_LONGEST_SIDE): Promise<QueuedPhoto<Blob>> {
  let picture;
  try {
    picture = await decode(file);
  } catch {
    throw new Error(`${file.name}: this file cannot be read as a picture (${file.type || 'unknown type'}); take the photo again or choose a JPEG or PNG`);
  }
  try {
    const { width, height } = fitWithin(picture.width, picture.height, longest);
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser gives no canvas to resize photos with');
    // JPEG has no transparency: a PNG's clear parts become white, not black.
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(picture.source, 0, 0, width, height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', QUALITY));
    if (!blob) throw new Error(`${file.name}: the resized photo could not be encoded`);
    // A thumbnail small enough to keep after the photo itself has gone to the server.
    const t = fitWithin(width, height, 96);
    const small = document.createElement('canvas');
    small.width = t.width;
    small.height = t.height;
    small.getContext('2d')?.drawImage(canvas, 0, 0, t.width, t.height);
    const base = file.name.replace(/\.[^.]*$/, '') || 'photo';
    return { name: `${base}.jpg`, type: 'image/jpeg', size: blob.size, width, height, blob, thumb: small.toDataURL('image/jpeg', 0.7) };
  } finally {
    picture.close();
  }
}

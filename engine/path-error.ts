/** A problem at one place of a value: `path` is dotted (`items.0.name`), `$` for the value itself. */
export interface PathError {
  path: string;
  message: string;
}

import fs from 'node:fs';
import path from 'node:path';

/**
 * A generated table in the README, between `<!-- name:start -->` and `<!-- name:end -->`: read it
 * (for the test that fails when it is stale) or write it (for `npm run docs:*`).
 */
export class ReadmeSection {
  private readonly start: string;
  private readonly end: string;

  constructor(
    name: string,
    private readonly file = path.join(__dirname, '..', 'README.md'),
  ) {
    this.start = `<!-- ${name}:start -->`;
    this.end = `<!-- ${name}:end -->`;
  }

  /** The section's text as the README has it, or undefined when the markers are missing. */
  read(readme = fs.readFileSync(this.file, 'utf8')): string | undefined {
    const a = readme.indexOf(this.start);
    const b = readme.indexOf(this.end);
    return a < 0 || b < a ? undefined : readme.slice(a + this.start.length, b).trim();
  }

  /** Replaces the section's text with `body`. */
  write(body: string): void {
    const readme = fs.readFileSync(this.file, 'utf8');
    if (this.read(readme) === undefined) throw new Error(`README.md has no ${this.start} ... ${this.end} section`);
    const a = readme.indexOf(this.start) + this.start.length;
    fs.writeFileSync(this.file, `${readme.slice(0, a)}\n${body}\n${readme.slice(readme.indexOf(this.end))}`);
  }
}

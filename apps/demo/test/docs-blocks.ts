/**
 * Reads the code blocks, install lines and links out of the Markdown pages that the docs test
 * (`docs.test.ts`) checks. The conventions the pages follow, and this module honours:
 *
 * - Every ```ts (or ```typescript) block is a module of its own: it is type-checked and run
 *   as written.
 * - `<!-- fragment -->` just before a block (blank lines between are fine) marks a fragment:
 *   type-checked, not run. Code inside the comment after the word `fragment` is a preamble the
 *   check puts before the block (imports and `declare` lines the fragment needs), invisible
 *   on GitHub and npm:
 *
 *       <!-- fragment
 *       import { from } from '@proto/query';
 *       declare const items: readonly { id: string }[];
 *       -->
 *
 * - A block whose first line is a path comment (`// src/index.ts`) is that file of the page's
 *   project: other blocks of the same page can import it (`../src/index.js`), and a
 *   `*.test.ts` file runs with vitest instead of node.
 * - Install lines are ```sh lines with `npm install`, `npm i`, `pnpm add` or `yarn add`.
 */

export interface CodeBlock {
  /** The page, relative to the repository root (`packages/atom/README.md`). */
  readonly page: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly language: string;
  readonly code: string;
  /** Marked `<!-- fragment -->`: type-checked only. */
  readonly fragment: boolean;
  /** Code from the fragment marker, put before the block when type-checking. */
  readonly preamble: string;
  /** 1-based line of the page where the preamble starts (the line after `<!-- fragment`). */
  readonly preambleLine: number;
  /** The file a first-line path comment names (`src/index.ts`), if any. */
  readonly path: string | undefined;
}

export interface MarkdownPage {
  readonly page: string;
  readonly blocks: readonly CodeBlock[];
  /** `<!-- fragment` markers that no TypeScript block follows, by line. */
  readonly strayMarkers: readonly number[];
}

const TYPESCRIPT = new Set(['ts', 'typescript']);
const SHELL = new Set(['sh', 'bash', 'shell', 'console']);
const PATH_COMMENT = /^\/\/ ((?:[\w.-]+\/)*[\w.-]+\.(?:ts|mts))\s*$/;

export function isTypeScript(block: CodeBlock): boolean {
  return TYPESCRIPT.has(block.language);
}

/** Splits a page into its fenced blocks and attaches fragment markers to the block they precede. */
export function parseMarkdown(page: string, markdown: string): MarkdownPage {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  const markerLines: number[] = [];
  const usedMarkers = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    if (/^<!--\s*fragment\b/.test(text.trim())) markerLines.push(i + 1);
    // A fence may be indented (inside a list item); its lines lose that indentation.
    const open = /^( *)(`{3,})\s*([\w-]*)/.exec(text);
    if (open === null) continue;
    const indent = (open[1] as string).length;
    const fence = open[2] as string;
    const language = (open[3] as string).toLowerCase();
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] as string).trimStart().startsWith(fence); i++) {
      body.push((lines[i] as string).replace(new RegExp(`^ {0,${indent}}`), ''));
    }
    const marker = markerBefore(lines, start);
    if (marker !== undefined && TYPESCRIPT.has(language)) usedMarkers.add(marker.line);
    const firstLine = PATH_COMMENT.exec(body[0] ?? '');
    blocks.push({
      page,
      line: start + 1,
      language,
      code: body.join('\n'),
      fragment: marker !== undefined,
      preamble: marker?.preamble ?? '',
      preambleLine: (marker?.line ?? 0) + 1,
      path: firstLine?.[1],
    });
  }
  return { page, blocks, strayMarkers: markerLines.filter((line) => !usedMarkers.has(line)) };
}

/** The `<!-- fragment ... -->` comment that ends just before line `fence` (0-based), if any. */
function markerBefore(
  lines: readonly string[],
  fence: number,
): { line: number; preamble: string } | undefined {
  let end = fence - 1;
  while (end >= 0 && (lines[end] as string).trim() === '') end--;
  if (end < 0 || !(lines[end] as string).trim().endsWith('-->')) return undefined;
  let start = end;
  while (start >= 0 && !(lines[start] as string).includes('<!--')) start--;
  if (start < 0) return undefined;
  const comment = lines.slice(start, end + 1).join('\n');
  const match = /^\s*<!--\s*fragment\b[^\n]*?(?:\n([\s\S]*?))?\s*-->\s*$/.exec(comment);
  if (match === null) return undefined;
  return { line: start + 1, preamble: match[1] ?? '' };
}

/** The packages a block imports (`@proto/atom` for `@proto/atom/storage`), without `node:` builtins. */
export function importedPackages(code: string): string[] {
  const names = new Set<string>();
  for (const match of code.matchAll(/(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/g)) {
    names.add(match[1] as string);
  }
  for (const match of code.matchAll(/(?:^|[\s;])import\s*['"]([^'"]+)['"]/g)) names.add(match[1] as string);
  return [...names]
    .filter((spec) => !spec.startsWith('.') && !spec.startsWith('/') && !spec.startsWith('node:'))
    .map(packageName);
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** The packages named by the install lines of a page's shell blocks. */
export function installedPackages(blocks: readonly CodeBlock[]): Set<string> {
  const names = new Set<string>();
  for (const block of blocks.filter((b) => SHELL.has(b.language))) {
    for (const line of block.code.split('\n')) {
      const command = /\b(?:npm (?:install|i|add)|pnpm (?:add|install)|yarn add)\s+([^#]*)/.exec(line);
      if (command === null) continue;
      for (const word of (command[1] as string).trim().split(/\s+/)) {
        if (word === '' || word.startsWith('-')) continue;
        // `pkg@1.2.3` and `@scope/pkg@^1` name `pkg` and `@scope/pkg`.
        names.add(word.replace(/(?<=.)@[^/]*$/, ''));
      }
    }
  }
  return names;
}

export interface MarkdownLink {
  readonly line: number;
  readonly target: string;
}

/** Link targets outside code: `[text](target)`, `[label]: target`, `href="..."` and `src="..."`. */
export function links(markdown: string): MarkdownLink[] {
  const found: MarkdownLink[] = [];
  let inFence = false;
  markdown.split('\n').forEach((text, index) => {
    const isFence = /^ *`{3,}/.test(text);
    if (isFence) inFence = !inFence;
    if (inFence || isFence) return;
    const prose = text.replace(/`[^`]*`/g, '');
    const patterns = [
      /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g,
      /^\s*\[[^\]]+\]:\s*(\S+)/g,
      /\b(?:href|src)="([^"]+)"/g,
    ];
    for (const pattern of patterns) {
      for (const match of prose.matchAll(pattern))
        found.push({ line: index + 1, target: match[1] as string });
    }
  });
  return found;
}

/**
 * The anchors GitHub gives a page's headings (`## Backup and migration` → `backup-and-migration`):
 * lower case, punctuation dropped, spaces to hyphens, a repeated slug numbered (`-1`, `-2`).
 * Explicit `id="..."` and `name="..."` anchors count too.
 */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const text of markdown.split('\n')) {
    if (/^ *`{3,}/.test(text)) inFence = !inFence;
    if (inFence) continue;
    for (const match of text.matchAll(/\b(?:id|name)="([^"]+)"/g)) anchors.add(match[1] as string);
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (heading === null) continue;
    const slug = (heading[1] as string)
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

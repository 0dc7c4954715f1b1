/**
 * Stack traces of the compiled build name src/ files and lines, through the maps beside
 * dist/'s files, as `--enable-source-maps` would, but with the maps read when a stack
 * is formatted rather than at start-up. With source maps on, Node reads and indexes the
 * map of every chunk as it loads it: ~15 ms of every replay's start-up (best of 30
 * alternating one-line replays, 139.7 -> 123.8 ms), for stacks that almost no run prints.
 *
 * Hand-written over `source-map-support`: Node's own SourceMap (node:module) does the
 * decoding; what is left is finding a frame's map and rewriting its location.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Maps by generated file path; null: the file has none (or it could not be read). */
const maps = new Map<string, SourceMap | null>();

function mapOf(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  return map;
}

/** The frame as V8 prints it, its location in the source when `dir` holds its file and its map. */
function mappedFrame(frame: NodeJS.CallSite, dir: string): string {
  const text = String(frame);
  // A module's frames name its URL; the CLI bundle's (a script, src/cli/launcher.ts) its path.
  const url = frame.getFileName();
  const line = frame.getLineNumber();
  const column = frame.getColumnNumber();
  if (!url || line === null || column === null) return text;
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  if (dirname(file) !== dir) return text;
  const entry = mapOf(file)?.findEntry(line - 1, column - 1);
  if (!entry || !('originalSource' in entry)) return text;
  const at = `${url}:${line}:${column}`;
  const where = text.lastIndexOf(at);
  if (where < 0) return text;
  const source = resolve(dirname(file), entry.originalSource);
  return `${text.slice(0, where)}${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}${text.slice(where + at.length)}`;
}

function heading(err: unknown): string {
  try {
    return Error.prototype.toString.call(err);
  } catch {
    return '<error>';
  }
}

/**
 * From now on, stacks name the sources of frames in the directory of `moduleUrl` (by
 * default this module's: dist/ in the compiled build). Does nothing when it is a source:
 * the tests run the sources through tsx, whose own maps already name them.
 */
export function mapStackTraces(moduleUrl: string = import.meta.url): void {
  if (moduleUrl.endsWith('.ts')) return;
  const dir = dirname(fileURLToPath(moduleUrl));
  Error.prepareStackTrace = (err, frames) => {
    let stack = heading(err);
    for (const frame of frames) {
      let text: string;
      try {
        text = mappedFrame(frame, dir);
      } catch {
        text = String(frame);
      }
      stack += `\n    at ${text}`;
    }
    return stack;
  };
}

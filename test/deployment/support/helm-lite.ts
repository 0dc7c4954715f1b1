/**
 * A stand-in for `helm template`, which cannot be installed where these tests run.
 *
 * It implements only the subset of Helm's template language that
 * install/chart/kovenant uses, and fails loudly on anything else, so that a
 * template the real Helm would render differently cannot pass silently:
 *
 *   {{ .Values.a.b }}  {{ .Release.Name }}  {{ .Release.Namespace }}
 *   {{ .Chart.Name }}  {{ .Chart.AppVersion }}  {{ "literal" }}
 *   {{- if <pipeline> }} ... {{- else }} ... {{- end }}
 *   pipelines through toYaml, nindent N, indent N, quote, sha256sum
 *   include (print $.Template.BasePath "/file.yaml") .
 *   {{- and -}} whitespace trimming, {{/* comments *\/}}
 *
 * A value path that does not exist is an error here (Helm would print
 * "<no value>"), which catches typos between templates and values.yaml.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface RenderContext {
  Values: { [key: string]: Json };
  Release: { Name: string; Namespace: string };
  Chart: { Name: string; AppVersion: string; Version: string };
}

interface Chart {
  dir: string;
  templates: Map<string, string>;
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'expr'; expr: string }
  | { kind: 'if'; cond: string; then: Node[]; else: Node[] };

interface Token {
  text: string;
  action?: string;
}

type Value = Json | RenderContext | undefined;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const re = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    let text = src.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (m[1] === '-') text = text.replace(/\s+$/, '');
    tokens.push({ text });
    tokens.push({ text: '', action: m[2] ?? '' });
    trimNext = m[3] === '-';
    last = re.lastIndex;
  }
  let tail = src.slice(last);
  if (trimNext) tail = tail.replace(/^\s+/, '');
  tokens.push({ text: tail });
  return tokens;
}

function parse(tokens: Token[]): Node[] {
  let pos = 0;
  const block = (terminators: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++]!;
      if (tok.action === undefined) {
        if (tok.text) nodes.push({ kind: 'text', text: tok.text });
        continue;
      }
      const action = tok.action;
      if (action.startsWith('/*')) continue;
      if (terminators.includes(action)) return { nodes, end: action };
      if (action.startsWith('if ')) {
        const thenPart = block(['else', 'end']);
        const elsePart = thenPart.end === 'else' ? block(['end']).nodes : [];
        nodes.push({ kind: 'if', cond: action.slice(3), then: thenPart.nodes, else: elsePart });
        continue;
      }
      if (/^(range|with|define|template|block|else|end)\b/.test(action)) {
        throw new Error(`helm-lite does not support {{ ${action} }}`);
      }
      nodes.push({ kind: 'expr', expr: action });
    }
    if (terminators.length) throw new Error(`unterminated block, expected ${terminators.join('/')}`);
    return { nodes, end: '' };
  };
  return block([]).nodes;
}

/** Splits on a separator outside quotes and parentheses. */
function splitTop(src: string, sep: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '"' && src[i - 1] !== '\\') quoted = !quoted;
    if (!quoted && c === '(') depth++;
    if (!quoted && c === ')') depth--;
    if (!quoted && depth === 0 && sep.test(c)) {
      if (cur.trim()) parts.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) parts.push(cur.trim());
  return parts;
}

function toYaml(v: Value): string {
  // Helm's toYaml sorts keys (it marshals through JSON) and drops the final newline.
  return stringifyYaml(v, { sortMapEntries: true, lineWidth: 0 }).replace(/\n$/, '');
}

function indent(n: number, s: string): string {
  const pad = ' '.repeat(n);
  return s
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

function str(v: Value): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') throw new Error(`cannot print a map or list without toYaml: ${JSON.stringify(v)}`);
  return String(v);
}

export class HelmLite {
  private readonly chart: Chart;

  constructor(chartDir: string) {
    const templatesDir = join(chartDir, 'templates');
    const templates = new Map<string, string>();
    for (const f of readdirSync(templatesDir).sort()) {
      if (f.endsWith('.yaml') || f.endsWith('.tpl') || f.endsWith('.txt')) {
        templates.set(`templates/${f}`, readFileSync(join(templatesDir, f), 'utf8'));
      }
    }
    this.chart = { dir: chartDir, templates };
  }

  defaultValues(): { [key: string]: Json } {
    return parseYaml(readFileSync(join(this.chart.dir, 'values.yaml'), 'utf8')) as { [key: string]: Json };
  }

  chartMeta(): { name: string; appVersion: string; version: string } {
    return parseYaml(readFileSync(join(this.chart.dir, 'Chart.yaml'), 'utf8')) as {
      name: string;
      appVersion: string;
      version: string;
    };
  }

  /** Renders every template; returns file name -> rendered text (like `helm template`'s `# Source:` sections). */
  render(release: { name: string; namespace: string }, overrides: { [key: string]: Json } = {}): Map<string, string> {
    const meta = this.chartMeta();
    const ctx: RenderContext = {
      Values: deepMerge(this.defaultValues(), overrides),
      Release: { Name: release.name, Namespace: release.namespace },
      Chart: { Name: meta.name, AppVersion: String(meta.appVersion), Version: String(meta.version) },
    };
    const out = new Map<string, string>();
    for (const name of this.chart.templates.keys()) {
      if (name.endsWith('.tpl') || name.endsWith('.txt')) continue;
      out.set(name, this.renderFile(name, ctx));
    }
    return out;
  }

  private renderFile(name: string, ctx: RenderContext): string {
    const src = this.chart.templates.get(name);
    if (src === undefined) throw new Error(`no template ${name}`);
    return this.renderNodes(parse(tokenize(src)), ctx);
  }

  private renderNodes(nodes: Node[], ctx: RenderContext): string {
    let out = '';
    for (const n of nodes) {
      if (n.kind === 'text') out += n.text;
      else if (n.kind === 'expr') out += str(this.evalPipeline(n.expr, ctx));
      else out += this.renderNodes(truthy(this.evalPipeline(n.cond, ctx)) ? n.then : n.else, ctx);
    }
    return out;
  }

  private evalPipeline(src: string, ctx: RenderContext): Value {
    const stages = splitTop(src, /\|/);
    let acc: Value = undefined;
    stages.forEach((stage, i) => {
      const words = splitTop(stage, /\s/);
      const args = words.slice(1).map((w) => this.evalTerm(w, ctx));
      if (i > 0) args.push(acc);
      acc = words.length === 1 && i === 0 ? this.evalTerm(words[0]!, ctx) : this.call(words[0]!, args, ctx);
    });
    return acc;
  }

  private evalTerm(term: string, ctx: RenderContext): Value {
    if (term.startsWith('(') && term.endsWith(')')) return this.evalPipeline(term.slice(1, -1), ctx);
    if (term.startsWith('"')) return JSON.parse(term) as string;
    if (/^-?\d+$/.test(term)) return Number(term);
    if (term === '.' || term === '$') return ctx;
    if (term === '$.Template.BasePath') return 'templates';
    const path = term.replace(/^\$/, '');
    if (!path.startsWith('.')) throw new Error(`helm-lite does not know the function or term "${term}"`);
    let cur: unknown = ctx;
    for (const key of path.slice(1).split('.')) {
      if (cur === null || typeof cur !== 'object' || !(key in cur)) throw new Error(`${term} is not set`);
      cur = (cur as Record<string, unknown>)[key];
    }
    return cur as Value;
  }

  private call(fn: string, args: Value[], ctx: RenderContext): Value {
    const num = (v: Value): number => {
      if (typeof v !== 'number') throw new Error(`${fn} expects a number`);
      return v;
    };
    switch (fn) {
      case 'toYaml':
        return toYaml(args[0]);
      case 'nindent':
        return '\n' + indent(num(args[0]), str(args[1]));
      case 'indent':
        return indent(num(args[0]), str(args[1]));
      case 'quote':
        return JSON.stringify(str(args[0]));
      case 'sha256sum':
        return createHash('sha256').update(str(args[0])).digest('hex');
      case 'print':
        return args.map(str).join('');
      case 'include':
        return this.renderFile(str(args[0]), ctx);
      default:
        throw new Error(`helm-lite does not support the function "${fn}"`);
    }
  }
}

function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** Helm's values coalescing: maps merge key by key, anything else replaces. */
export function deepMerge(base: { [key: string]: Json }, over: { [key: string]: Json }): { [key: string]: Json } {
  const out: { [key: string]: Json } = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const isMap = (x: Json | undefined): x is { [key: string]: Json } => typeof x === 'object' && x !== null && !Array.isArray(x);
    out[k] = isMap(b) && isMap(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** Splits rendered files into YAML documents, dropping empty ones as Helm does. */
export function documents(rendered: Map<string, string>): Array<{ source: string; text: string }> {
  const docs: Array<{ source: string; text: string }> = [];
  for (const [source, text] of rendered) {
    for (const part of text.split(/^---\s*$/m)) {
      const body = part.replace(/^\s*#.*$/gm, '').trim();
      if (body) docs.push({ source, text: part });
    }
  }
  return docs;
}

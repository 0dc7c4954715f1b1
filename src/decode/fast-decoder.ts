/**
 * The fast decoder: reads the few fields kovenant needs straight from the line's bytes and
 * skips the rest (most of `process`, all of `parent`), validating as it skips, so that a
 * ~2 KB event costs one pass over its bytes and no objects or strings beyond the results.
 *
 * `ReferenceDecoder` defines what a line means. This decoder must give the same status and
 * the same `KernelEvent` fields for every input; whenever it meets anything it does not
 * fully handle — invalid JSON, a duplicated key it reads, nesting deeper than the scanner
 * tracks, array-index keys that would reorder `Object.keys` — it hands the line to the
 * reference decoder instead and counts a fallback.
 *
 * This class only sequences its parts: the speculative path for Tetragon's canonical
 * layout (fast-speculate.ts), the general object walk when a line leaves it
 * (fast-walk.ts), both reading values through fast-values.ts into one set of per-line
 * facts (fast-facts.ts), which then become the status.
 */
import type { DecodeStatus, KernelEvent, LineDecoder } from './kernel-event.ts';
import { ReferenceDecoder } from './reference-decoder.ts';
import { EventFacts, FALLBACK } from './fast-facts.ts';
import { Speculation } from './fast-speculate.ts';
import { LBRACE, TypeNames, ValueReader } from './fast-values.ts';
import { ObjectWalk } from './fast-walk.ts';
import { skipWs } from './json-scan.ts';

export class FastDecoder implements LineDecoder {
  private readonly reference = new ReferenceDecoder();
  private readonly facts = new EventFacts();
  private readonly values = new ValueReader();
  private readonly names = new TypeNames(this.values);
  private readonly walk: ObjectWalk;
  private readonly speculation: Speculation;
  private calls = 0;
  private fallbackCount = 0;
  private speculatedCount = 0;
  private abandonedCount = 0;

  constructor(options: { spanSets?: number; spanMaxBytes?: number } = {}) {
    // 2 × 1024 ways of 2 KB slots (4 MB per cache once full): room for the few thousand
    // live processes of a node, within the agent's memory budget.
    const sets = options.spanSets ?? 1024;
    const maxBytes = options.spanMaxBytes ?? 8192;
    this.walk = new ObjectWalk(this.facts, this.values, sets, maxBytes);
    this.speculation = new Speculation(this.facts, this.values, this.walk, sets, maxBytes);
  }

  /** Lines handed to the reference decoder since construction. */
  get fallbacks(): number {
    return this.fallbackCount;
  }

  /** Lines decoded since construction, by either path. */
  get decoded(): number {
    return this.calls;
  }

  /** `process` and `parent` objects skipped by comparing them with one validated before. */
  get spanHits(): number {
    // A pair hit stands for a process hit and a parent hit; a pair miss is followed by
    // lookups in the single caches, which count themselves.
    return this.walk.processSpans.hits + this.walk.parentSpans.hits + 2 * this.speculation.pairSpans.hits;
  }

  /** Sockets (from `saddr` to the element's end) skipped by comparing them with one read before. */
  get sockHits(): number {
    return this.speculation.sockSpans.hits;
  }

  /** `process` and `parent` objects that had to be scanned. */
  get spanMisses(): number {
    return this.walk.processSpans.misses + this.walk.parentSpans.misses;
  }

  /** Lines decoded entirely by the speculative (canonical layout) path. */
  get speculated(): number {
    return this.speculatedCount;
  }

  /** Lines whose speculation was abandoned for the general path. */
  get abandoned(): number {
    return this.abandonedCount;
  }

  /** Share of lines that took the reference path (0 before any line). */
  get fallbackRate(): number {
    return this.calls === 0 ? 0 : this.fallbackCount / this.calls;
  }

  decode(buf: Buffer, start: number, end: number, out: KernelEvent): DecodeStatus {
    this.calls++;
    this.values.view(buf);
    let status: number;
    try {
      status = this.fast(buf, start, end, out);
    } catch {
      // A safety net only: every input the scanner accepts is valid JSON, so nothing in
      // the fast path should throw; if something does, the reference decides.
      status = FALLBACK;
    }
    if (status !== FALLBACK) return status as DecodeStatus;
    this.fallbackCount++;
    return this.reference.decode(buf, start, end, out);
  }

  private fast(buf: Buffer, start: number, end: number, out: KernelEvent): number {
    const facts = this.facts;
    this.walk.newLine();
    facts.reset();
    if (start < end && buf[start] === LBRACE) {
      if (this.speculation.read(buf, start, end)) {
        const status = facts.finish(buf, out, this.names);
        if (status !== FALLBACK) this.speculatedCount++;
        return status;
      }
      this.abandonedCount++;
      facts.reset();
    }
    let i = skipWs(buf, start, end);
    // Arrays, strings and numbers are valid JSON the reference rejects; leave them to it.
    if (i >= end || buf[i] !== LBRACE) return FALLBACK;
    i = this.walk.topObject(buf, i, end);
    if (i < 0) return FALLBACK;
    if (skipWs(buf, i, end) !== end) return FALLBACK;
    return facts.finish(buf, out, this.names);
  }
}

/**
 * What every source component builds: a `ByteInput` (chunks of bytes; the pipeline
 * splits lines itself) with `stats()` and `close()`. A new source is a file in
 * `src/sources/components/` exporting a `SourceFactory`, plus its line in
 * `sources/registry.ts` (ARCHITECTURE.md).
 */
import type * as z from 'zod';
import type { Component, ComponentContext, ComponentFactory } from '../core/component.ts';
import type { ByteInput } from './byte-input.ts';

export interface SourceComponent extends Omit<ByteInput, 'close'>, Component {}

export type SourceContext = ComponentContext;

export type SourceFactory<
  S extends z.ZodType = z.ZodType,
  Context extends SourceContext = SourceContext,
  Built extends SourceComponent = SourceComponent,
> = ComponentFactory<S, Context, Built>;

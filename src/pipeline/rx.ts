/**
 * The rxjs pieces the replay path uses, imported module by module: rxjs's CommonJS
 * index requires all of its ~300 modules (about 60 ms of CPU at every start, a quarter
 * of a small replay's start-up), while these few pull in a tenth of them. The paths are
 * in rxjs's package `exports` (`./internal/*`), pinned by package-lock.json.
 */
export { Observable } from 'rxjs/internal/Observable';
export { lastValueFrom } from 'rxjs/internal/lastValueFrom';
export { concatMap } from 'rxjs/internal/operators/concatMap';
export { defaultIfEmpty } from 'rxjs/internal/operators/defaultIfEmpty';
export { map } from 'rxjs/internal/operators/map';
export type { OperatorFunction } from 'rxjs/internal/types';

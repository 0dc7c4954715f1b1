/**
 * The rxjs pieces the pipelines use, imported module by module: rxjs's CommonJS
 * index requires all of its ~300 modules (about 60 ms of CPU at every start, a quarter
 * of a small replay's start-up), while these few pull in a tenth of them. The paths are
 * in rxjs's package `exports` (`./internal/*`), pinned by package-lock.json.
 */
export { Observable } from 'rxjs/internal/Observable';
export { Subject } from 'rxjs/internal/Subject';
export { lastValueFrom } from 'rxjs/internal/lastValueFrom';
export { EMPTY } from 'rxjs/internal/observable/empty';
export { concat } from 'rxjs/internal/observable/concat';
export { defer } from 'rxjs/internal/observable/defer';
export { interval } from 'rxjs/internal/observable/interval';
export { merge } from 'rxjs/internal/observable/merge';
export { concatMap } from 'rxjs/internal/operators/concatMap';
export { defaultIfEmpty } from 'rxjs/internal/operators/defaultIfEmpty';
export { filter } from 'rxjs/internal/operators/filter';
export { map } from 'rxjs/internal/operators/map';
export { takeUntil } from 'rxjs/internal/operators/takeUntil';
export { tap } from 'rxjs/internal/operators/tap';
export type { OperatorFunction } from 'rxjs/internal/types';

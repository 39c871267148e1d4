/**
 * `@proto/query`: queries for ProtoBase. Expressions over field paths, secondary indexes kept
 * in the same transaction as their data (`IndexedCollection`), an index-aware optimizer with
 * `explain()`, and a fluent, typed, lazy query API over collections, dictionaries and arrays.
 */
export type {
  Aggregate,
  AggregateResult,
  Aggregates,
  Selector,
} from './aggregate.js';
export { normalize } from './compile.js';
export {
  type CompositeDefinition,
  type CompositeIndex,
  type CompositeOptions,
  compositeIndexKind,
} from './composite-kind.js';
export { isUniqueViolation, QueryError, UniqueConstraintError } from './errors.js';
export {
  type CacheOptions,
  type CacheRecord,
  CacheView,
  ExpiringCache,
  type SetOptions,
  type Sweeper,
  type SweeperOptions,
  type SweeperStats,
  type SweepOptions,
  type SweepReport,
} from './expiring.js';
export { type ExplainOptions, type Explanation, planText } from './explain.js';
export {
  type Accessor,
  and,
  type Bounds,
  type Comparison,
  compare,
  describeExpr,
  type ElementOf,
  type Expr,
  type ExprNode,
  Field,
  field,
  fields,
  KeyFunctionField,
  keyFn,
  not,
  type OperandOf,
  type Operator,
  or,
  predicate,
} from './expr.js';
export type { IndexDefinition, IndexTarget } from './index-data.js';
export {
  type AccessContext,
  type IndexAccessPath,
  type IndexKind,
  type IndexStats,
  indexKind,
  registerIndexKind,
} from './index-kind.js';
export { indexValue } from './index-value.js';
export {
  type CollectionOptions,
  IndexedCollection,
  type IndexInfo,
  type IndexSpec,
  type KindIndexSpec,
} from './indexed-collection.js';
export { registerKeyFunction } from './key-function.js';
export type { LiveOptions, LiveQuery, LiveStats, LiveUpdate } from './live.js';
export type { NearestOptions, Neighbor } from './nearest.js';
export type {
  NearestContext,
  NearestFilter,
  NearestHit,
  NearestPath,
  NearestRequest,
  NearestSearch,
} from './nearest-access.js';
export type { KeyAtPath, Path, PathOf, PathValue } from './path.js';
export type { Cursor, PlanInfo } from './plan/node.js';
export { ExecContext, PlanNode } from './plan/node.js';
export {
  type FieldFn,
  from,
  type Joined,
  Query,
  type RowOf,
  type Selected,
  type SourceLike,
} from './query.js';
export { compareValues } from './values.js';

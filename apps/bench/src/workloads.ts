/** The benchmark workloads, one script each (`src/<name>.ts`), in the order `main.ts` runs them. */
export const WORKLOADS = [
  'kv-point',
  'tx',
  'bytes',
  'open',
  'query',
  'changes',
  'cache',
  'ann',
  'postgres',
] as const;

/**
 * Node capacities (fan-out): the most entries a leaf holds and the most children a branch
 * holds. The defaults (64 and 128) were chosen with `apps/bench/src/fanout.ts` (see the
 * README). Nodes of any size decode and work, so changing them never affects data already
 * written; it only changes where future updates split and merge nodes.
 */
import { invalidArgument } from './errors.js';

let leafCapacity = 64;
let branchCapacityValue = 128;

/** The current leaf capacity (entries per leaf). */
export function nodeCapacity(): number {
  return leafCapacity;
}

/** The current branch capacity (children per branch). */
export function branchCapacity(): number {
  return branchCapacityValue;
}

function checkCapacity(value: number): void {
  if (!Number.isInteger(value) || value < 8 || value > 1024) {
    invalidArgument(`node capacity must be an integer between 8 and 1024, got ${String(value)}`);
  }
}

/**
 * Sets the capacities for nodes built from now on (8..1024): `leaf` entries per leaf and
 * `branch` children per branch (default: the same as `leaf`). Process-wide; for benchmarks
 * and tuning, most applications keep the defaults.
 */
export function setNodeCapacity(leaf: number, branch: number = leaf): void {
  checkCapacity(leaf);
  checkCapacity(branch);
  leafCapacity = leaf;
  branchCapacityValue = branch;
}

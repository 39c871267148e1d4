/** Console output for the demo, and the invariant checks that make it fail loudly. */

export function section(title: string): void {
  console.log(`\n== ${title}`);
}

export function step(message: string): void {
  console.log(`   ${message}`);
}

/** Throws when an invariant of the demo does not hold. */
export function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`demo check failed: ${what}`);
  console.log(`   ✓ ${what}`);
}

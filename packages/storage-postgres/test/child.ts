/** This package's fixtures as child processes (see `tooling/test-support/processes.ts`). */
import { fixtureRunner } from '../../../tooling/test-support/processes.js';

export { acknowledgements, type FixtureProcess } from '../../../tooling/test-support/processes.js';
export const runFixture = fixtureRunner(new URL('..', import.meta.url));

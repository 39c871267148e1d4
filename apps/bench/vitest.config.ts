import { protoProject } from '../../tooling/vitest/preset.ts';

// The benchmarks have no unit tests: performance is measured by running them, never in tests.
export default protoProject('bench');

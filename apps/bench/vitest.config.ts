import { protoProject } from '../../tooling/vitest/preset.ts';

// Performance is measured by running the benchmarks, never in tests; the tests cover the report.
export default protoProject('bench');

import { protoProject } from '../../tooling/vitest/preset.ts';

export default protoProject('demo', { testTimeout: 120_000 });

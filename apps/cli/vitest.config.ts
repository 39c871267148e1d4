import { protoProject } from '../../tooling/vitest/preset.ts';

export default protoProject('cli', { testTimeout: 120_000 });

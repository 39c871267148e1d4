import { protoProject } from '../../tooling/vitest/preset.ts';

export default protoProject('smoke', { testTimeout: 180_000 });

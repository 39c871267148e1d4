import { protoProject } from '../../tooling/vitest/preset.ts';

export default protoProject('vector');

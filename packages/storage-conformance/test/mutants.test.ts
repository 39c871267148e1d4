import { describe, expect, it } from 'vitest';
import { runScenario, type Scenario } from '../src/scenario.js';
import { groups } from '../src/scenarios.js';
import { mutantHarness, mutants, reopenMutants, soundHarness } from './mutants.js';

const byKey = new Map<string, Scenario>(
  groups.flatMap((group) => group.scenarios.map((s) => [s.key, s] as const)),
);

function scenario(key: string): Scenario {
  const found = byKey.get(key);
  if (found === undefined) throw new Error(`no scenario ${key}`);
  return found;
}

const noSkip = (reason: string) => {
  throw new Error(`unexpected skip: ${reason}`);
};

describe('storage-conformance: the suite catches broken backends', () => {
  for (const { key, bug, breakage } of mutants) {
    it(`${key} fails when the backend ${bug}`, async () => {
      await expect(runScenario(mutantHarness(bug, breakage), scenario(key), noSkip)).rejects.toThrow();
    });
  }

  for (const { key, bug, harness } of reopenMutants) {
    it(`${key} fails when the backend ${bug}`, async () => {
      await expect(runScenario(harness, scenario(key), noSkip)).rejects.toThrow();
    });
  }

  it('passes every scenario on the sound memory backend it wraps', async () => {
    const skipped: string[] = [];
    for (const found of byKey.values()) {
      await runScenario(soundHarness, found, (reason) => skipped.push(`${found.key}: ${reason}`));
    }
    expect(skipped).toEqual([
      'cas.race-across-instances: needs capabilities.multiProcess = true (declared false)',
      'integrity.read-atoms-blocking: needs capabilities.syncReads = false (declared true) and readAtomsBlocking (a backend without syncReads that can block for a read)',
      'integrity.read-atoms-blocking-unknown-pointer: needs capabilities.syncReads = false (declared true) and readAtomsBlocking (a backend without syncReads that can block for a read)',
      'lifecycle.watch-root: needs capabilities.multiProcess = true (declared false)',
    ]);
  });

  it('passes the blocking-read scenarios on a sound wrapper without synchronous reads', async () => {
    const sound = mutantHarness('sound without sync reads', (inner) => ({
      capabilities: { ...inner.capabilities, syncReads: false },
      readAtomsBlocking: (pointers) =>
        pointers.map((p) => (inner.readAtomSync as (p: string) => Uint8Array)(p)),
    }));
    const keys = ['integrity.read-atoms-blocking', 'integrity.read-atoms-blocking-unknown-pointer'];
    for (const key of keys) {
      const found = byKey.get(key);
      expect(found, key).toBeDefined();
      await runScenario(sound, found as NonNullable<typeof found>, (reason) => {
        throw new Error(`${key} skipped: ${reason}`);
      });
    }
  });
});

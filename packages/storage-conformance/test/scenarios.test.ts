import { readFileSync } from 'node:fs';
import { StorageError } from '@proto/atom/storage';
import { describe, expect, it } from 'vitest';
import type { ConformanceHarness } from '../src/index.js';
import { scenarioKeys } from '../src/index.js';
import { runScenario, type Scenario, unmetRequirement } from '../src/scenario.js';
import { groups } from '../src/scenarios.js';
import { soundHarness } from './mutants.js';

const capabilities = {
  durable: false,
  persistent: true,
  syncReads: true,
  multiProcess: false,
  maxAtomBytes: 1024,
  reclaim: false,
};

describe('storage-conformance: scenario keys', () => {
  it('are unique, kebab-case and prefixed by their group', () => {
    expect(new Set(scenarioKeys).size).toBe(scenarioKeys.length);
    for (const group of groups) {
      for (const scenario of group.scenarios)
        expect(scenario.key).toMatch(new RegExp(`^${group.name}\\.[a-z0-9]+(-[a-z0-9]+)*$`));
    }
  });

  it('are all listed in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(scenarioKeys.filter((key) => !readme.includes(`\`${key}\``))).toEqual([]);
  });
});

describe('storage-conformance: capability requirements', () => {
  it('are met when every listed capability has the wanted value', () => {
    expect(unmetRequirement(undefined, capabilities)).toBeUndefined();
    expect(
      unmetRequirement({ persistent: true, multiProcess: false, maxAtomBytesAtMost: 1024 }, capabilities),
    ).toBeUndefined();
  });

  it('name every capability that does not match', () => {
    expect(unmetRequirement({ reclaim: true, syncReads: false, maxAtomBytesAtMost: 10 }, capabilities)).toBe(
      'needs capabilities.reclaim = true (declared false) and capabilities.syncReads = false (declared true) and capabilities.maxAtomBytes <= 10 (declared 1024)',
    );
  });
});

describe('storage-conformance: runScenario', () => {
  function countingHarness() {
    const events: string[] = [];
    const harness: ConformanceHarness = {
      name: 'counting',
      createLocation: async () => {
        const location = await soundHarness.createLocation();
        events.push('create');
        return location;
      },
      open: async (location) => {
        const backend = await soundHarness.open(location);
        events.push('open');
        const close = backend.close.bind(backend);
        return Object.assign(backend, {
          close: () => {
            events.push('close');
            return close();
          },
        });
      },
      destroyLocation: () => {
        events.push('destroy');
      },
    };
    return { harness, events };
  }

  it('skips with the reason when capabilities do not meet the requirement, and still cleans up', async () => {
    const { harness, events } = countingHarness();
    const scenario: Scenario = {
      key: 'test.never-runs',
      title: 'never runs',
      requires: { multiProcess: true },
      run: () => Promise.reject(new Error('ran')),
    };
    const reasons: string[] = [];
    await runScenario(harness, scenario, (reason) => reasons.push(reason));
    expect(reasons).toEqual(['needs capabilities.multiProcess = true (declared false)']);
    expect(events).toEqual(['create', 'open', 'close', 'destroy']);
  });

  it('closes every backend and destroys every location after a failing body, keeping its error', async () => {
    const { harness, events } = countingHarness();
    const scenario: Scenario = {
      key: 'test.fails',
      title: 'fails',
      async run({ open, createLocation }) {
        await open(await createLocation());
        throw new StorageError({ layer: 'test', reason: 'io', message: 'body failed' });
      },
    };
    await expect(runScenario(harness, scenario, () => {})).rejects.toThrow('body failed');
    expect(events).toEqual(['create', 'open', 'create', 'open', 'close', 'close', 'destroy', 'destroy']);
  });

  it('fails a passing body when cleanup fails', async () => {
    const { harness } = countingHarness();
    const failing: ConformanceHarness = {
      ...harness,
      destroyLocation: () => {
        throw new Error('cannot remove');
      },
    };
    await expect(
      runScenario(failing, { key: 'test.ok', title: 'ok', run: async () => {} }, () => {}),
    ).rejects.toThrow('cannot remove');
  });
});

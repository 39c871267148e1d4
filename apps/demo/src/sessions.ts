/**
 * The demo's session store: sessions that expire, a profile computed once however many
 * requests ask for it at the same time, and a sweep that removes what expired.
 */
import type { Database } from '@proto/atom';
import { ExpiringCache } from '@proto/query';
import { check, section, step } from './report.js';

interface Session {
  readonly user: string;
  readonly cart: number;
}

/** Sessions live 300 ms here, so that the demo sees them expire. */
const TTL_MS = 300;

export async function sessionStore(shop: Database): Promise<void> {
  section('Session store (expiring entries, getOrCompute, sweeps)');
  const sessions = new ExpiringCache<string, Session>('sessions', { ttl: TTL_MS, maxEntries: 1000 });
  const profiles = new ExpiringCache<string, { name: string; computedAt: number }>('profiles', {
    ttl: 60_000,
  });
  await shop.transact((tx) => {
    const view = sessions.in(tx);
    for (let i = 0; i < 5; i++) view.set(`s-${i}`, { user: `user-${i}`, cart: i });
    view.set('s-admin', { user: 'admin', cart: 0 }, { ttl: 60_000 });
  });
  const now = sessions.in(shop.begin({ readOnly: true }));
  step(`${now.size} live sessions; s-0 belongs to ${now.get('s-0')?.user}`);

  let computed = 0;
  const requests = await Promise.all(
    Array.from({ length: 50 }, () =>
      profiles.getOrCompute(shop, 'user-0', async () => {
        computed++;
        await new Promise((resolve) => setImmediate(resolve)); // a slow lookup
        return { name: 'Ada', computedAt: Date.now() };
      }),
    ),
  );
  step(`50 concurrent requests for one profile: computed ${computed} time(s)`);
  check(
    computed <= 1 && requests.every((p) => p.name === 'Ada'),
    'getOrCompute ran the computation at most once',
  );

  const held = shop.begin({ readOnly: true });
  const before = sessions.in(held).size;
  await new Promise((resolve) => setTimeout(resolve, TTL_MS + 50)); // let the short sessions expire
  const later = sessions.in(shop.begin({ readOnly: true }));
  step(
    `after ${TTL_MS + 50} ms: ${later.size} live session(s) (${[...later.keys()].join(', ')}); a transaction begun before still sees ${sessions.in(held).size}`,
  );
  check(later.size === 1 && later.has('s-admin'), 'the short sessions expired, the long one is live');
  check(sessions.in(held).size === before, 'a held snapshot is stable across the expiry instant');

  let removed = 0;
  for (;;) {
    const report = await sessions.sweep(shop, { limit: 100 });
    removed += report.removed;
    if (!report.more) break;
  }
  step(`the sweep removed ${removed} expired session(s) for real`);
  check(removed >= 5, 'the sweep removed the expired sessions');
}

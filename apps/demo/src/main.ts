/**
 * The ProtoBase demo: a small shop on the crash-safe file backend in a local folder.
 *
 * It shows transactions that await, concurrent shoppers committing side by side (key-level
 * concurrency), a contended checkout whose conflicts are retried without losing a sale, a
 * leaderboard of commutative increments, time travel to an earlier commit, indexed queries with
 * the plans the optimizer chose, a live top five kept current from each commit's diff and an
 * audit of what changed between two commits, a session store whose sessions expire, and, on every run
 * after the first, that the data of earlier runs survived. It checks its own results and
 * exits non-zero if any invariant fails.
 *
 *   bash tooling/scripts/run.sh demo            # data in apps/demo/data/shop
 *   PROTO_DEMO_DIR=/tmp/shop pnpm demo          # elsewhere
 */
import { resolve } from 'node:path';
import { ObjectSpace } from '@proto/atom';
import { Dictionary } from '@proto/collections';
import { from, IndexedCollection } from '@proto/query';
import { openWalBackend } from '@proto/storage-wal';
import { type Product, seedCatalog } from './catalog.js';
import { liveLeaderboard } from './live.js';
import { check, section, step } from './report.js';
import { sessionStore } from './sessions.js';
import { productSimilarity } from './similarity.js';

type Cart = Dictionary<string, number>;

const directory = resolve(process.env.PROTO_DEMO_DIR ?? new URL('../data/shop', import.meta.url).pathname);

async function main(): Promise<void> {
  section(`ProtoBase demo: a shop in ${directory}`);
  const space = await ObjectSpace.open(await openWalBackend({ path: directory }));
  try {
    const shop = space.database('shop');

    // 1. What survived from earlier runs.
    const run = await shop.transact((tx) => {
      const runs = (tx.get<number>('runs') ?? 0) + 1;
      tx.set('runs', runs);
      return runs;
    });
    const previous = shop.begin({ readOnly: true });
    const orders = previous.get<Dictionary<string, { product: string; at: Date }>>('orders');
    if (run === 1) {
      step('first run: nothing stored yet; seeding the catalog');
    } else {
      step(`run #${run}: found ${orders?.size ?? 0} orders from earlier runs on disk (the data survived)`);
      check(
        orders !== undefined && orders.size >= (run - 1) * 10,
        'orders from earlier runs are all present',
      );
    }
    if (previous.get('catalog') === undefined) {
      await shop.transact((tx) => {
        tx.set('catalog', seedCatalog(200));
        tx.set('carts', Dictionary.empty<string, Cart>());
        tx.set('orders', Dictionary.empty<string, unknown>());
        tx.set('leaderboard', Dictionary.empty<string, number>());
      });
    }

    // 2. Twenty shoppers fill their own carts at the same time: different keys, no conflicts.
    section('Concurrent shoppers (key-level concurrency, group commit)');
    const before = space.stats();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        shop.transact(async (tx) => {
          const carts = tx.get<Dictionary<string, Cart>>('carts') as Dictionary<string, Cart>;
          const user = `user-${i}`;
          const cart = carts.get(user) ?? Dictionary.empty<string, number>();
          await new Promise((r) => setImmediate(r)); // a transaction may await anything
          tx.set('carts', carts.set(user, cart.increment(`p-${(i * 7) % 200}`, 1 + (i % 3))));
        }),
      ),
    );
    const after = space.stats();
    step(
      `20 transactions committed with ${after.conflicts - before.conflicts} conflicts in ${after.barriers - before.barriers} durable barriers (fsyncs shared by group commit)`,
    );
    const carts = shop.begin({ readOnly: true }).get<Dictionary<string, Cart>>('carts');
    check(carts !== undefined && carts.size >= 20, 'every shopper has a cart');

    // 3. Ten checkouts race for the same product: read-modify-write, conflicts retried.
    section('Contended checkout (optimistic concurrency, retried conflicts)');
    const hot = 'p-0';
    const stockBefore = stockOf(shop.begin({ readOnly: true }).get('catalog'), hot);
    const sequenceBefore = space.sequence;
    const conflictsBefore = space.stats().conflicts;
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        shop.transact(async (tx) => {
          const catalog = tx.get<Dictionary<string, Product>>('catalog') as Dictionary<string, Product>;
          const product = catalog.get(hot) as Product;
          await new Promise((r) => setImmediate(r));
          if (product.stock <= 0) throw new Error('sold out');
          tx.set('catalog', catalog.set(hot, { ...product, stock: product.stock - 1 }));
          const orders = tx.get<Dictionary<string, unknown>>('orders') as Dictionary<string, unknown>;
          tx.set('orders', orders.set(`run${run}-order${i}`, { product: hot, at: new Date() }));
        }),
      ),
    );
    const stockAfter = stockOf(shop.begin({ readOnly: true }).get('catalog'), hot);
    step(
      `stock of ${hot}: ${stockBefore} → ${stockAfter} after 10 checkouts; ${space.stats().conflicts - conflictsBefore} conflicts were retried`,
    );
    check(stockAfter === stockBefore - 10, 'no sale was lost and none counted twice');

    // 4. A leaderboard: increments commute, so a hot key takes 100 concurrent updates without conflict.
    section('Leaderboard (commutative increments)');
    const conflictsBeforeBoard = space.stats().conflicts;
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        shop.transact((tx) => {
          const board =
            tx.get<Dictionary<string, number>>('leaderboard') ?? Dictionary.empty<string, number>();
          tx.set('leaderboard', board.increment(i % 4 === 0 ? 'ada' : 'grace', 10));
        }),
      ),
    );
    const board = shop.begin({ readOnly: true }).get<Dictionary<string, number>>('leaderboard');
    const scores = [...(board?.entries() ?? [])].map(([name, score]) => `${name}=${score}`).join(', ');
    step(`scores: ${scores} (${space.stats().conflicts - conflictsBeforeBoard} conflicts)`);
    check((board?.get('ada') ?? 0) + (board?.get('grace') ?? 0) === 1000 * run, 'every increment counted');

    // 5. Time travel: the catalog as it was before the checkouts.
    section('Time travel');
    const past = shop.begin({ asOf: sequenceBefore });
    step(
      `as of commit ${sequenceBefore}, ${hot} had ${stockOf(past.get('catalog'), hot)} in stock (now ${stockAfter})`,
    );
    check(stockOf(past.get('catalog'), hot) === stockBefore, 'the old snapshot is unchanged');

    // 6. Indexed queries: the catalog as an indexed collection, and the plans the optimizer picks.
    section('Indexed queries (secondary indexes, explain)');
    if (shop.begin({ readOnly: true }).get('products') === undefined) {
      await shop.transact((tx) => {
        const products = IndexedCollection.empty<Product, string>({
          key: 'id',
          indexes: { byCategory: 'category', byPrice: 'price' },
        }).putAll(seedCatalog(20_000).values());
        tx.set('products', products);
      });
    }
    const products = shop.begin({ readOnly: true }).get<IndexedCollection<Product, string>>('products');
    check(products !== undefined && products.size === 20_000, 'the indexed product collection is stored');
    const cheapFruit = from(products as IndexedCollection<Product, string>)
      .where('category', '=', 'fruit')
      .where('price', '<', 3)
      .orderBy('price');
    const rows = cheapFruit.toArray();
    step(`fruit under 3: ${rows.length} products, cheapest ${rows[0]?.name} at ${rows[0]?.price}`);
    for (const line of cheapFruit.explain({ analyze: true }).text.split('\n')) step(`  ${line}`);
    const naive = [...((products as IndexedCollection<Product, string>).values() as Iterable<Product>)]
      .filter((p) => p.category === 'fruit' && p.price < 3)
      .sort((a, b) => a.price - b.price || (a.id < b.id ? -1 : 1));
    check(
      rows.map((p) => p.id).join() === naive.map((p) => p.id).join(),
      'the indexed plan returns what a scan returns, in order',
    );

    // 7. Changes you can subscribe to: a live top five, and an audit between two commits.
    await liveLeaderboard(space, shop);

    // 8. A session store: entries that expire, computed once, swept for real.
    await sessionStore(shop);

    // 9. Product similarity: nearest neighbours by embedding, with a filter and its plan.
    await productSimilarity(shop);

    section('Done');
    step(`commits so far: ${space.sequence}; run the demo again to see the data survive`);
  } finally {
    await space.close();
  }
}

function stockOf(catalog: unknown, id: string): number {
  return ((catalog as Dictionary<string, Product>).get(id) as Product).stock;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

/**
 * The demo's "product similarity": products carry an embedding (here a deterministic stand-in
 * for a text-embedding model's output: a per-category direction plus noise), stored in an
 * `IndexedCollection` with a vector index beside the ordinary ones, in the same transactions.
 * It finds the products most similar to one, with a filter, prints the plan the optimizer
 * chose, and checks the answer against a brute-force scan.
 */
import type { Database } from '@proto/atom';
import { from, IndexedCollection } from '@proto/query';
import { vectorIndex } from '@proto/vector';
import { check, section, step } from './report.js';

interface SimilarProduct {
  readonly id: string;
  readonly name: string;
  readonly category: string;
  readonly price: number;
  readonly embedding: readonly number[];
}

const DIM = 32;
const COUNT = 5_000;
const CATEGORIES = ['fruit', 'bakery', 'dairy', 'pantry', 'drinks'] as const;

function catalogWithEmbeddings(): SimilarProduct[] {
  let seed = 7;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const directions = CATEGORIES.map(() => Array.from({ length: DIM }, () => random() - 0.5));
  return Array.from({ length: COUNT }, (_, i) => {
    const c = i % CATEGORIES.length;
    const direction = directions[c] as number[];
    return {
      id: `sp-${i}`,
      name: `Product ${i}`,
      category: CATEGORIES[c] as string,
      price: Math.round(100 + random() * 9_900) / 100,
      embedding: direction.map((x) => x + (random() - 0.5) * 0.8),
    };
  });
}

function cosineDistance(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return 1 - dot / Math.sqrt(na * nb);
}

/** Similar products by embedding, with a filter and the plan printed. */
export async function productSimilarity(shop: Database): Promise<void> {
  section('Product similarity (vector index, nearest() with a filter, explain)');
  if (shop.begin({ readOnly: true }).get('similar-products') === undefined) {
    await shop.transact((tx) => {
      const products = IndexedCollection.empty<SimilarProduct, string>({ key: 'id' })
        .putAll(catalogWithEmbeddings())
        .createIndex('byPrice', 'price')
        .createIndex('byEmbedding', vectorIndex({ path: 'embedding', dim: DIM }));
      tx.set('similar-products', products);
    });
    step(`stored ${COUNT} products with ${DIM}-dimensional embeddings and a vector index (IVF-Flat)`);
  } else step('the products and their vector index were read back from disk');
  const products = shop
    .begin({ readOnly: true })
    .get<IndexedCollection<SimilarProduct, string>>('similar-products') as IndexedCollection<
    SimilarProduct,
    string
  >;
  const liked = products.get('sp-42') as SimilarProduct;
  const similar = from(products)
    .where('price', '<', 20)
    .where('id', '!=', liked.id)
    .nearest('embedding', liked.embedding, { k: 5 });
  const rows = similar.toArray();
  step(`like ${liked.name} (${liked.category}), under 20:`);
  for (const r of rows)
    step(`  ${r.record.name} (${r.record.category}, ${r.record.price}) distance ${r.distance.toFixed(4)}`);
  for (const line of similar.explain({ analyze: true }).text.split('\n')) step(`  ${line}`);
  const naive = [...(products.values() as Iterable<SimilarProduct>)]
    .filter((p) => p.price < 20 && p.id !== liked.id)
    .map((p) => ({ id: p.id, distance: cosineDistance(liked.embedding, p.embedding) }))
    .sort((a, b) => a.distance - b.distance || (a.id < b.id ? -1 : 1))
    .slice(0, 5);
  check(
    rows.map((r) => r.key).join() === naive.map((n) => n.id).join(),
    'the similar products are the exact nearest under the filter',
  );
}

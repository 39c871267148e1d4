/** The demo shop's product catalog, generated from a fixed seed so every run agrees. */
import { Dictionary } from '@proto/collections';

export interface Product {
  readonly id: string;
  readonly name: string;
  readonly category: string;
  readonly price: number;
  readonly stock: number;
}

const CATEGORIES = ['fruit', 'bakery', 'dairy', 'pantry', 'drinks'] as const;

/** A deterministic catalog of `count` products keyed by id (`p-0` ...). */
export function seedCatalog(count: number): Dictionary<string, Product> {
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const products: [string, Product][] = [];
  for (let i = 0; i < count; i++) {
    const id = `p-${i}`;
    products.push([
      id,
      {
        id,
        name: `Product ${i}`,
        category: CATEGORIES[i % CATEGORIES.length] as string,
        price: Math.round(100 + random() * 9_900) / 100,
        stock: 1_000,
      },
    ]);
  }
  return Dictionary.from(products);
}

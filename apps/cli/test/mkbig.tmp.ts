import { ObjectSpace } from '@proto/atom';
import { Dictionary } from '@proto/collections';
import { openWalBackend } from '@proto/storage-wal';
const [path, n] = [process.argv[2] as string, Number(process.argv[3])];
const space = await ObjectSpace.open(await openWalBackend({ path }));
await space.database('big').transact((tx) =>
  tx.set('items', Dictionary.from(Array.from({ length: n }, (_, i) => [i, { id: i, name: `item ${i}`, price: i % 1000, at: new Date(1_700_000_000_000 + i) }] as [number, unknown]))),
);
await space.close();

/**
 * The collection-authoring seam `@proto/atom/extension` (issue 10): stamps are reached only
 * through the kernel's functions, which behave as `extension/stamps.ts` promises.
 */
import * as main from '@proto/atom';
import { ObjectSpace } from '@proto/atom';
import {
  Atom,
  AtomRef,
  type AtomSlot,
  copyStamp,
  hasReason,
  pointerOf,
  refOf,
  registerAtomType,
  resolveChild,
  sameAtom,
  unpinSlot,
} from '@proto/atom/extension';
import { createMemoryLocation, openMemoryBackend } from '@proto/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';

/** A stored node with a text and child slots, as a collection's tree node would be. */
class Note extends Atom {
  static readonly typeName = 'test.extension.note';
  constructor(
    readonly text: string,
    readonly children: AtomSlot<Note>[] = [],
  ) {
    super();
  }
  get atomType(): string {
    return Note.typeName;
  }
  toPayload(): unknown {
    return { text: this.text, children: this.children.map((child) => unpinSlot(child)) };
  }
  override childAtoms(): Iterable<Atom | AtomRef> {
    return this.children;
  }
}
registerAtomType(Note.typeName, (payload) => {
  const { text, children } = payload as { text: string; children: AtomRef<Note>[] };
  return new Note(text, children);
});

const open: ObjectSpace[] = [];

async function openSpace(): Promise<ObjectSpace> {
  const space = await ObjectSpace.open(await openMemoryBackend({ location: createMemoryLocation() }));
  open.push(space);
  return space;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((space) => space.close()));
});

/** Commits `note` as root `name` and returns the stored instance (the same object). */
async function store(space: ObjectSpace, note: Note, name = 'note'): Promise<Note> {
  const db = space.database('d');
  await db.transact((tx) => tx.set(name, note));
  return db.begin({ readOnly: true }).get<Note>(name) as Note;
}

/** A node whose `childAtoms` forgets its children (breaking guarantee 3 of the extension). */
class Forgetful extends Note {
  override childAtoms(): Iterable<Atom | AtomRef> {
    return [];
  }
}

describe('atom: extension stamps (issue 10)', () => {
  it('exports the same classes as the main entry when imported from the extension subpath', () => {
    expect(Atom).toBe(main.Atom);
    expect(AtomRef).toBe(main.AtomRef);
    expect(pointerOf).toBe(main.pointerOf);
    expect(registerAtomType).toBe(main.registerAtomType);
  });

  it('gives no reference and changes nothing when the atom is not stored', () => {
    const note = new Note('draft');
    expect(refOf(note)).toBeUndefined();
    expect(pointerOf(note)).toBeUndefined();
    expect(unpinSlot(note)).toBe(note);
    const slots: AtomSlot<Note>[] = [note];
    expect(resolveChild(slots, 0)).toBe(note);
    expect(slots[0]).toBe(note);
    const target = new Note('draft');
    copyStamp(note, target);
    expect(pointerOf(target)).toBeUndefined();
    expect(sameAtom(note, target)).toBe(false);
  });

  it('gives a reference that loads the same atom when the atom is stored', async () => {
    const space = await openSpace();
    const note = new Note('kept');
    const stored = await store(space, note);
    expect(stored).toBe(note);
    const ref = refOf(note);
    expect(ref).toBeInstanceOf(AtomRef);
    expect(ref?.pointer).toBe(pointerOf(note));
    expect(ref?.get()).toBe(note);
    expect(refOf(ref as AtomRef<Note>)).toBe(ref);
    space.evictCaches();
    const reloaded = ref?.get();
    expect(reloaded).not.toBe(note);
    expect(reloaded).toBeInstanceOf(Note);
    expect(reloaded?.text).toBe('kept');
    expect(pointerOf(reloaded as Note)).toBe(pointerOf(note));
    expect((await ref?.load())?.text).toBe('kept');
  });

  it('unpins a stored child in place when a parent resolves it', async () => {
    const space = await openSpace();
    const child = new Note('child');
    const parent = new Note('parent', [child]);
    await store(space, parent);
    expect(parent.children[0]).toBe(child);
    expect(unpinSlot(child)).toBeInstanceOf(AtomRef);
    expect(resolveChild(parent.children, 0)).toBe(child);
    const slot = parent.children[0];
    expect(slot).toBeInstanceOf(AtomRef);
    expect(pointerOf(slot as AtomRef)).toBe(pointerOf(child));
    expect(resolveChild(parent.children, 0)).toBe(child);
  });

  it('rejects the commit with invalid-argument when childAtoms leaves out an unstored child', async () => {
    const space = await openSpace();
    const tx = space.database('d').begin();
    tx.set('bad', new Forgetful('parent', [new Note('child')]));
    await expect(tx.commit()).rejects.toSatisfy((error) => hasReason(error, 'invalid-argument'));
  });

  it('treats a copy with the stamp of a stored atom as stored when it is committed again', async () => {
    const space = await openSpace();
    const original = await store(space, new Note('same', [new Note('leaf')]));
    const copy = new Note(original.text, original.children);
    copyStamp(original, copy);
    expect(pointerOf(copy)).toBe(pointerOf(original));
    expect(sameAtom(copy, original)).toBe(true);
    expect(refOf(copy)?.get()).toBe(original);
    const written = async (child: Note, name: string) => {
      const before = space.stats().atomsWritten;
      await store(space, new Note('parent', [child]), name);
      return space.stats().atomsWritten - before;
    };
    const unstamped = await written(new Note(original.text, original.children), 'other');
    // The stamped copy is not written again; an unstamped one with the same payload is.
    expect(await written(copy, 'parent')).toBe(unstamped - 1);
    const parent = space.database('d').begin({ readOnly: true }).get<Note>('parent') as Note;
    space.evictCaches();
    const child = resolveChild(parent.children, 0);
    expect(child.text).toBe('same');
    expect(resolveChild(child.children, 0).text).toBe('leaf');
  });
});

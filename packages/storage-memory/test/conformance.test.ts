import { describeStorageConformance } from '@proto/storage-conformance';
import { createMemoryLocation, type MemoryLocation, openMemoryBackend } from '../src/index.js';

describeStorageConformance({
  name: 'memory',
  createLocation: () => createMemoryLocation(),
  open: (location) => openMemoryBackend({ location: location as MemoryLocation }),
});

import { describeStorageConformance } from '@proto/storage-conformance';
import { createMemoryLocation, type MemoryLocation, openMemoryBackend } from '../src/index.js';

describeStorageConformance({
  name: 'memory',
  createLocation: () => createMemoryLocation(),
  open: (location) => openMemoryBackend({ location: location as MemoryLocation }),
});

// As a network backend: reads only asynchronously (each one a macrotask away), plus blocking
// reads for code that cannot await.
describeStorageConformance({
  name: 'memory without synchronous reads',
  createLocation: () => createMemoryLocation(),
  open: (location) => openMemoryBackend({ location: location as MemoryLocation, syncReads: false }),
});

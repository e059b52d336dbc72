// The native backend for tests that compare it with the js backend, or the sentence that says why it is missing (the test skips with it).
import type { Backend } from '../../src/engine/backend.js';
import { loadNativeBackend } from '../../src/engine/native-backend.js';

export function nativeOrReason(): Backend | string {
  try {
    return loadNativeBackend();
  } catch (err) {
    return `the native addon is not available (${err instanceof Error ? err.message : String(err)}); build it with "node scripts/build-native.mjs"`;
  }
}

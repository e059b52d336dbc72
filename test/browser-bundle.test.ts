// The library core bundles for a browser: esbuild builds src/browser.ts for the browser platform
// (it fails on any import of Node's modules or the addon), and the bundle, run in a bare V8 context
// with no require, process or file system, loads a model bundle from bytes and decodes a latent
// vector to the same values as Node's js backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { build } from 'esbuild';
import { JsBackend } from '../src/engine/js-backend.js';
import { Tensor } from '../src/engine/tensor.js';
import { encodeBundle } from '../src/run/bundle-format.js';
import { presetConfig } from '../src/vae/config.js';
import { exportFiles, EXPORT_FORMATS } from '../src/export/index.js';
import { Vae } from '../src/vae/model.js';

interface BrowserVae {
  latent: number;
  decode(z: unknown): { data: Float32Array; shape: number[] };
}
interface BrowserApi {
  JsBackend: new () => unknown;
  Tensor: new (data: Float32Array, shape: number[]) => unknown;
  getBackend(): { info(): { backend: string } };
  decodeBundle(config: string, weights: Uint8Array, names: { config: string; weights: string }, options: { backend?: unknown }): { vae: BrowserVae };
  exportFiles(vae: BrowserVae, format: string): Array<{ name: string; bytes: Uint8Array }>;
}

test('src/browser.ts bundles for the browser and decodes a latent vector in a bare context like Node does', async () => {
  const result = await build({
    entryPoints: [new URL('../src/browser.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'vaekit',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  assert.doesNotMatch(code, /\brequire\(|from ["']node:|import\(["']node:/, 'no require and no import of Node modules');

  for (const preset of ['seed', 'conv'] as const) {
    const vae = new Vae(presetConfig(preset, { latent: 6, encoderHidden: [32], decoderHidden: [32], ...(preset === 'conv' ? { convChannels: [4, 8] } : {}) }), { backend: new JsBackend(), seed: 3 });
    const files = encodeBundle(vae);
    const z = Float32Array.from({ length: 2 * 6 }, (_, i) => Math.sin(i + 1));
    const expected = vae.decode(new Tensor(z, [2, 6]));

    // A fresh context: JavaScript's built-ins plus what every browser has (TextDecoder, structuredClone, performance), nothing of Node.
    const context = vm.createContext({ TextDecoder, TextEncoder, structuredClone, performance, console });
    vm.runInContext(code, context);
    const api = (context as { vaekit: BrowserApi }).vaekit;
    assert.equal(api.getBackend().info().backend, 'js', 'without Node the backend is the js one');
    const { vae: loaded } = api.decodeBundle(files.config, files.weights, { config: 'config.json', weights: 'weights.safetensors' }, { backend: new api.JsBackend() });
    const got = loaded.decode(new api.Tensor(new Float32Array(z), [2, 6]));
    assert.deepEqual([...got.shape], expected.shape);
    assert.deepEqual(Array.from(got.data), Array.from(expected.data), `${preset}: the same bits as Node's js backend`);
    // The exports are made in the page too (the web app offers them as downloads): the same bytes as in Node.
    for (const format of EXPORT_FORMATS) {
      const inPage = api.exportFiles(loaded, format);
      const inNode = exportFiles(vae, format);
      assert.deepEqual(Array.from(inPage, (f) => f.name), inNode.map((f) => f.name), `${preset} ${format}: the same files`);
      inPage.forEach((f, i) => assert.ok(Buffer.from(f.bytes).equals(Buffer.from(inNode[i]!.bytes)), `${preset} ${format}: ${f.name} has the same bytes`));
    }
  }
});

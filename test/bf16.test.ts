/**
 * bf16 mixed precision (engine/precision.ts, native/dnnl.cc): rounding to bf16 against its
 * definition, oneDNN's bf16 products against the js reference (the same bf16 operands widened
 * exactly to fp32) and against the fp32 products within bf16's tolerance, a bf16 training step
 * against the fp32 one, and the fallback to fp32 where bf16 is unavailable (the js backend, and the
 * native addon with VAEKIT_DNNL=off). The oneDNN tests skip, saying why, on a machine whose addon
 * has no oneDNN or whose CPU has neither AMX nor AVX512-BF16.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../src/engine/backend.js';
import { JsBackend } from '../src/engine/js-backend.js';
import { loadNativeBackend } from '../src/engine/native-backend.js';
import { resolvePrecision } from '../src/engine/precision.js';
import { Random } from '../src/engine/random.js';
import { arrayDataset } from '../src/data/dataset.js';
import { fit } from '../src/train/fit.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { resolveObjective } from '../src/vae/objective.js';
import { assertClose, sameBits } from './helpers/assert-close.js';
import { twoClassNpy } from './helpers/cli.js';

const js = new JsBackend();

function nativeOrNull(): Backend | null {
  try {
    return loadNativeBackend();
  } catch {
    return null;
  }
}
const native = nativeOrNull();
const bf16Reason = native === null ? 'the native addon is not built' : native.info().bf16.available ? null : native.info().bf16.reason ?? 'no bf16';
const skipBf16 = bf16Reason === null ? false : `bf16 products unavailable here: ${bf16Reason}`;

function normals(seed: number, n: number, scale = 1): Float32Array {
  const rng = new Random(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * rng.normal();
  return out;
}

/** The float a bf16 bit pattern stands for. */
function widen(bits: number): number {
  return new Float32Array(new Uint32Array([bits << 16]).buffer)[0]!;
}

function roundTrip(backend: Backend, values: number[]): Uint16Array {
  const out = new Uint16Array(values.length);
  backend.toBf16(Float32Array.from(values), out, values.length);
  return out;
}

test('toBf16 rounds to the nearest bf16, ties to even, and keeps infinities, zeros and NaN', () => {
  // 1 + 2^-8 lies halfway between bf16's 1 and 1 + 2^-7: ties go to the even one (1); 1 + 3 * 2^-8
  // lies halfway between 1 + 2^-7 and 1 + 2^-6: to 1 + 2^-6 (even mantissa).
  const cases: Array<[number, number]> = [
    [1, 1], [1 + 2 ** -8, 1], [1 + 3 * 2 ** -8, 1 + 2 ** -6], [1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7],
    [-2.5, -2.5], [0, 0], [65504, 65536], [3.4e38, Infinity], [Infinity, Infinity], [-Infinity, -Infinity],
    [1e-40, new Float32Array([1e-40])[0]! /* a subnormal keeps its top bits */],
  ];
  const got = roundTrip(js, cases.map((c) => c[0]));
  cases.forEach(([x, expected], i) => {
    if (i === cases.length - 1) assert.ok(Math.abs(widen(got[i]!) - expected) <= 2 ** -133, `${x}`);
    else assert.equal(widen(got[i]!), expected, `toBf16(${x})`);
  });
  assert.ok(Object.is(widen(roundTrip(js, [-0])[0]!), -0), '-0 stays -0');
  assert.ok(Number.isNaN(widen(roundTrip(js, [Number.NaN])[0]!)), 'NaN stays NaN');
  // Every float rounds to one of its two bf16 neighbours, the nearer one.
  const x = normals(1, 4096, 100);
  const h = new Uint16Array(x.length);
  js.toBf16(x, h, x.length);
  const bits = new Uint32Array(x.buffer);
  for (let i = 0; i < x.length; i++) {
    const down = widen(bits[i]! >>> 16);
    const up = widen((bits[i]! >>> 16) + 1);
    const best = Math.abs(x[i]! - down) <= Math.abs(up - x[i]!) ? down : up;
    assert.ok(Math.abs(widen(h[i]!) - x[i]!) <= Math.abs(best - x[i]!), `element ${i}`);
  }
});

test('the native toBf16 gives the js bits', { skip: native === null ? 'the native addon is not built' : false }, () => {
  const x = normals(2, 100_003, 10);
  x.set([Number.NaN, Infinity, -Infinity, 0, -0, 1 + 2 ** -8, 1e-40, 3.4e38], 0);
  const a = new Uint16Array(x.length);
  const b = new Uint16Array(x.length);
  js.toBf16(x, a, x.length);
  native!.toBf16(x, b, x.length);
  assert.deepEqual(b, a);
});

const SHAPES: Array<[boolean, boolean, number, number, number]> = [
  [false, false, 128, 512, 784], [true, false, 512, 80, 128], [false, true, 128, 40, 512],
  [true, true, 37, 19, 23], [false, false, 1, 1, 1], [true, false, 16, 33, 300], [false, false, 200, 7, 3],
];

test('oneDNN bf16 products equal the js reference (the same bf16 operands in fp32) and fp32 within bf16 tolerance', { skip: skipBf16 }, () => {
  for (const [ta, tb, m, n, k] of SHAPES) {
    const label = `${ta ? 'T' : 'N'}${tb ? 'T' : 'N'} ${m}x${n}x${k}`;
    const a = normals(m * 7 + n, m * k);
    const b = normals(k * 3 + 1, k * n, 0.1);
    const ah = new Uint16Array(a.length);
    const bh = new Uint16Array(b.length);
    js.toBf16(a, ah, a.length);
    js.toBf16(b, bh, b.length);
    for (const [alpha, beta] of [[1, 0], [0.5, 1]] as const) {
      const start = normals(5, m * n);
      const got = start.slice();
      const reference = start.slice();
      const exact = start.slice();
      native!.gemmBf16(ta, tb, m, n, k, alpha, ah, bh, beta, got);
      js.gemmBf16(ta, tb, m, n, k, alpha, ah, bh, beta, reference);
      js.gemm(ta, tb, m, n, k, alpha, a, b, beta, exact);
      // The magnitude each element's sum is made of, sum_p |a_ip b_pj|, bounds both errors.
      const absA = a.map(Math.abs);
      const absB = b.map(Math.abs);
      const magnitude = new Float32Array(m * n);
      js.gemm(ta, tb, m, n, k, Math.abs(alpha), absA, absB, 0, magnitude);
      for (let i = 0; i < m * n; i++) {
        const scale = magnitude[i]! + Math.abs(beta * start[i]!);
        // Same bf16 operands, fp32 accumulation in another order: a few fp32 ulps of the magnitude.
        assert.ok(Math.abs(got[i]! - reference[i]!) <= 1e-5 * scale + 1e-30, `${label}: element ${i} is ${got[i]}, the reference ${reference[i]}`);
        // Against unrounded fp32 operands: bf16 keeps 8 significant bits (unit roundoff 2^-8), so
        // each product of two rounded operands is off by at most about 2 * 2^-8 relative.
        assert.ok(Math.abs(got[i]! - exact[i]!) <= 2 ** -7 * scale + 1e-5 * scale, `${label}: element ${i} is ${got[i]}, fp32 gives ${exact[i]}`);
      }
    }
  }
});

// The fused kernels' bf16 sides give the bits of the calls they replace.
test('gemmBf16BiasActivation gives the bits of gemmBf16 then biasActivation, and agrees with js', { skip: skipBf16 }, () => {
  const backend = native!;
  // A seed layer's batch (two row bands), more than 256 rows, the latent layer's k = 40, a small product, k = 0.
  for (const [m, n, k] of [[128, 512, 784], [300, 96, 200], [128, 512, 40], [3, 5, 7], [4, 6, 0]] as const) {
    for (const act of ['relu', 'linear', 'sigmoid', 'leaky_relu'] as const) {
      const x = new Uint16Array(m * k);
      const w = new Uint16Array(k * n);
      backend.toBf16(normals(500 + m, m * k), x, m * k);
      backend.toBf16(normals(501 + n, k * n, 0.05), w, k * n);
      const bias = normals(502, n, 0.5);
      const separate = new Float32Array(m * n).fill(7);
      backend.gemmBf16(false, false, m, n, k, 1, x, w, 0, separate);
      backend.biasActivation(separate, bias, separate, m, n, act, 0.2);
      const fused = new Float32Array(m * n).fill(-3);
      backend.gemmBf16BiasActivation(m, n, k, x, w, bias, act, 0.2, fused);
      assert.ok(sameBits(fused, separate), `${m}x${n}x${k} ${act}: not the bits of gemmBf16 then biasActivation`);
      const expected = new Float32Array(m * n);
      js.gemmBf16BiasActivation(m, n, k, x, w, bias, act, 0.2, expected);
      assertClose(fused, expected, 1e-4, 1e-5, `${m}x${n}x${k} ${act} against js`);
    }
  }
});

test('activationBiasBackward with a bf16 copy writes toBf16 of dx, and dx and the bias gradient as without it, on both backends', { skip: native === null ? 'the native addon is not built' : false }, () => {
  for (const backend of [native!, js]) {
    // A dense layer's batch (columns over the pool), rows not a multiple of 4, and a conv layer's many positions of few channels.
    for (const [rows, cols] of [[128, 512], [9, 301], [4096, 16]] as const) {
      const n = rows * cols;
      const y = normals(510, n).map((v) => Math.max(0, v));
      const dy = normals(511, n);
      const [dx, dxChecked] = [new Float32Array(n), new Float32Array(n)];
      const [grad, gradChecked] = [new Float32Array(cols), new Float32Array(cols)];
      backend.activationBiasBackward(dy, y, dx, rows, cols, 'relu', 0, grad);
      const half = new Uint16Array(n).fill(3);
      backend.activationBiasBackward(dy, y, dxChecked, rows, cols, 'relu', 0, gradChecked, half);
      const expected = new Uint16Array(n);
      backend.toBf16(dx, expected, n);
      assert.ok(sameBits(half, expected), `${backend.name} ${rows}x${cols}: the bf16 copy is not toBf16 of dx`);
      assert.ok(sameBits(dxChecked, dx) && sameBits(gradChecked, grad), `${backend.name} ${rows}x${cols}: dx or the bias gradient changed`);
    }
  }
});

test('native gemmBf16 checks its sizes and refuses where oneDNN is off (gemmBf16BiasActivation too; the fp32 dense forward runs without it)', { skip: native === null ? 'the native addon is not built' : false }, () => {
  const c = new Float32Array(4);
  assert.throws(() => native!.gemmBf16(false, false, 2, 2, 2, 1, new Uint16Array(3), new Uint16Array(4), 0, c), /a has 3 elements/);
  const off = vaekitChild(['-e', `
    const { loadNativeBackend } = await import(${JSON.stringify(new URL('../src/engine/native-backend.ts', import.meta.url).href)});
    const b = loadNativeBackend();
    console.log(JSON.stringify(b.info().bf16));
    try { b.gemmBf16(false, false, 1, 1, 1, 1, new Uint16Array(1), new Uint16Array(1), 0, new Float32Array(1)); console.log('ran'); }
    catch (e) { console.log('threw: ' + e.message); }
    try { b.gemmBf16BiasActivation(1, 1, 1, new Uint16Array(1), new Uint16Array(1), new Float32Array(1), 'relu', 0, new Float32Array(1)); console.log('ran'); }
    catch (e) { console.log('threw: ' + e.message); }
    const y = new Float32Array(2);
    b.gemmBiasActivation(1, 2, 2, Float32Array.of(1, 2), Float32Array.of(1, 2, 3, 4), Float32Array.of(0.5, -20), 'relu', 0, y);
    console.log(Array.from(y).join(','));`]);
  const [info, outcome, fused, fp32] = off.split('\n');
  assert.equal(JSON.parse(info!).available, false);
  assert.match(JSON.parse(info!).reason, /VAEKIT_DNNL=off|no oneDNN/);
  assert.match(outcome!, /^threw: vaekit native gemmBf16: /);
  assert.match(fused!, /^threw: vaekit native gemmBf16BiasActivation: .*(VAEKIT_DNNL=off|no oneDNN)/);
  assert.equal(fp32, '7.5,0', 'without oneDNN the fp32 dense forward runs the product, then the bias and activation');
});

/** Runs node with tsx and VAEKIT_DNNL=off; returns stdout. */
function vaekitChild(args: string[]): string {
  const { spawnSync } = process.getBuiltinModule('node:child_process');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', ...args], { encoding: 'utf8', env: { ...process.env, VAEKIT_DNNL: 'off' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** A small seed-like model and one batch of data in [0, 1]. */
function stepSetup(backend: Backend, architecture: 'dense' | 'conv'): { vae: Vae; input: Float32Array; target: Float32Array } {
  const config = architecture === 'dense'
    ? presetConfig('seed', { latent: 8, encoderHidden: [96], decoderHidden: [96], inputShape: [12, 12, 1] })
    : presetConfig('conv', { latent: 8, convChannels: [8, 16], encoderHidden: [32], decoderHidden: [32], inputShape: [12, 12, 1] });
  const vae = new Vae(config, { backend, seed: 3 });
  const target = new Float32Array(32 * 144);
  new Random(4).fillUniform(target);
  const input = target.map((v, i) => Math.min(1, Math.max(0, v + 0.2 * Math.sin(i))));
  return { vae, input, target };
}

function trainingStep(vae: Vae, input: Float32Array, target: Float32Array): { loss: number; grads: Float32Array } {
  const parts = vae.run(input, target, 32, resolveObjective(), new Random(9), true);
  return { loss: parts.loss, grads: vae.params.grads.slice() };
}

for (const architecture of ['dense', 'conv'] as const) {
  test(`a bf16 training step of a ${architecture} model matches the fp32 one within bf16 tolerance`, { skip: skipBf16 }, () => {
    const { vae, input, target } = stepSetup(native!, architecture);
    const fp32 = trainingStep(vae, input, target);
    vae.setPrecision('bf16');
    const bf16 = trainingStep(vae, input, target);
    vae.setPrecision('fp32');
    const again = trainingStep(vae, input, target);
    assert.deepEqual(again.grads, fp32.grads, 'back in fp32, the step is bit-identical to before');
    assert.notDeepEqual(bf16.grads, fp32.grads, 'bf16 really ran');
    assert.ok(Math.abs(bf16.loss - fp32.loss) <= 5e-3 * Math.abs(fp32.loss), `loss ${bf16.loss} vs ${fp32.loss}`);
    // Gradients agree in direction and size to within bf16's rounding (8 significant bits).
    let dot = 0;
    let n32 = 0;
    let n16 = 0;
    let diff = 0;
    for (let i = 0; i < fp32.grads.length; i++) {
      dot += fp32.grads[i]! * bf16.grads[i]!;
      n32 += fp32.grads[i]! ** 2;
      n16 += bf16.grads[i]! ** 2;
      diff += (fp32.grads[i]! - bf16.grads[i]!) ** 2;
    }
    const cosine = dot / Math.sqrt(n32 * n16);
    const relative = Math.sqrt(diff / n32);
    // Measured: dense cosine 0.99996, relative 0.9%; conv 0.99978, 2.2% (a weight gradient sums
    // over every position, and its terms cancel more than they add up, so relative errors grow).
    assert.ok(cosine > 0.999, `cosine ${cosine}`);
    assert.ok(relative < 0.05, `relative gradient error ${relative}`);
    // And the js reference of the same bf16 step agrees with oneDNN's to fp32 accumulation order.
    const ref = stepSetup(js, architecture);
    ref.vae.setPrecision('bf16');
    const reference = trainingStep(ref.vae, ref.input, ref.target);
    assert.ok(Math.abs(reference.loss - bf16.loss) <= 1e-4 * Math.abs(bf16.loss), `js bf16 loss ${reference.loss} vs native ${bf16.loss}`);
  });
}

test('fit in bf16 trains, warns nothing, and puts the model back in fp32', { skip: skipBf16 }, async () => {
  const { vae, target } = stepSetup(native!, 'dense');
  const data = arrayDataset({ values: target, shape: [12, 12, 1], source: 'test data' });
  const warnings: string[] = [];
  const history = await fit(vae, data, { epochs: 3, batchSize: 8, precision: 'bf16', callbacks: [{ onWarning: (m) => { warnings.push(m); } }] });
  assert.deepEqual(warnings, []);
  assert.ok(history.epochs[2]!.loss < history.epochs[0]!.loss);
  assert.ok(vae.encoder.layers.every((l) => l.precision === 'fp32') && vae.decoder.layers.every((l) => l.precision === 'fp32'));
});

test('where bf16 is unavailable, fit says so in one line and trains in fp32, bit for bit', async () => {
  assert.equal(resolvePrecision(js, 'bf16').precision, 'fp32');
  const run = async (precision: 'fp32' | 'bf16'): Promise<{ weights: Float32Array; warnings: string[] }> => {
    const { vae, target } = stepSetup(js, 'dense');
    const warnings: string[] = [];
    await fit(vae, arrayDataset({ values: target, shape: [12, 12, 1], source: 'test data' }), { epochs: 1, batchSize: 16, precision, callbacks: [{ onWarning: (m) => { warnings.push(m); } }] });
    return { weights: vae.params.values.slice(), warnings };
  };
  const fp32 = await run('fp32');
  const bf16 = await run('bf16');
  assert.deepEqual(bf16.weights, fp32.weights);
  assert.equal(bf16.warnings.length, 1);
  assert.match(bf16.warnings[0]!, /^training\.precision bf16 is not available here \(the js backend has no bf16 kernels.*\); training in fp32\.$/);
});

test('vaekit train --precision bf16 with VAEKIT_DNNL=off trains in fp32 and says why', { skip: native === null ? 'the native addon is not built' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-bf16-'));
  try {
    const data = twoClassNpy(dir, 64);
    const common = ['train', '--data', data.x, '--labels', data.y, '--preset', 'seed', '--latent', '4', '--epochs', '1', '--batch-size', '16', '--validation', '0.25'];
    const { spawnSync } = process.getBuiltinModule('node:child_process');
    const env = { ...process.env, VAEKIT_DNNL: 'off' };
    const runCli = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
      const main = new URL('../src/cli/main.ts', import.meta.url).href;
      const code = `const { main } = await import(${JSON.stringify(main)}); await main(['node', 'vaekit', ...process.argv.slice(1)]);`;
      return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, ...args], { encoding: 'utf8', env });
    };
    const off = runCli([...common, '--precision', 'bf16', '--out', join(dir, 'bf16')]);
    assert.equal(off.status, 0, off.stderr);
    const said = `${off.stdout}${off.stderr}`.split('\n').filter((l) => l.includes('--precision bf16'));
    assert.equal(said.length, 1, `${off.stdout}${off.stderr}`);
    assert.match(said[0]!, /not available here \((oneDNN is turned off \(VAEKIT_DNNL=off\)|this build of the addon has no oneDNN .*)\); training in fp32\./);
    // The same run in fp32, also without oneDNN (whose fp32 products differ from OpenBLAS' in the last bits).
    const fp32 = runCli([...common, '--out', join(dir, 'fp32')]);
    assert.equal(fp32.status, 0, fp32.stderr);
    assert.deepEqual(readFileSync(join(dir, 'bf16', 'weights.safetensors')), readFileSync(join(dir, 'fp32', 'weights.safetensors')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the native im2colBf16 gives the js bits (the fp32 patches, rounded)', { skip: native === null ? 'the native addon is not built' : false }, () => {
  for (const [rows, h, w, c, kernel, stride, pad] of [[3, 9, 7, 5, 4, 2, 1], [2, 6, 6, 1, 3, 1, 1], [1, 5, 8, 32, 4, 2, 0]] as const) {
    const outH = Math.floor((h + 2 * pad - kernel) / stride) + 1;
    const outW = Math.floor((w + 2 * pad - kernel) / stride) + 1;
    const x = normals(rows * 31 + c, rows * h * w * c, 3);
    const n = rows * outH * outW * kernel * kernel * c;
    const expected = new Uint16Array(n);
    const got = new Uint16Array(n).fill(0xffff);
    const patches = new Float32Array(n);
    js.im2col(x, rows, h, w, c, kernel, kernel, stride, stride, pad, pad, outH, outW, patches);
    js.toBf16(patches, expected, n);
    native!.im2colBf16(x, rows, h, w, c, kernel, kernel, stride, stride, pad, pad, outH, outW, got);
    assert.deepEqual(got, expected, `${rows}x${h}x${w}x${c} k${kernel} s${stride} p${pad}`);
    const viaJs = new Uint16Array(n);
    js.im2colBf16(x, rows, h, w, c, kernel, kernel, stride, stride, pad, pad, outH, outW, viaJs);
    assert.deepEqual(viaJs, expected);
  }
});

test('Adam with a bf16 copy writes the same parameters and their bf16 rounding, on both backends', () => {
  const backends: Array<[string, Backend]> = [['js', js]];
  if (native !== null) backends.push(['native', native]);
  const n = 70_001;
  for (const [name, backend] of backends) {
    const start = normals(11, n);
    const grads = normals(12, n, 0.1);
    const plain = { p: start.slice(), m: new Float32Array(n), v: new Float32Array(n) };
    const withHalf = { p: start.slice(), m: new Float32Array(n), v: new Float32Array(n) };
    const half = new Uint16Array(n);
    for (let step = 1; step <= 3; step++) {
      backend.adam(plain.p, grads, plain.m, plain.v, n, 1e-3, 0.9, 0.999, 1e-7, step);
      backend.adam(withHalf.p, grads, withHalf.m, withHalf.v, n, 1e-3, 0.9, 0.999, 1e-7, step, half);
    }
    assert.deepEqual(withHalf.p, plain.p, `${name}: the parameters`);
    const expected = new Uint16Array(n);
    js.toBf16(plain.p, expected, n);
    assert.deepEqual(half, expected, `${name}: the bf16 copy`);
  }
});

test('a model in bf16 keeps a bf16 copy of its weights that Adam refreshes, and drops it in fp32', { skip: skipBf16 }, async () => {
  const { vae, target } = stepSetup(native!, 'dense');
  vae.setPrecision('bf16');
  const half = vae.params.half!;
  assert.ok(half !== null && vae.encoder.layers.every((l) => l.precision === 'bf16'));
  const { Adam } = await import('../src/nn/adam.js');
  const adam = new Adam(vae.params, { learningRate: 1e-2 });
  vae.run(target, target, 32, resolveObjective(), new Random(1), true);
  adam.update(native!);
  const expected = new Uint16Array(vae.params.count);
  js.toBf16(vae.params.values, expected, expected.length);
  assert.deepEqual(vae.params.half, expected);
  vae.setPrecision('fp32');
  assert.equal(vae.params.half, null);
  assert.ok(vae.params.list.every((p) => p.half === null));
});

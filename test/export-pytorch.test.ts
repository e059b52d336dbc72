// The PyTorch export against PyTorch itself: Debian's python3-torch imports each exported model.py,
// loads model.safetensors (strict), runs the encoder, the decoder and the negative ELBO on inputs
// made here, trains a few Adam steps and saves both ways; vaekit's own forward passes, per-example
// negative ELBO and training loss (same eps) are the oracle, and vaekit loads what PyTorch saved.
// One Python process runs every model. The Python's source, src/export/pytorch/*.py, compiles, and
// its embedded copy (scripts/embed-python.ts) is up to date.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { EMBEDDED_MODULE, embeddedModule, pythonFiles } from '../scripts/embed-python.js';
import { Random } from '../src/engine/random.js';
import { pytorchFiles } from '../src/export/pytorch.js';
import { MODEL_PY } from '../src/export/pytorch/python.js';
import { loadBundle, saveModel, type DataInfo } from '../src/run/bundle.js';
import { encodeNpy, readNpy } from '../src/io/npy.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { inputSize, presetConfig, type VaeConfig } from '../src/vae/config.js';
import { MIN_LOGVAR } from '../src/vae/likelihood.js';
import { Vae } from '../src/vae/model.js';
import { resolveObjective } from '../src/vae/objective.js';
import { pythonWithTorch, requireTool } from './helpers/outside-tools.js';
import { maxAbsDiff } from './helpers/export.js';

const ROWS = 5;
/** PyTorch's CPU float32 against vaekit's: values; and nats, per value summed (float32 rounding of each term) and relative. */
const TOLERANCE = 1e-4;
const NATS_PER_VALUE = 1e-6;

interface Case {
  name: string;
  config: VaeConfig;
  data?: DataInfo;
  training?: Record<string, unknown>;
}

const CASES: Case[] = [
  { name: 'dense 28x28x1', config: presetConfig('seed', { latent: 6, encoderHidden: [32], decoderHidden: [32] }) },
  {
    name: 'conv 8x12x3 continuous-bernoulli',
    config: presetConfig('conv', {
      inputShape: [8, 12, 3], convChannels: [4, 8], encoderHidden: [16], decoderHidden: [16], latent: 4, activation: 'leaky_relu',
      likelihood: 'continuous-bernoulli',
    }),
    training: { loss: 'elbo', beta: 0.5, freeBits: 0 },
  },
  {
    name: 'conditional conv 8x4x2 gaussian',
    config: presetConfig('conv', {
      inputShape: [8, 4, 2], convChannels: [5], encoderHidden: [], decoderHidden: [], latent: 3, activation: 'tanh',
      likelihood: 'gaussian', gaussianSigma: 0.3, classes: 3,
    }),
  },
  {
    name: 'conditional dense 6x5x3',
    config: presetConfig('seed', { inputShape: [6, 5, 3], latent: 3, encoderHidden: [16, 12], decoderHidden: [12], activation: 'sigmoid', classes: 4 }),
    data: { shape: [6, 5, 3], classNames: ['a', 'b', 'c', 'd'], standardization: null, featureNames: null, source: 'made by the test' },
  },
  {
    name: 'features [7] with free bits',
    config: presetConfig('seed', { inputShape: [7], latent: 2, encoderHidden: [10], decoderHidden: [10], likelihood: 'gaussian', gaussianSigma: 0.5 }),
    data: {
      shape: [7], classNames: null, featureNames: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], source: 'made by the test',
      standardization: { mean: [1, 2, 3, 4, 5, 6, 7], std: [0.5, 1, 1.5, 2, 2.5, 3, 3.5] },
    },
    training: { loss: 'elbo', beta: 2, freeBits: 0.05 },
  },
  {
    name: 'mog prior, learned-variance gaussian 4x6x2',
    config: presetConfig('seed', {
      inputShape: [4, 6, 2], latent: 3, encoderHidden: [20], decoderHidden: [20], activation: 'leaky_relu',
      likelihood: 'gaussian', gaussianLearnedVariance: true, prior: 'mog', priorComponents: 5,
    }),
  },
];

/** Every parameter moved off its initial value (biases off 0, the prior's and likelihood's off their constants). */
function perturb(vae: Vae, seed: number): void {
  const rng = new Random(seed);
  const u = (lo: number, hi: number): number => lo + (hi - lo) * rng.uniform();
  for (const p of vae.params.list) {
    for (let i = 0; i < p.size; i++) {
      if (p.name === 'likelihood.logvar') p.value[i] = u(-3, 0);
      else if (p.name === 'prior.logits' || p.name === 'prior.logvars') p.value[i] = u(-1, 1);
      else p.value[i] = p.value[i]! + u(-0.2, 0.2);
    }
    // One learned log-variance below the floor: both sides use the floor.
    if (p.name === 'likelihood.logvar') p.value[3] = MIN_LOGVAR - 1;
  }
}

const PYTHON_SCRIPT = String.raw`
import importlib.util, json, os, sys
import numpy as np
import torch

torch.manual_seed(0)
manifest = json.load(open(sys.argv[1]))
results = {}

def save(path, t):
    np.save(path, np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32)))

def nhwc(t):
    return t.permute(0, 2, 3, 1) if t.dim() == 4 else t

for case in manifest:
    d = case["dir"]
    export = os.path.join(d, "export")
    spec = importlib.util.spec_from_file_location("exported_%d" % case["index"], os.path.join(export, "model.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    r = {"config": m.CONFIG, "data": m.DATA, "objective": m.OBJECTIVE}
    r["fileShapes"] = {k: list(v.shape) for k, v in m.read_safetensors(os.path.join(export, m.WEIGHTS_FILE)).items()}
    r["moduleShapes"] = {k: list(v.shape) for k, v in m.VAE().state_dict().items()}
    vae = m.load_vae(export)
    encoder, decoder = m.load(export)
    x = torch.from_numpy(np.load(os.path.join(d, "x.npy")))
    if x.dim() == 4:
        x = x.permute(0, 3, 1, 2).contiguous()
    z = torch.from_numpy(np.load(os.path.join(d, "z.npy")))
    eps = torch.from_numpy(np.load(os.path.join(d, "eps.npy")))
    label = torch.from_numpy(np.load(os.path.join(d, "labels.npy"))) if case["classes"] else None
    out = os.path.join(d, "out")
    os.makedirs(out, exist_ok=True)
    with torch.no_grad():
        mean, logvar = encoder(x, label)
        save(os.path.join(out, "mean.npy"), mean)
        save(os.path.join(out, "logvar.npy"), logvar)
        save(os.path.join(out, "images.npy"), nhwc(decoder(z, label)))
        save(os.path.join(out, "logits.npy"), nhwc(decoder.decode_logits(z, label)))
        r["perExample"] = vae.negative_elbo(x, x, label, eps=eps, beta=1.0, free_bits=0.0, reduction="none").tolist()
        r["loss"] = vae.negative_elbo(x, label=label, eps=eps).item()
        from_bundle = m.load_vaekit_bundle(os.path.join(d, "vaekit")).state_dict()
        r["bundleDiff"] = max((from_bundle[k] - v).abs().max().item() for k, v in vae.state_dict().items())

    optimizer = torch.optim.Adam(vae.parameters(), lr=2e-3)
    objective = lambda: vae.negative_elbo(x, label=label, eps=eps)
    r["before"] = objective().item()
    for step in range(10):
        optimizer.zero_grad()
        loss = objective()
        loss.backward()
        if step == 0:
            r["noGradient"] = [k for k, p in vae.named_parameters() if p.grad is None or p.grad.abs().sum().item() == 0]
        optimizer.step()
    r["after"] = objective().item()

    m.save(vae, os.path.join(d, "trained-pt"))
    m.save_vaekit_bundle(vae, os.path.join(d, "trained-vaekit"))
    spec = importlib.util.spec_from_file_location("saved_%d" % case["index"], os.path.join(d, "trained-pt", "model.py"))
    saved = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(saved)
    again = saved.load_vae(os.path.join(d, "trained-pt")).state_dict()
    r["savedDiff"] = max((again[k] - v).abs().max().item() for k, v in vae.state_dict().items())
    with torch.no_grad():
        mean, logvar = vae.encoder(x, label)
        save(os.path.join(out, "trained-mean.npy"), mean)
        save(os.path.join(out, "trained-logvar.npy"), logvar)
        save(os.path.join(out, "trained-images.npy"), nhwc(vae.decoder(z, label)))
    results[case["name"]] = r

json.dump(results, open(sys.argv[2], "w"))
`;

interface PythonResult {
  config: Record<string, unknown>;
  data: unknown;
  objective: { beta: number; freeBits: number };
  fileShapes: Record<string, number[]>;
  moduleShapes: Record<string, number[]>;
  perExample: number[];
  loss: number;
  bundleDiff: number;
  before: number;
  after: number;
  noGradient: string[];
  savedDiff: number;
}

/** What vaekit computes for a case, kept to compare with PyTorch's. */
interface Prepared {
  dir: string;
  x: Float32Array;
  z: Float32Array;
  labels: number[] | null;
  mean: Float32Array;
  logvar: Float32Array;
  logits: Float32Array;
  images: Float32Array;
  perExample: Float64Array;
  loss: number;
  vae: Vae;
}


function npy(path: string): Float32Array {
  const a = readNpy(path);
  assert.ok(a.data instanceof Float32Array, `${path} is not float32`);
  return a.data;
}

/** Means and log-variances [rows, L] each, from the encoder's [rows, 2L]. */
function split(meanLogvar: Float32Array, rows: number, L: number): { mean: Float32Array; logvar: Float32Array } {
  const mean = new Float32Array(rows * L);
  const logvar = new Float32Array(rows * L);
  for (let r = 0; r < rows; r++) {
    mean.set(meanLogvar.subarray(r * 2 * L, r * 2 * L + L), r * L);
    logvar.set(meanLogvar.subarray(r * 2 * L + L, (r + 1) * 2 * L), r * L);
  }
  return { mean, logvar };
}

function prepare(c: Case, index: number, root: string): Prepared {
  const dir = join(root, `case-${index}`);
  const seed = 10 + index;
  const vae = new Vae(c.config, { seed });
  perturb(vae, 100 + index);
  mkdirSync(join(dir, 'export'), { recursive: true });
  for (const f of pytorchFiles(vae, c.data, c.training)) writeFileSync(join(dir, 'export', f.name), f.bytes);
  saveModel(vae, join(dir, 'vaekit'), c.training, c.data);

  const rng = new Random(1000 + index);
  const D = inputSize(c.config);
  const L = c.config.latent;
  const images = c.config.inputShape.length === 3;
  const x = new Float32Array(ROWS * D);
  for (let i = 0; i < x.length; i++) x[i] = images ? rng.uniform() : rng.normal();
  const z = new Float32Array(ROWS * L);
  rng.fillNormal(z);
  const labels = c.config.classes > 0 ? Array.from({ length: ROWS }, (_, r) => (r + 2 * index) % c.config.classes) : null;
  const epsSeed = 2000 + index;
  const eps = new Float32Array(ROWS * L);
  new Random(epsSeed).fillNormal(eps);
  writeFileSync(join(dir, 'x.npy'), encodeNpy({ dtype: 'float32', shape: [ROWS, ...c.config.inputShape], data: x }));
  writeFileSync(join(dir, 'z.npy'), encodeNpy({ dtype: 'float32', shape: [ROWS, L], data: z }));
  writeFileSync(join(dir, 'eps.npy'), encodeNpy({ dtype: 'float32', shape: [ROWS, L], data: eps }));
  if (labels !== null) {
    writeFileSync(join(dir, 'labels.npy'), encodeNpy({ dtype: 'int64', shape: [ROWS], data: BigInt64Array.from(labels, BigInt) }));
  }

  const { mean, logvar } = split(vae.encodeBatch(x, ROWS, labels), ROWS, L);
  const logits = vae.decodeLogitsBatch(z, ROWS, labels).slice();
  const decoded = new Float32Array(ROWS * D);
  vae.logitsToImages(logits, ROWS, decoded);
  // The same eps: the first ROWS * L normals of a generator seeded epsSeed, as written to eps.npy.
  const perExample = new Float64Array(ROWS);
  vae.negElboPerImage(x, x, ROWS, new Random(epsSeed), perExample, labels);
  const t = c.training ?? {};
  const objective = resolveObjective({ loss: 'elbo', beta: (t.beta as number | undefined) ?? 1, freeBits: (t.freeBits as number | undefined) ?? 0 });
  const { loss } = vae.run(x, x, ROWS, objective, new Random(epsSeed), false, labels);
  return { dir, x, z, labels, mean, logvar, logits, images: decoded, perExample, loss, vae };
}

const python = pythonWithTorch();

describe('PyTorch export: the Python source', () => {
  test('src/export/pytorch/python.ts is the embedding of the .py files as they are now', () => {
    assert.deepEqual(pythonFiles().map((f) => basename(f)), ['model.py', 'text_model.py', 'train.py']);
    assert.equal(MODEL_PY, readFileSync(pythonFiles()[0]!, 'utf8'));
    assert.ok(
      readFileSync(EMBEDDED_MODULE, 'utf8') === embeddedModule(),
      `${EMBEDDED_MODULE} is out of date with the .py files: run npm run embed-python`,
    );
  });

  test('each .py file compiles (python3 -m py_compile)', (t) => {
    const py = requireTool(t, python, 'python3-torch');
    if (py === null) return;
    const cache = mkdtempSync(join(tmpdir(), 'vaekit-pycache-'));
    try {
      for (const file of pythonFiles()) {
        const run: SpawnSyncReturns<string> = spawnSync(py, ['-m', 'py_compile', file], { encoding: 'utf8', env: { ...process.env, PYTHONPYCACHEPREFIX: cache } });
        assert.equal(run.status, 0, `${file} does not compile:\n${run.stderr}`);
      }
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  test('an exported model.py is model.py with only its __VAEKIT_*__ names filled in', () => {
    const pieces = MODEL_PY.split(/__VAEKIT_[A-Z_]+__/);
    assert.equal(pieces.length, 9, 'model.py has eight names to fill');
    for (const c of CASES) {
      const text = new TextDecoder().decode(pytorchFiles(new Vae(c.config, { seed: 1 }), c.data, c.training)[0]!.bytes);
      assert.doesNotMatch(text, /__VAEKIT_/, `${c.name}: every name is filled`);
      let at = 0;
      pieces.forEach((piece, k) => {
        const found = text.indexOf(piece, at);
        assert.ok(k === 0 ? found === 0 : found >= at, `${c.name}: the template's text around the names is there, in order`);
        at = found + piece.length;
      });
      assert.equal(at, text.length, `${c.name}: and ends the file`);
    }
  });
});

describe('PyTorch export', () => {
  let root = '';
  const prepared: Prepared[] = [];
  let results: Record<string, PythonResult> = {};
  let pythonSeconds = 0;

  before(() => {
    if (python === null) return;
    root = mkdtempSync(join(tmpdir(), 'vaekit-pytorch-'));
    CASES.forEach((c, i) => prepared.push(prepare(c, i, root)));
    const manifest = CASES.map((c, i) => ({ name: c.name, index: i, dir: prepared[i]!.dir, classes: c.config.classes }));
    writeFileSync(join(root, 'manifest.json'), JSON.stringify(manifest));
    writeFileSync(join(root, 'check.py'), PYTHON_SCRIPT);
    const started = Date.now();
    const run = spawnSync(python, [join(root, 'check.py'), join(root, 'manifest.json'), join(root, 'results.json')], {
      encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: '1' },
    });
    if (run.status !== 0) throw new Error(`The PyTorch check failed (exit ${run.status}):\n${run.stderr}`);
    results = JSON.parse(readFileSync(join(root, 'results.json'), 'utf8')) as Record<string, PythonResult>;
    pythonSeconds = (Date.now() - started) / 1000;
  });

  after(() => {
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });

  CASES.forEach((c, i) => {
    test(`${c.name}: the state_dict loads strictly and PyTorch's encoder and decoder match vaekit's`, (t) => {
      if (requireTool(t, python, 'python3-torch') === null) return;
      const p = prepared[i]!;
      const r = results[c.name]!;
      if (i === 0) t.diagnostic(`python (every model): ${pythonSeconds.toFixed(1)} s`);
      assert.deepEqual(r.fileShapes, r.moduleShapes, 'model.safetensors holds exactly the VAE\'s state_dict keys and shapes');
      assert.equal(Object.keys(r.fileShapes).length, p.vae.params.list.length);
      // The self-description: CONFIG is vaekit's config, DATA the data description, OBJECTIVE the training's beta and free bits.
      assert.deepEqual(r.config, { ...c.config });
      assert.deepEqual(r.data, c.data ?? null);
      assert.deepEqual(r.objective, { beta: (c.training?.beta as number | undefined) ?? 1, freeBits: (c.training?.freeBits as number | undefined) ?? 0 });
      const out = join(p.dir, 'out');
      const diffs = {
        mean: maxAbsDiff(npy(join(out, 'mean.npy')), p.mean),
        logvar: maxAbsDiff(npy(join(out, 'logvar.npy')), p.logvar),
        images: maxAbsDiff(npy(join(out, 'images.npy')), p.images),
        logits: maxAbsDiff(npy(join(out, 'logits.npy')), p.logits),
      };
      t.diagnostic(`max abs differences: ${JSON.stringify(diffs)}`);
      for (const [what, d] of Object.entries(diffs)) assert.ok(d <= TOLERANCE, `${what}: max abs difference ${d}`);
      // The Python reader of vaekit's own bundle (channels-last, per-layer names) gives the same tensors.
      assert.equal(r.bundleDiff, 0);
    });

    test(`${c.name}: negative_elbo is vaekit's objective at the same eps`, (t) => {
      if (requireTool(t, python, 'python3-torch') === null) return;
      const p = prepared[i]!;
      const r = results[c.name]!;
      const values = inputSize(c.config) + c.config.latent;
      const close = (a: number, b: number): boolean => Math.abs(a - b) <= NATS_PER_VALUE * (values + Math.abs(b));
      r.perExample.forEach((v, row) => assert.ok(close(v, p.perExample[row]!), `row ${row}: PyTorch ${v}, vaekit ${p.perExample[row]}`));
      assert.ok(close(r.loss, p.loss), `batch loss: PyTorch ${r.loss}, vaekit ${p.loss}`);
      const worst = Math.max(...r.perExample.map((v, row) => Math.abs(v - p.perExample[row]!)));
      t.diagnostic(`per-example negative ELBO max abs difference ${worst.toExponential(2)} nats; batch loss ${r.loss} vs ${p.loss}`);
    });

    test(`${c.name}: PyTorch trains it, and saves it for itself and for vaekit`, (t) => {
      if (requireTool(t, python, 'python3-torch') === null) return;
      const p = prepared[i]!;
      const r = results[c.name]!;
      assert.deepEqual(r.noGradient, [], 'every parameter gets a gradient');
      t.diagnostic(`negative ELBO at the fixed eps over 10 Adam steps: ${r.before.toFixed(4)} -> ${r.after.toFixed(4)}`);
      assert.ok(r.after < r.before - 1e-2 * Math.abs(r.before), `10 Adam steps: ${r.before} -> ${r.after}`);
      assert.equal(r.savedDiff, 0, 'save() then load_vae() gives the same state');
      // vaekit loads the folder save_vaekit_bundle wrote and computes what the trained PyTorch model does.
      const { vae, data } = loadBundle(join(p.dir, 'trained-vaekit'));
      assert.deepEqual(vae.config, p.vae.config);
      assert.deepEqual(data.shape, c.config.inputShape);
      const L = c.config.latent;
      const { mean, logvar } = split(vae.encodeBatch(p.x, ROWS, p.labels), ROWS, L);
      const images = new Float32Array(ROWS * inputSize(c.config));
      vae.logitsToImages(vae.decodeLogitsBatch(p.z, ROWS, p.labels), ROWS, images);
      const out = join(p.dir, 'out');
      const trainedMean = npy(join(out, 'trained-mean.npy'));
      const diffs = {
        mean: maxAbsDiff(trainedMean, mean),
        logvar: maxAbsDiff(npy(join(out, 'trained-logvar.npy')), logvar),
        images: maxAbsDiff(npy(join(out, 'trained-images.npy')), images),
      };
      t.diagnostic(`trained, reloaded in vaekit: max abs differences ${JSON.stringify(diffs)}`);
      for (const [what, d] of Object.entries(diffs)) assert.ok(d <= TOLERANCE, `${what}: max abs difference ${d}`);
      assert.ok(maxAbsDiff(trainedMean, p.mean) > 1e-4, 'training changed the model');
      // The PyTorch-format file is plain safetensors vaekit's reader takes too.
      const { tensors } = decodeSafetensors(new Uint8Array(readFileSync(join(p.dir, 'trained-pt', 'model.safetensors'))), 'model.safetensors');
      assert.deepEqual(Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k, v.shape])), r.fileShapes);
    });
  });
});

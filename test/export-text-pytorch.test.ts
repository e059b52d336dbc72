// The PyTorch export of text models against PyTorch itself: tiny text models trained here (LSTM and
// GRU, one or two encoder directions, conditional or not, text VAEs with beta, free bits and word
// dropout in their training record, language models); Debian's python3-torch imports each exported
// model.py, loads model.safetensors strictly, and on the same sentences gives vaekit's negative
// ELBO (TextVae.run with rng null: z is the posterior mean) and per-sentence token NLL within 1e-4
// nats, vaekit's posterior within 1e-4, and exactly vaekit's greedy token ids. Then PyTorch trains
// each model a few Adam steps, saves it both ways, and vaekit loads the bundle PyTorch wrote and
// computes PyTorch's loss. The README's Python example runs as written. One Python process runs
// every model; the Python source compiles.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportFiles } from '../src/export/index.js';
import { TEXT_MODEL_PY } from '../src/export/pytorch/python.js';
import { posteriorMeans, textsForModel } from '../src/pipelines/text.js';
import { loadTextBundle } from '../src/run/bundle.js';
import { resolveObjective } from '../src/vae/objective.js';
import { pythonWithTorch, requireTool } from './helpers/outside-tools.js';
import { maxAbsDiff, testRows, trainTiny, vaekitAnswers, type TrainedText } from './export-text-models.js';

const TOLERANCE = 1e-4;
const README_SENTENCE = 'my sister likes the red ball today';

interface Case {
  title: string;
  preset: 'text' | 'text-lm';
  overrides: Parameters<typeof trainTiny>[1];
  objective: { beta?: number; freeBits?: number; wordDropout?: number };
}

const CASES: Case[] = [
  { title: 'LSTM text VAE, beta 0.3, word dropout 0.25', preset: 'text', overrides: { latent: 8, embedding: 16, encoderHidden: 24, decoderHidden: 32 }, objective: { beta: 0.3, wordDropout: 0.25 } },
  { title: 'conditional GRU text VAE, bidirectional, free bits 0.1', preset: 'text', overrides: { latent: 6, embedding: 12, encoderHidden: 16, decoderHidden: 24, cell: 'gru', bidirectional: true, classes: 3 }, objective: { beta: 0.5, freeBits: 0.1 } },
  { title: 'LSTM text VAE, bidirectional', preset: 'text', overrides: { latent: 4, embedding: 10, encoderHidden: 12, decoderHidden: 16, bidirectional: true }, objective: { beta: 0.2 } },
  { title: 'GRU language model', preset: 'text-lm', overrides: { embedding: 12, decoderHidden: 24, cell: 'gru' }, objective: {} },
  { title: 'conditional LSTM language model', preset: 'text-lm', overrides: { embedding: 12, decoderHidden: 20, classes: 3 }, objective: {} },
];

const PYTHON_SCRIPT = String.raw`
import importlib.util, json, os, sys
import torch

torch.manual_seed(0)
manifest = json.load(open(sys.argv[1]))
results = {}
for case in manifest:
    d = case["dir"]
    export = os.path.join(d, "export")
    spec = importlib.util.spec_from_file_location("exported_%d" % case["index"], os.path.join(export, "model.py"))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    r = {"config": m.CONFIG, "objective": m.OBJECTIVE, "dataKeys": sorted((m.DATA or {}).keys())}
    r["fileShapes"] = {k: list(v.shape) for k, v in m.read_safetensors(os.path.join(export, m.WEIGHTS_FILE)).items()}
    r["moduleShapes"] = {k: list(v.shape) for k, v in m.TextVAE().state_dict().items()}
    vae = m.load(export).eval()
    tokens = torch.tensor(case["tokens"], dtype=torch.long)
    label = torch.tensor(case["labels"]) if case["classes"] else None
    latent = case["latent"]
    eps = torch.zeros(tokens.shape[0], latent) if latent else None
    with torch.no_grad():
        r["loss"] = vae.negative_elbo(tokens, label=label, eps=eps).item()
        if latent:
            mean, logvar = vae.encode(tokens, label=label)
            r["mean"] = mean.flatten().tolist()
            r["logvar"] = logvar.flatten().tolist()
            r["nll"] = vae.token_nll(tokens, z=mean, label=label).tolist()
            r["greedy"] = vae.generate(mean, label=label)
        else:
            r["nll"] = vae.token_nll(tokens, label=label).tolist()
            r["greedy"] = vae.generate(n=tokens.shape[0], label=label)

    vae.train()
    optimizer = torch.optim.Adam(vae.parameters(), lr=1e-2)
    objective = lambda: vae.negative_elbo(tokens, label=label, eps=eps, word_dropout=0.0)
    r["before"] = objective().item()
    for step in range(10):
        optimizer.zero_grad()
        loss = vae.negative_elbo(tokens, label=label, eps=eps)   # word dropout on while training
        loss.backward()
        if step == 0:
            r["noGradient"] = [k for k, p in vae.named_parameters() if p.grad is None or p.grad.abs().sum().item() == 0]
        optimizer.step()
    r["after"] = objective().item()
    vae.eval()
    with torch.no_grad():
        r["trainedLoss"] = vae.negative_elbo(tokens, label=label, eps=eps).item()
    m.save(vae, os.path.join(d, "trained-pt"))
    m.save_vaekit_bundle(vae, os.path.join(d, "trained-vaekit"))
    spec = importlib.util.spec_from_file_location("saved_%d" % case["index"], os.path.join(d, "trained-pt", "model.py"))
    saved = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(saved)
    again = saved.load(os.path.join(d, "trained-pt")).state_dict()
    r["savedDiff"] = max((again[k] - v).abs().max().item() for k, v in vae.state_dict().items())
    results[case["title"]] = r
json.dump(results, open(sys.argv[2], "w"))
`;

interface PythonResult {
  config: Record<string, unknown>;
  objective: { beta: number; freeBits: number; wordDropout: number };
  dataKeys: string[];
  fileShapes: Record<string, number[]>;
  moduleShapes: Record<string, number[]>;
  loss: number;
  mean?: number[];
  logvar?: number[];
  nll: number[];
  greedy: number[][];
  before: number;
  after: number;
  noGradient: string[];
  trainedLoss: number;
  savedDiff: number;
}

interface Prepared {
  model: TrainedText;
  dir: string;
  rows: ReturnType<typeof testRows>;
  loss: number;
  nll: Float64Array;
  answers: ReturnType<typeof vaekitAnswers>;
}

const python = pythonWithTorch();

test('src/export/pytorch/text_model.py compiles, and an exported model.py is it with only its __VAEKIT_*__ names filled in', async (t) => {
  const py = requireTool(t, python, 'python3-torch');
  const m = await trainTiny('text', { latent: 2, embedding: 4, encoderHidden: 4, decoderHidden: 4 }, { epochs: 1 });
  const text = new TextDecoder().decode(exportFiles(m.vae, 'pytorch', m.data, m.training)[0]!.bytes);
  const pieces = TEXT_MODEL_PY.split(/__VAEKIT_[A-Z_]+__/);
  assert.equal(pieces.length, 11, 'text_model.py has ten names to fill');
  assert.doesNotMatch(text, /__VAEKIT_/);
  let at = 0;
  for (const piece of pieces) {
    const found = text.indexOf(piece, at);
    assert.ok(found >= at, 'the template\'s text around the names is there, in order');
    at = found + piece.length;
  }
  assert.equal(at, text.length);
  if (py === null) return;
  const dir = mkdtempSync(join(tmpdir(), 'vaekit-text-py-'));
  try {
    writeFileSync(join(dir, 'model.py'), text);
    const run = spawnSync(py, ['-m', 'py_compile', join(dir, 'model.py')], { encoding: 'utf8', env: { ...process.env, PYTHONPYCACHEPREFIX: join(dir, 'cache') } });
    assert.equal(run.status, 0, run.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('PyTorch text export', () => {
  let root = '';
  const prepared: Prepared[] = [];
  let results: Record<string, PythonResult> = {};
  let seconds = 0;

  before(async () => {
    if (python === null) return;
    root = mkdtempSync(join(tmpdir(), 'vaekit-text-pytorch-'));
    const manifest = [];
    for (const [index, c] of CASES.entries()) {
      const model = await trainTiny(c.preset, c.overrides, { epochs: 6, ...c.objective });
      const dir = join(root, `case-${index}`);
      mkdirSync(join(dir, 'export'), { recursive: true });
      for (const f of exportFiles(model.vae, 'pytorch', model.data, model.training)) writeFileSync(join(dir, 'export', f.name), f.bytes);
      const rows = testRows(model, 6);
      const labels = model.vae.classes > 0 ? rows.labels : null;
      const objective = resolveObjective({ loss: 'elbo', beta: c.objective.beta ?? 1, freeBits: c.objective.freeBits ?? 0 });
      const { loss } = model.vae.run(rows.ids, rows.ids, rows.rows, objective, null, false, labels);
      const nll = new Float64Array(rows.rows);
      model.vae.tokenNllPerExample(rows.ids, rows.ids, rows.rows, null, labels, nll);
      prepared.push({ model, dir, rows, loss, nll, answers: vaekitAnswers(model, rows) });
      const N = model.vae.maxLength;
      manifest.push({
        title: c.title, index, dir, latent: model.vae.latent, classes: model.vae.classes, labels: rows.labels,
        // The rows as vaekit holds them: maxLength ids each, <pad> after the sentence.
        tokens: Array.from({ length: rows.rows }, (_, r) => Array.from(rows.ids.subarray(r * N, (r + 1) * N))),
      });
    }
    writeFileSync(join(root, 'manifest.json'), JSON.stringify(manifest));
    writeFileSync(join(root, 'check.py'), PYTHON_SCRIPT);
    const started = Date.now();
    const run = spawnSync(python, [join(root, 'check.py'), join(root, 'manifest.json'), join(root, 'results.json')], {
      encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: '1' },
    });
    if (run.status !== 0) throw new Error(`The PyTorch check failed (exit ${run.status}):\n${run.stderr}`);
    results = JSON.parse(readFileSync(join(root, 'results.json'), 'utf8')) as Record<string, PythonResult>;
    seconds = (Date.now() - started) / 1000;
  });

  after(() => {
    if (root !== '') rmSync(root, { recursive: true, force: true });
  });

  CASES.forEach((c, i) => {
    test(`${c.title}: PyTorch's loss, token NLL, posterior and greedy ids are vaekit's`, (t) => {
      if (requireTool(t, python, 'python3-torch') === null) return;
      const p = prepared[i]!;
      const r = results[c.title]!;
      if (i === 0) t.diagnostic(`python (every model): ${seconds.toFixed(1)} s`);
      assert.deepEqual(r.fileShapes, r.moduleShapes, 'model.safetensors holds exactly the module\'s state_dict');
      assert.equal(Object.keys(r.fileShapes).length, p.model.vae.params.list.length);
      assert.deepEqual(r.config, { ...p.model.vae.config });
      assert.deepEqual(r.objective, { beta: c.objective.beta ?? 1, freeBits: c.objective.freeBits ?? 0, wordDropout: c.objective.wordDropout ?? 0 });
      assert.ok(!r.dataKeys.includes('text'), 'the vocabulary is in vocab.json, not in model.py');
      const nllDiff = maxAbsDiff(r.nll, p.nll);
      let posteriorDiff = 0;
      if (p.answers.mean !== null) posteriorDiff = Math.max(maxAbsDiff(r.mean!, p.answers.mean), maxAbsDiff(r.logvar!, p.answers.logvar!));
      t.diagnostic(`loss: PyTorch ${r.loss}, vaekit ${p.loss} (difference ${Math.abs(r.loss - p.loss).toExponential(2)}); `
        + `token NLL max difference ${nllDiff.toExponential(2)}; posterior ${posteriorDiff.toExponential(2)}`);
      assert.ok(Math.abs(r.loss - p.loss) <= TOLERANCE, `loss: PyTorch ${r.loss}, vaekit ${p.loss}`);
      assert.ok(nllDiff <= TOLERANCE, `token NLL differs by ${nllDiff}`);
      assert.ok(posteriorDiff <= TOLERANCE, `posterior differs by ${posteriorDiff}`);
      assert.deepEqual(r.greedy, p.answers.greedy);
      assert.ok(r.greedy.some((g) => g.length >= 3));
    });

    test(`${c.title}: PyTorch trains it and saves it for itself and for vaekit`, (t) => {
      if (requireTool(t, python, 'python3-torch') === null) return;
      const p = prepared[i]!;
      const r = results[c.title]!;
      assert.deepEqual(r.noGradient, [], 'every parameter gets a gradient');
      t.diagnostic(`loss over 10 Adam steps: ${r.before.toFixed(4)} -> ${r.after.toFixed(4)}`);
      assert.ok(r.after < r.before - 1e-2, `10 Adam steps: ${r.before} -> ${r.after}`);
      assert.equal(r.savedDiff, 0, 'save() then load() gives the same state');
      // vaekit loads the folder save_vaekit_bundle wrote and computes the trained PyTorch model's loss.
      const bundle = loadTextBundle(join(p.dir, 'trained-vaekit'));
      assert.deepEqual(bundle.vae.config, p.model.vae.config);
      assert.deepEqual(bundle.vocabulary.toJSON(), p.model.vocabulary.toJSON());
      const labels = bundle.vae.classes > 0 ? p.rows.labels : null;
      const objective = resolveObjective({ loss: 'elbo', beta: c.objective.beta ?? 1, freeBits: c.objective.freeBits ?? 0 });
      const { loss } = bundle.vae.run(p.rows.ids, p.rows.ids, p.rows.rows, objective, null, false, labels);
      t.diagnostic(`trained in PyTorch, loaded in vaekit: ${loss} vs PyTorch's ${r.trainedLoss}`);
      assert.ok(Math.abs(loss - r.trainedLoss) <= TOLERANCE, `vaekit ${loss}, PyTorch ${r.trainedLoss}`);
      assert.ok(Math.abs(loss - p.loss) > 1e-3, 'training changed the model');
    });
  });

  test('the README\'s Python example runs as written and decodes as vaekit does', (t) => {
    if (requireTool(t, python, 'python3-torch') === null) return;
    const p = prepared[0]!;
    const exportDir = join(p.dir, 'export');
    const readme = readFileSync(join(exportDir, 'README.md'), 'utf8');
    const block = /```python\n([\s\S]*?)```/.exec(readme);
    assert.ok(block !== null);
    const script = block[1]!.replace('"EXPORT_FOLDER"', JSON.stringify(exportDir)).replace('sentence = "..."', `sentence = ${JSON.stringify(README_SENTENCE)}`);
    const run = spawnSync(python!, ['-c', script], { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    assert.equal(run.status, 0, run.stderr);
    const bundle = { vae: p.model.vae, data: p.model.data, vocabulary: p.model.vocabulary, training: p.model.training };
    const z = posteriorMeans(bundle, textsForModel(bundle, [README_SENTENCE]));
    const ids = Array.from(p.model.vae.generate(z, 1, { mode: 'greedy' }, null)[0]!);
    const tokens = ids.map((id) => p.model.vocabulary.tokens[id]!);
    t.diagnostic(`"${README_SENTENCE}" -> ${run.stdout.trim()}`);
    assert.equal(run.stdout.trim(), `[${tokens.map((tok) => `'${tok}'`).join(', ')}]`);
  });
});

// `vaekit report`: a model trained here on small synthetic images (8x8, two classes), with its
// figures and evaluation in the folder, gets one HTML page that holds everything (checked as text
// and in a real headless Chromium: every image loads, nothing goes to the network); a folder with
// nothing but the bundle still gets a page that says what is missing; bad input is one line, exit
// 1, and no page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { loadBundle, saveModel } from '../src/run/bundle.js';
import { loadNpy } from '../src/data/sources/npy.js';
import { prepareForModel } from '../src/run/data.js';
import { gatherReport, markdownTableRows, renderReport, writeReport } from '../src/report/report.js';
import { escapeHtml } from '../src/report/html.js';
import { presetConfig } from '../src/vae/config.js';
import { Vae } from '../src/vae/model.js';
import { cliChecks, twoClassNpy, vaekitFromSources, type CliResult } from './helpers/cli.js';
import { CHROMIUM_ARGS, chromiumPath, requireTool } from './helpers/outside-tools.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-report-'));
// VAEKIT_TEST_KEEP=1 keeps the models, the pages and the screenshot for a look.
process.on('exit', () => { if (process.env['VAEKIT_TEST_KEEP'] === undefined) rmSync(work, { recursive: true, force: true }); else console.log(`kept ${work}`); });

const vaekit = (args: string[]): CliResult => vaekitFromSources(args, 300_000);
const { ok, refused } = cliChecks(vaekit);

/** Every src and href in the page that is not a data: URI or an anchor on the page. */
function outsideReferences(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1]!).filter((u) => !u.startsWith('data:') && !u.startsWith('#'));
}

const data = twoClassNpy(work, 400);
const model = join(work, 'model');

test('report on a trained model: one self-contained page with the summary, config, curves, metrics, evaluation, figures and samples', async (t) => {
  ok(['train', '--data', data.x, '--labels', data.y, '--hidden', '32', '--latent', '2', '--epochs', '2', '--out', model]);
  ok(['figures', '--model', model, '--data', data.x, '--labels', data.y]);
  ok(['eval', '--model', model, '--data', data.x, '--labels', data.y, '--train-data', data.x, '--samples', '10', '--prior-samples', '0']);
  const started = Date.now();
  const printed = ok(['report', '--model', model]).trim();
  const path = join(model, 'report.html');
  assert.equal(printed, path, 'report prints the path of the page');
  t.diagnostic(`vaekit report took ${Date.now() - started} ms (with the CLI's start)`);
  const html = readFileSync(path, 'utf8');

  // Self-contained: nothing on the page points outside it.
  assert.doesNotMatch(html, /https?:\/\//i);
  assert.deepEqual(outsideReferences(html), []);
  assert.doesNotMatch(html, /<script|<link|@import|url\(/i);
  for (const id of ['summary', 'config', 'curves', 'test-metrics', 'evaluation', 'figures', 'samples', 'files']) assert.match(html, new RegExp(`<section id="${id}">`), id);
  assert.doesNotMatch(html, /class="missing"/, 'every part is there for this folder');

  // The summary: the Keras-like table with the model's own layers and parameter count.
  const vae = loadBundle(model).vae;
  assert.match(html, /Layer \(type\)/);
  assert.match(html, new RegExp(`Total parameters: <strong>${vae.params.count.toLocaleString('en-US')}</strong>`));
  assert.match(html, /z \(Reparameterize\)/);
  // The configuration: the model, the data and how it was trained.
  assert.match(html, /<td>latent<\/td><td>2<\/td>/);
  assert.match(html, /<td>encoderHidden<\/td><td>32<\/td>/);
  assert.match(html, new RegExp(`<td>source</td><td>${escapeHtml(data.x).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\(training part\\))?</td>`));
  assert.match(html, /<td>epochsTrained<\/td><td>2<\/td>/);
  assert.match(html, /<td>loss<\/td><td>elbo<\/td><td><span class="words">the training objective: negative ELBO/);
  // The curves: a chart and the numbers of both epochs.
  assert.match(html, /<img src="data:image\/png;base64,[A-Za-z0-9+/=]+" alt="Training curves/);
  assert.match(html, /2 epochs in \d+\.\d+ s of training/);
  // The test metrics, each number with what it measures.
  const metrics = JSON.parse(readFileSync(join(model, 'test-metrics.json'), 'utf8')) as { negElboNats: number; psnrDenoisedDb: number; images: number };
  assert.match(html, new RegExp(`<td class="num">${metrics.negElboNats.toFixed(2)} nats</td><td><span class="words">negative ELBO \\(beta 1\\): clean test examples scored given their noisy versions`));
  assert.match(html, new RegExp(`<td class="num">${metrics.psnrDenoisedDb.toFixed(2)} dB</td>`));
  assert.match(html, new RegExp(`Written by vaekit train after the last epoch: ${metrics.images} validation/test examples, corrupted with gaussian:0.2 noise`));
  // The evaluation, from eval.md.
  assert.match(html, /<td>kNN accuracy from latent means<\/td><td>\d+\.\d\d% \(k = 5\)<\/td>/);
  assert.match(html, /negative log-likelihood, importance-sampled, k = 10/);
  // The figures in the folder, and prior samples drawn from the model.
  assert.match(html, /alt="noisy-examples.png"><figcaption>The notebook&#39;s first figure/);
  assert.match(html, /alt="denoised-examples.png"><figcaption>The notebook&#39;s second figure/);
  assert.match(html, /alt="Images decoded from samples of the prior N\(0, I\)"/);
  const images = [...html.matchAll(/<img /g)].length;
  assert.equal(images, 4, 'the curves, two notebook figures and the prior samples');

  // In a real browser: every image decodes, nothing is requested from the network.
  const executablePath = requireTool(t, chromiumPath(), 'chromium');
  if (executablePath === null) return;
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    const loaded = await page.evaluate<Array<{ alt: string; complete: boolean; width: number; height: number }>>(
      'Array.from(document.images, (i) => ({ alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight }))',
    );
    assert.equal(loaded.length, 4);
    for (const image of loaded) assert.ok(image.complete && image.width > 0 && image.height > 0, `${image.alt} did not load: ${JSON.stringify(image)}`);
    const outside = requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
    assert.deepEqual(outside, [], 'the page asked for nothing outside itself');
    assert.deepEqual(problems, [], 'no errors in the console (a blocked load would show here)');
    const headings = await page.evaluate<string[]>('Array.from(document.querySelectorAll("h2"), (h) => h.textContent)');
    assert.deepEqual(headings, ['Model summary', 'Configuration', 'Training curves', 'Test metrics', 'Evaluation', 'Figures', 'Prior samples', 'Files in the folder']);
    // The column is narrower than the window, and no image is wider than it.
    const widths = await page.evaluate<{ main: number; widest: number; window: number }>(
      '({ main: document.querySelector("main").getBoundingClientRect().width, widest: Math.max(...Array.from(document.images, (i) => i.getBoundingClientRect().width)), window: window.innerWidth })',
    );
    assert.ok(widths.main < widths.window && widths.widest <= widths.main, JSON.stringify(widths));
    const shot = join(work, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(readFileSync(shot).length > 10_000);
    t.diagnostic(`screenshot: ${shot}${process.env["VAEKIT_TEST_KEEP"] === undefined ? " (VAEKIT_TEST_KEEP=1 keeps it)" : ""}`);
  } finally {
    await browser.close();
  }
});

test('a folder with only the bundle: the page says what is missing and how to get it; --data draws the figures for the page', async () => {
  const config = presetConfig('seed', { inputShape: [8, 8, 1], latent: 3, encoderHidden: [16], decoderHidden: [16] });
  const vae = new Vae(config, { seed: 1 });
  const bare = join(work, 'bare <model>');
  mkdirSync(bare);
  saveModel(vae, bare);
  const out = join(work, 'pages', 'bare.html');
  const path = await writeReport(bare, { out, now: new Date('2025-03-04T05:06:07Z') });
  assert.equal(path, out);
  assert.ok(!existsSync(join(bare, 'report.html')), '--out is where the page goes');
  const html = readFileSync(out, 'utf8');
  assert.match(html, /<h1>vaekit report: bare &lt;model&gt;<\/h1>/, 'names are escaped');
  assert.match(html, /Written on 2025-03-04 05:06 UTC/);
  assert.match(html, /config\.json does not say how this model was trained/);
  assert.match(html, /The folder has no metrics\.jsonl/);
  assert.match(html, /The folder has no test-metrics\.json/);
  assert.match(html, /No evaluation in the folder: vaekit eval on this model \(.*\) measures/);
  assert.match(html, /The folder has no figures: vaekit figures writes the notebook&#39;s figures into it/);
  assert.equal([...html.matchAll(/<img /g)].length, 1, 'only the prior samples');
  assert.doesNotMatch(html, /https?:\/\//);

  // With data, the notebook's figures are drawn for the page (and not written into the folder).
  const bundle = loadBundle(bare);
  const set = prepareForModel(bundle.data, loadNpy(data.x), false);
  const parts = await gatherReport(bare, { data: set, seed: 3 });
  assert.ok(!('missing' in parts.figures));
  const drawn = 'images' in parts.figures ? parts.figures.images.map((i) => i.name) : [];
  assert.deepEqual(drawn, ['noisy-examples.png', 'denoised-examples.png']);
  assert.ok(!existsSync(join(bare, 'noisy-examples.png')));
  const page = renderReport(parts);
  assert.equal(renderReport(parts), page, 'the same parts give the same page');
  assert.match(page, /Drawn for this report from .*x\.npy with gaussian:0\.2 noise, seed 3\./);
  assert.equal([...page.matchAll(/<img /g)].length, 3);
});

test('a table model gets its prior samples as a table in the data\'s units', async () => {
  const config = presetConfig('seed', { inputShape: [3], latent: 2, encoderHidden: [8], decoderHidden: [8], likelihood: 'gaussian', gaussianLearnedVariance: true });
  const vae = new Vae(config, { seed: 2 });
  const dir = join(work, 'table-model');
  saveModel(vae, dir, undefined, { shape: [3], classNames: null, standardization: { mean: [100, 0, -5], std: [10, 1, 2] }, featureNames: ['height', 'weight', 'age'], source: 'people.csv' });
  const html = readFileSync(await writeReport(dir), 'utf8');
  assert.match(html, /<th class="num">height<\/th><th class="num">weight<\/th><th class="num">age<\/th>/);
  assert.match(html, /8 examples decoded from z drawn from the prior N\(0, I\), seed 0, in the data&#39;s own units/);
  assert.match(html, /The folder has no figures \(this model&#39;s examples are table rows, not images\)/);
  assert.equal([...html.matchAll(/<img /g)].length, 0);
});

test('vaekit report --data draws the notebook\'s figures for a folder that has none, with the seed and noise given', () => {
  const dir = join(work, 'figureless');
  saveModel(new Vae(presetConfig('seed', { inputShape: [8, 8, 1], latent: 2, encoderHidden: [8], decoderHidden: [8] }), { seed: 5 }), dir);
  const out = join(work, 'figureless.html');
  assert.equal(ok(['report', '--model', dir, '--data', data.x, '--labels', data.y, '--noise', 'masking:0.3', '--seed', '4', '--out', out]).trim(), out);
  const html = readFileSync(out, 'utf8');
  assert.match(html, /Drawn for this report from .*x\.npy with masking:0\.3 noise, seed 4\./);
  assert.match(html, /64 images decoded from z drawn from the prior N\(0, I\), seed 4/);
  assert.equal([...html.matchAll(/<img /g)].length, 3);
  assert.ok(!existsSync(join(dir, 'noisy-examples.png')), 'nothing is written into the model folder');
});

test('eval.md rows are read as a table of two columns', () => {
  const rows = markdownTableRows('| metric | value |\n| --- | --- |\n| test images | 120 |\n| active units | 2 of 2 |\n');
  assert.deepEqual(rows, [['test images', '120'], ['active units', '2 of 2']]);
});

test('bad input: one line, exit status 1, and no page', () => {
  const nowhere = join(work, 'no-such-model');
  refused(['report', '--model', nowhere], /^error: No model folder at .*no-such-model: pass the folder that holds config\.json and weights\.safetensors\.$/, [join(nowhere, 'report.html')]);
  const empty = join(work, 'empty');
  mkdirSync(empty);
  refused(['report', '--model', empty], /The model folder .*empty has no config\.json\./, [join(empty, 'report.html')]);
  const broken = join(work, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'config.json'), '{ not json');
  writeFileSync(join(broken, 'weights.safetensors'), '');
  refused(['report', '--model', broken], /broken\/config\.json is not valid JSON\./, [join(broken, 'report.html')]);
  const saved = join(work, 'saved');
  saveModel(new Vae(presetConfig('seed', { inputShape: [8, 8, 1], latent: 2, encoderHidden: [8], decoderHidden: [8] })), saved);
  refused(['report', '--model', saved, '--out', work], /The output path .* is a folder, not a file\./, [join(saved, 'report.html')]);
  refused(['report', '--model', saved, '--data', join(work, 'missing.npy')], /No data at .*missing\.npy/, [join(saved, 'report.html')]);
  refused(['report'], /required option '--model <dir>' not specified/, []);
});

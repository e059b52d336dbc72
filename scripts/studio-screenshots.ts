// The README's studio screenshots, to docs/images/studio-*.png. `node --import tsx
// scripts/studio-screenshots.ts` starts the studio in a temporary runs folder and, in Debian's
// Chromium:
// - on MNIST: trains the seed preset (latent 16) on the first 20,000 training images for 3 epochs
//   from the Train form, and saves the Train page while it trains (β's longer help open, the epoch
//   time and time left, the curves within the epoch), the Denoise (a test digit on the pad) and
//   Latent space pages, and, after a second run with latent size 2, the Models page's comparison of
//   the two;
// - on text: trains a sentence VAE (text preset, latent 16, LSTM 128, embedding 64, word dropout
//   0.3, 30 epochs) with the library's planRun and trainRun on 2,000 sentences made from a few
//   templates here (the studio's form trains image and table models only), and saves the Text page
//   with a typed sentence reconstructed, its nearest training sentences, prior samples and an
//   interpolation between two sentences;
// - on a time series: trains a series model (preset series, window 48) with the library on the first
//   60% of a week of 5-minute readings made here (a daily cycle and noise, with a spike, a level
//   shift and a burst of noise planted and labelled after the training part), and saves the Series
//   page with the week uploaded and scored, its label column picked.
// Name `mnist`, `text` or `series` to make only those (`... studio-screenshots.ts text`).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { Random } from '../src/engine/random.js';
import { planRun } from '../src/run/plan.js';
import { trainRun } from '../src/run/train-run.js';
import { startStudio } from '../src/studio/server.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const asked = new Set(process.argv.slice(2));
const SHOTS = ['mnist', 'text', 'series'] as const;
for (const name of asked) if (!(SHOTS as readonly string[]).includes(name)) throw new Error(`Name mnist, text or series (or nothing, for all), not ${name}.`);
const wants = (name: (typeof SHOTS)[number]): boolean => asked.size === 0 || asked.has(name);

/** `n` sentences from a few templates of a small world: animals, people, places and times. */
function templateSentences(n: number, seed: number): string[] {
  const rng = new Random(seed);
  const pick = (xs: readonly string[]): string => xs[rng.int(xs.length)]!;
  const adjectives = ['big', 'small', 'old', 'young', 'quiet', 'happy', 'hungry', 'tired'];
  const animals = ['cat', 'dog', 'bird', 'horse', 'fox', 'rabbit'];
  const people = ['man', 'woman', 'child', 'farmer', 'teacher'];
  const verbs = ['sees', 'follows', 'feeds', 'chases', 'finds', 'watches'];
  const places = ['in the park', 'by the river', 'at home', 'on the hill', 'near the old bridge', 'in the garden'];
  const times = ['in the morning', 'at night', 'after lunch', 'every day'];
  const templates = [
    () => `the ${pick(adjectives)} ${pick(people)} ${pick(verbs)} the ${pick(animals)} ${pick(places)}`,
    () => `a ${pick(adjectives)} ${pick(animals)} ${pick(verbs)} the ${pick(people)} ${pick(times)}`,
    () => `the ${pick(animals)} sleeps ${pick(places)} ${pick(times)}`,
    () => `we saw a ${pick(adjectives)} ${pick(animals)} ${pick(places)}`,
  ];
  return Array.from({ length: n }, () => templates[rng.int(templates.length)]!());
}

const runs = mkdtempSync(join(tmpdir(), 'vaekit-shots-'));
const data = mkdtempSync(join(tmpdir(), 'vaekit-shots-data-'));
const studio = await startStudio({ port: 0, runsDir: runs, dataRoots: [data], quiet: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const shoot = async (name: string): Promise<void> => {
    // From the top: the bar of pages sticks to the top of the window, and a full-page shot paints it where the window was scrolled.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join('docs', 'images', `studio-${name}.png`), fullPage: true });
  };
  await page.goto(studio.url, { waitUntil: 'load' });
  if (wants('mnist')) await mnistPages(page, shoot);
  if (wants('text')) await textPage(page, shoot);
  if (wants('series')) await seriesPage(page, shoot);
} finally {
  await browser.close();
  await studio.close();
  rmSync(runs, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
}

async function mnistPages(page: Page, shoot: (name: string) => Promise<void>): Promise<void> {
  await page.evaluate('window.location.hash = "#/train"');
  await page.waitForSelector('[data-testid="train-form"]');
  await page.fill('[data-testid="latent"]', '16');
  await page.fill('[data-testid="epochs"]', '3');
  await page.fill('[data-testid="limit"]', '20000');
  await page.fill('[data-testid="run-name"]', 'mnist-latent16');
  await page.click('[data-testid="more-train-beta"]');
  await page.click('[data-testid="start"]');
  // Mid-way through the second epoch: the first epoch's figures, the time left, the running curve.
  await page.waitForSelector('[data-testid="figures"] img', { timeout: 600_000 });
  await page.waitForFunction(`(() => {
    const m = /Epoch 2 of 3 · step (\\d+) of \\d+/.exec(document.querySelector('[data-testid="live"]')?.textContent ?? '');
    return m !== null && Number(m[1]) > 60;
  })()`, undefined, { timeout: 600_000 });
  await page.waitForTimeout(500);
  await shoot('train');
  await page.waitForSelector('[data-testid="live"][data-status="done"]', { timeout: 600_000 });
  await page.click('[data-testid="nav-denoise"]');
  await page.waitForSelector('[data-testid="denoised"]');
  await page.click('[data-testid="load-example"]');
  await page.waitForTimeout(1000);
  await shoot('denoise');
  await page.click('[data-testid="nav-latent"]');
  const map = page.locator('[data-testid="latent-map"]');
  await map.waitFor({ timeout: 120_000 });
  await page.waitForSelector('[data-testid="dims-decoded"]', { timeout: 120_000 });
  const box = (await map.boundingBox())!;
  await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.4);
  await page.mouse.click(box.x + box.width * 0.7, box.y + box.height * 0.6);
  await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.35);
  await page.waitForTimeout(1000);
  await shoot('latent');
  // A second run that differs in its latent size, and the two compared.
  await page.click('[data-testid="nav-train"]');
  await page.fill('[data-testid="latent"]', '2');
  await page.fill('[data-testid="run-name"]', 'mnist-latent2');
  await page.click('[data-testid="start"]');
  await page.waitForSelector('[data-testid="runs"] tr[data-run="mnist-latent2"] .badge.done', { timeout: 600_000 });
  await page.click('[data-testid="nav-models"]');
  await page.check('[data-testid="compare-mnist-latent16"]');
  await page.check('[data-testid="compare-mnist-latent2"]');
  await page.waitForSelector('[data-testid="comparison"] svg');
  await page.waitForTimeout(500);
  await shoot('models');
  console.log('wrote docs/images/studio-train.png, studio-denoise.png, studio-latent.png and studio-models.png');
}

async function textPage(page: Page, shoot: (name: string) => Promise<void>): Promise<void> {
  const corpus = join(data, 'sentences.txt');
  mkdirSync(data, { recursive: true });
  writeFileSync(corpus, `${templateSentences(2000, 11).join('\n')}\n`);
  const out = join(runs, 'sentences');
  const plan = await planRun({
    data: { source: corpus },
    model: { preset: 'text', latent: 16, embedding: 64, encoderHidden: [128], decoderHidden: [128] },
    objective: { wordDropout: 0.3, freeBits: 0.1 },
    training: { epochs: 30, batchSize: 64, learningRate: 0.003 },
    seed: 0, outputs: { dir: out, figures: false },
  });
  await trainRun(plan, { folder: out });
  await page.evaluate('window.location.hash = "#/text?run=sentences"');
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('[data-testid="text-samples"] li', { timeout: 120_000 });
  await page.fill('[data-testid="sentence"]', 'the old farmer feeds the fox near the old bridge');
  await page.press('[data-testid="sentence"]', 'Enter');
  await page.waitForSelector('[data-testid="reconstruction"]');
  await page.waitForSelector('[data-testid="nearest"] li', { timeout: 120_000 });
  await page.fill('[data-testid="interp-from"]', 'the happy child sees the cat in the park');
  await page.fill('[data-testid="interp-to"]', 'a tired horse sleeps by the river at night');
  await page.click('[data-testid="interpolate"]');
  await page.waitForSelector('[data-testid="interpolation"] li');
  await page.waitForTimeout(500);
  await shoot('text');
  console.log('wrote docs/images/studio-text.png');
}

/** A week of 5-minute readings from 2024-03-04: a daily cycle and noise, with three anomalies planted (and labelled 1) in its last 40%. */
function weekOfReadings(): string {
  const rng = new Random(21);
  const step = 5 * 60_000;
  const start = Date.UTC(2024, 2, 4);
  const day = 288;
  const spike = 1500;
  const shift = { from: 1700, to: 1730 };
  const burst = { from: 1880, to: 1920 };
  const rows: string[] = [];
  for (let t = 0; t < 7 * day; t++) {
    let v = 20 + 6 * Math.sin((2 * Math.PI * (t - day / 4)) / day) + 0.6 * rng.normal();
    let label = 0;
    if (t === spike || t === spike + 1) { v += 14; label = 1; }
    if (t >= shift.from && t < shift.to) { v -= 7; label = 1; }
    if (t >= burst.from && t < burst.to) { v += 4 * rng.normal(); label = 1; }
    rows.push(`${new Date(start + t * step).toISOString().slice(0, 16).replace('T', ' ')},${v.toFixed(2)},${label}`);
  }
  return `time,load,label\n${rows.join('\n')}\n`;
}

async function seriesPage(page: Page, shoot: (name: string) => Promise<void>): Promise<void> {
  const file = join(data, 'server-load.csv');
  mkdirSync(data, { recursive: true });
  writeFileSync(file, weekOfReadings());
  const out = join(runs, 'server-load');
  const plan = await planRun({
    data: { source: file, timeColumn: 'time', labelColumn: 'label', window: 48, trainUntil: 0.6 },
    model: { preset: 'series' },
    training: { epochs: 30, batchSize: 64, learningRate: 0.001 },
    seed: 0, outputs: { dir: out, figures: false },
  });
  await trainRun(plan, { folder: out });
  await page.evaluate('window.location.hash = "#/series?run=server-load"');
  await page.reload({ waitUntil: 'load' });
  await page.waitForSelector('[data-testid="series-file"]', { timeout: 120_000 });
  await page.setInputFiles('[data-testid="series-file"]', file);
  await page.waitForFunction('document.querySelector(\'[data-testid="series-label-column"]\')?.value === "label"');
  await page.click('[data-testid="series-score"]');
  await page.waitForSelector('[data-testid="series-chart"] svg', { timeout: 120_000 });
  await page.waitForTimeout(500);
  await shoot('series');
  console.log('wrote docs/images/studio-series.png');
}

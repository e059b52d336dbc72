// vaekit studio end to end in a real browser: the studio runs in this process (startStudio on a
// free port, a temporary runs folder, a data folder with small images this test makes), headless
// Chromium (Debian's, driven by playwright-core) opens the address it printed, and the web UI built
// from web/ (dist/web) is used as a person would: a model is trained from the Train form and its
// curves grow from one epoch to two; a stroke on the Denoise pad changes the denoised image (the
// model runs in the page); hovering two places of the latent map decodes two different images;
// a CSV uploaded on Anomalies is scored (histogram, AUROC, a scores CSV); on Models two runs are
// compared and an export downloads as a zip. No request leaves 127.0.0.1. Each page's screenshot
// is saved in the test's folder (VAEKIT_TEST_KEEP=1 keeps it; docs/images/studio-anomalies.png is one of them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { Random } from '../src/engine/random.js';
import { startStudio } from '../src/studio/server.js';
import { twoClassNpy } from './helpers/cli.js';
import { CHROMIUM_ARGS, chromiumPath, requireTool } from './helpers/outside-tools.js';
import { apiCall, ensureWebBuilt, until, waitForRun } from './helpers/studio.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-studio-e2e-'));
process.on('exit', () => { if (process.env['VAEKIT_TEST_KEEP'] === undefined) rmSync(work, { recursive: true, force: true }); else console.log(`kept ${work}`); });

/**
 * A CSV of 8x8 images as 64 byte columns and a "kind" column: `normal` rows drawn like the
 * training data (bright left half or bright top half), `odd` rows unlike it (a bright bottom-right
 * quadrant only).
 */
function anomalyCsv(path: string, normal: number, odd: number): void {
  const rng = new Random(11);
  const header = [...Array.from({ length: 64 }, (_, p) => `p${p}`), 'kind'].join(',');
  const lines = [header];
  for (let i = 0; i < normal + odd; i++) {
    const isOdd = i >= normal;
    const c = i % 2;
    const row = Array.from({ length: 64 }, (_, p) => {
      const bright = isOdd ? p % 8 >= 4 && Math.floor(p / 8) >= 4 : c === 0 ? p % 8 < 4 : Math.floor(p / 8) < 4;
      return (bright ? 200 : 20) + rng.int(40);
    });
    lines.push(`${row.join(',')},${isOdd ? 'odd' : 'normal'}`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

/** The pixels (RGBA) of the canvas with the test id. */
function canvasPixels(page: Page, testid: string): Promise<number[]> {
  return page.evaluate<number[]>(`(() => {
    const c = document.querySelector('[data-testid="${testid}"]');
    return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
  })()`);
}

/** How many of the values differ. */
function differences(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  return a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);
}

test('vaekit studio in Chromium: train, denoise, latent map, anomalies and models', async (t) => {
  const executablePath = requireTool(t, chromiumPath(), 'chromium');
  if (executablePath === null) return;
  await ensureWebBuilt();

  const data = join(work, 'data');
  mkdirSync(data);
  // Enough examples that an epoch outlasts a redraw of the curves (400 ms), so the chart is seen at one epoch and then at
  // two: with 12,000, a fresh-clone run drew the chart at 0 and then 2 epochs (both epochs within one redraw).
  twoClassNpy(data, 36000);
  anomalyCsv(join(data, 'scan.csv'), 60, 20);
  const runsDir = join(work, 'runs');
  const studio = await startStudio({ port: 0, runsDir, dataRoots: [data], quiet: true });
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  const shots = join(work, 'screenshots');
  mkdirSync(shots);
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const shoot = async (name: string): Promise<string> => {
      const path = join(shots, `studio-${name}.png`);
      await page.screenshot({ path, fullPage: true });
      assert.ok(readFileSync(path).length > 10_000, `${name}: a screenshot with something in it`);
      return path;
    };

    // Signing in: the printed address sets the session cookie and drops the token from the address bar.
    await page.goto(studio.url, { waitUntil: 'load' });
    assert.equal(new URL(page.url()).search, '', 'the token is taken out of the address');
    await page.waitForSelector('[data-testid="train-form"]');

    await t.test('Train: a run started from the form, its curves redrawn as epochs finish', async () => {
      // Every drawing of the curves: the epochs the panel holds and the points (symbol marks) in the chart.
      await page.evaluate(`(() => {
        window.__draws = [];
        new MutationObserver(() => {
          const chart = document.querySelector('[data-testid="curves"]');
          const live = document.querySelector('[data-testid="live"]');
          if (chart === null || live === null || chart.dataset.drawn === window.__lastDrawn) return;
          window.__lastDrawn = chart.dataset.drawn;
          window.__draws.push({ epochs: Number(live.dataset.epochs), points: chart.querySelectorAll('g.mark-symbol.role-mark path').length });
        }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-drawn'] });
      })()`);
      await page.check('[data-testid="source-path"]');
      await page.fill('[data-testid="data-path"]', 'x.npy');
      await page.fill('[data-testid="labels-path"]', 'y.npy');
      await page.locator('[data-testid="data-path"]').dispatchEvent('change');
      await page.waitForSelector('[data-testid="described"]');
      assert.match(await page.textContent('[data-testid="described"]') ?? '', /36,000 examples of shape \[8 × 8 × 1\], classes 0, 1/);
      await page.fill('[data-testid="latent"]', '3');
      await page.fill('[data-testid="epochs"]', '2');
      await page.fill('[data-testid="run-name"]', 'e2e');
      await page.click('[data-testid="start"]');
      await page.waitForSelector('[data-testid="live"][data-status="done"]', { timeout: 120_000 });
      await until(() => page.evaluate<Array<{ epochs: number }>>('window.__draws'), (d) => d.some((x) => x.epochs === 2), 'the curves drawn at 2 epochs');
      const draws = await page.evaluate<Array<{ epochs: number; points: number }>>('window.__draws');
      t.diagnostic(`curves drawn: ${JSON.stringify(draws)}`);
      const one = draws.find((d) => d.epochs === 1);
      const two = draws.find((d) => d.epochs === 2);
      assert.ok(one !== undefined, `the chart was drawn after the first epoch: ${JSON.stringify(draws)}`);
      assert.ok(two !== undefined && one.points > 0 && two.points > one.points, `more points after the second epoch: ${JSON.stringify(draws)}`);
      // Training and validation for each of the three quantities: one point each per epoch.
      assert.equal(two.points, 2 * one.points);
      await page.waitForSelector('[data-testid="figures"] img');
      await page.waitForSelector('[data-testid="runs"] tr[data-run="e2e"] .badge.done');
      assert.match(await page.textContent('[data-testid="live"]') ?? '', /Test: negative ELBO \d+\.\d\d nats/);
      await shoot('train');
    });

    await t.test('Denoise: a stroke on the pad changes the denoised image, computed in the page', async () => {
      await page.click('[data-testid="nav-denoise"]');
      await page.waitForSelector('[data-testid="denoised"]');
      const before = await until(() => canvasPixels(page, 'denoised'), (p) => p.length === 8 * 8 * 4, 'the denoised image at the model\'s size');
      const apiBefore = requests.filter((u) => u.includes('/api/')).length;
      const pad = (await page.locator('[data-testid="draw-pad"]').boundingBox())!;
      await page.mouse.move(pad.x + pad.width * 0.2, pad.y + pad.height * 0.15);
      await page.mouse.down();
      for (let i = 1; i <= 12; i++) await page.mouse.move(pad.x + pad.width * 0.2, pad.y + pad.height * (0.15 + 0.06 * i));
      await page.mouse.up();
      const after = await until(() => canvasPixels(page, 'denoised'), (p) => differences(p, before) > 0, 'the denoised image after the stroke');
      t.diagnostic(`${differences(after, before) / 4} of 64 denoised pixels changed`);
      const clean = await canvasPixels(page, 'clean');
      assert.ok(clean.some((v, i) => i % 4 === 0 && v > 100), 'the stroke shows in the clean input');
      assert.equal(requests.filter((u) => u.includes('/api/')).length, apiBefore, 'no request to the server while drawing');
      // A test example on the pad for the picture: clean, noisy and denoised side by side.
      await page.click('[data-testid="load-example"]');
      await until(() => canvasPixels(page, 'denoised'), (p) => differences(p, after) > 0, 'the denoised test example');
      await shoot('denoise');
    });

    await t.test('Latent: hovering two places decodes two different images; two clicks interpolate', async () => {
      await page.click('[data-testid="nav-latent"]');
      const map = page.locator('[data-testid="latent-map"]');
      await map.waitFor({ timeout: 60_000 });
      await page.waitForSelector('[data-testid="legend"] li');
      const box = (await map.boundingBox())!;
      const at = (fx: number, fy: number): [number, number] => [box.x + 56 + fx * (box.width - 70), box.y + 14 + fy * (box.height - 58)];
      await page.mouse.move(...at(0.2, 0.25));
      const first = await until(() => canvasPixels(page, 'hover-decoded'), (p) => p.some((v, i) => i % 4 === 0 && v > 0), 'a decoded image under the cursor');
      await page.mouse.move(...at(0.8, 0.75));
      const second = await until(() => canvasPixels(page, 'hover-decoded'), (p) => differences(p, first) > 0, 'another image at another place');
      t.diagnostic(`${differences(first, second) / 4} of 64 pixels differ between the two places`);
      await page.mouse.click(...at(0.15, 0.5));
      await page.mouse.click(...at(0.85, 0.5));
      await page.waitForSelector('[data-testid="interpolation"] canvas');
      assert.equal(await page.locator('[data-testid="interpolation"] canvas').count(), 10);
      await page.waitForSelector('[data-testid="dims-decoded"]', { timeout: 60_000 });
      await page.mouse.move(...at(0.62, 0.3));
      await shoot('latent');
    });

    await t.test('Anomalies: an uploaded CSV is scored, with a histogram, the AUROC and a scores CSV', async () => {
      await page.click('[data-testid="nav-anomalies"]');
      await page.setInputFiles('[data-testid="anomaly-file"]', join(data, 'scan.csv'));
      await page.fill('[data-testid="label-column"]', 'kind');
      await page.fill('[data-testid="normal-class"]', 'normal');
      await page.click('[data-testid="score"]');
      await page.waitForSelector('[data-testid="histogram"] svg g.mark-rect path', { timeout: 60_000 });
      const summary = await page.textContent('[data-testid="anomaly-summary"]') ?? '';
      assert.match(summary, /80 examples scored/);
      const auroc = /(\d+\.\d\d)% AUROC \(normal class: normal\)/.exec(summary);
      assert.ok(auroc !== null, summary);
      t.diagnostic(`AUROC ${auroc[1]}%`);
      assert.ok(Number(auroc[1]) > 90, 'the odd quadrant images score higher than the normal ones');
      assert.equal(await page.locator('[data-testid="top-anomalies"] canvas').count(), 8);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="scores-csv"]')]);
      const csvPath = join(work, 'scores.csv');
      await download.saveAs(csvPath);
      const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
      assert.equal(lines.length, 81, 'a header and one row per example');
      assert.equal(await page.locator('[data-testid="worse-than-chance"]').count(), 0, 'a good AUROC is not flagged');
      await shoot('anomalies');
      // The wrong class called normal: an AUROC under 50% is flagged, with what to check.
      await page.fill('[data-testid="normal-class"]', 'odd');
      await page.click('[data-testid="score"]');
      await page.waitForSelector('[data-testid="worse-than-chance"]', { timeout: 60_000 });
      assert.match(await page.textContent('[data-testid="anomaly-summary"]') ?? '', /\d+\.\d\d% AUROC \(normal class: odd\)/);
      assert.match(await page.textContent('[data-testid="worse-than-chance"]') ?? '', /worse than a coin.*Check that the normal class is the one the model was trained on/);
    });

    await t.test('Models: two runs compared on one chart; an export downloads as a zip', async () => {
      // A second, smaller run to compare with, trained through the API.
      const { id } = await apiCall<{ id: string }>(studio, '/api/runs', { name: 'e2e-small', spec: { data: { source: 'x.npy', labels: 'y.npy', limit: 3000 }, model: { latent: 2 }, training: { epochs: 2 } } });
      await waitForRun(studio, id);
      await page.click('[data-testid="nav-models"]');
      await page.reload();
      await page.waitForSelector(`[data-testid="models-table"] tr[data-run="${id}"]`);
      await page.check('[data-testid="compare-e2e"]');
      await page.check(`[data-testid="compare-${id}"]`);
      await page.waitForSelector('[data-testid="comparison"] svg g.mark-line path');
      assert.equal(await page.locator('[data-testid="comparison"] svg g.mark-line path').count(), 4, 'two runs, training and validation');
      await page.click('[data-testid="models-table"] tr[data-run="e2e"] a');
      await page.waitForSelector('[data-testid="model-curves"] svg');
      const reportHref = await page.getAttribute('[data-testid="report-link"]', 'href');
      const report = await page.request.get(new URL(reportHref!, page.url()).href);
      assert.equal(report.status(), 200, 'the report link opens the run\'s report');
      assert.match(await report.text(), /<h1>vaekit report: e2e<\/h1>/);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="export-onnx"]')]);
      assert.equal(download.suggestedFilename(), 'e2e-onnx.zip');
      const zipPath = join(work, 'e2e-onnx.zip');
      await download.saveAs(zipPath);
      const zip = readFileSync(zipPath);
      assert.equal(zip.subarray(0, 4).toString('latin1'), 'PK\u0003\u0004', 'a zip file');
      assert.ok(zip.includes(Buffer.from('.onnx')), 'with the ONNX model in it');
      await shoot('models');
    });

    await t.test('Two tabs: a training started elsewhere appears in both, and ends in both, without a click', async () => {
      const second = await page.context().newPage();
      try {
        for (const tab of [page, second]) {
          await tab.goto(`http://127.0.0.1:${studio.port}/#/train`);
          await tab.waitForSelector('[data-testid="runs"] tr[data-run="e2e"]');
        }
        // Started by another client (the API, as another tab's form does): neither tab is touched.
        // Noise so faint that a tiny model's reconstructions are further from the clean images than the noisy input.
        await apiCall(studio, '/api/runs', { name: 'pushed', spec: { data: { source: 'x.npy', labels: 'y.npy' }, model: { latent: 2 }, training: { epochs: 3 }, noise: { input: 'gaussian:0.01' } } });
        for (const tab of [page, second]) await tab.waitForSelector('[data-testid="runs"] tr[data-run="pushed"]', { timeout: 30_000 });
        await waitForRun(studio, 'pushed');
        for (const tab of [page, second]) await tab.waitForSelector('[data-testid="runs"] tr[data-run="pushed"] .badge.done', { timeout: 30_000 });
        // A result worse than doing nothing is flagged, with what to try.
        await second.click('[data-testid="runs"] tr[data-run="pushed"] a');
        await second.waitForSelector('[data-testid="live"][data-status="done"] [data-testid="worse-than-nothing"]');
        assert.match(await second.textContent('[data-testid="worse-than-nothing"]') ?? '', /further from the clean ones than the noisy input was .*: train for more epochs/);
        assert.match(await second.textContent('[data-testid="live"] .metrics') ?? '', /nats per example .* dB \(noisy input\) → .* dB \(denoised\)/);
        await second.screenshot({ path: join(shots, 'studio-worse-than-nothing.png'), fullPage: true });
      } finally {
        await second.close();
      }
    });

    await t.test('Another origin: a page of another local server, in the signed-in browser, changes nothing', async () => {
      const before = await apiCall<{ runs: Array<{ id: string }> }>(studio, '/api/runs');
      // The attacks of a page on another port of 127.0.0.1: the browser sends the studio's cookie with each.
      const evil = createServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><title>elsewhere</title>
<form id="f" method="POST" action="http://127.0.0.1:${studio.port}/api/runs" enctype="text/plain" target="sink">
<input name='{"name":"forged-form","spec":{"training":{"epochs":1}},"x":"' value='"}'></form><iframe name="sink"></iframe>
<script>
const studio = 'http://127.0.0.1:${studio.port}';
const spec = JSON.stringify({ name: 'forged', spec: { data: { source: 'x.npy', labels: 'y.npy' }, training: { epochs: 1 } } });
window.results = [];
(async () => {
  for (const init of [
    { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: spec },
    { method: 'POST', mode: 'cors', credentials: 'include', headers: { 'Content-Type': 'application/json' }, body: spec },
    { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{}', path: '/api/runs/e2e/stop' },
  ]) {
    try { const r = await fetch(studio + (init.path ?? '/api/runs'), init); window.results.push(r.type + ' ' + r.status); }
    catch (e) { window.results.push('refused: ' + e.message); }
  }
  document.getElementById('f').submit();
  window.done = true;
})();
</script>`);
      });
      await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
      const evilPort = (evil.address() as AddressInfo).port;
      const other = await page.context().newPage();
      try {
        const seen: Array<{ url: string; status: number }> = [];
        other.on('response', (r) => { if (r.url().includes(`:${studio.port}/`)) seen.push({ url: r.url(), status: r.status() }); });
        await other.goto(`http://127.0.0.1:${evilPort}/`);
        await other.waitForFunction('window.done === true');
        await until(() => Promise.resolve(seen.length), (n) => n >= 2, 'the studio\'s answers to the forged requests');
        await other.waitForTimeout(500);
        t.diagnostic(`forged requests: ${JSON.stringify(await other.evaluate('window.results'))}; studio answered ${JSON.stringify(seen)}`);
        for (const r of seen) assert.equal(r.status, 403, `${r.url} was answered ${r.status}`);
      } finally {
        await other.close();
        await new Promise<void>((resolve) => evil.close(() => resolve()));
      }
      const after = await apiCall<{ runs: Array<{ id: string }> }>(studio, '/api/runs');
      assert.deepEqual(after.runs.map((r) => r.id), before.runs.map((r) => r.id), 'no run was started');
      assert.ok(!existsSync(join(runsDir, 'forged')) && !existsSync(join(runsDir, 'forged-form')));
    });

    const port = `http://127.0.0.1:${studio.port}/`;
    const outside = requests.filter((u) => !u.startsWith(port) && !u.startsWith('data:') && !u.startsWith('blob:'));
    assert.deepEqual(outside, [], 'no request left 127.0.0.1');
    assert.deepEqual(problems, [], 'no errors in the page');
    t.diagnostic(`screenshots in ${shots}${process.env['VAEKIT_TEST_KEEP'] === undefined ? ' (VAEKIT_TEST_KEEP=1 keeps them)' : ''}`);
  } finally {
    await browser.close();
    await studio.close();
  }
});

// The Models page of vaekit studio in Chromium (Debian's, driven by playwright-core): two small runs
// trained through the API that differ in their latent size and their β. The runs table names the
// settings the runs differ in on each row (those and no others), says the settings they share once
// above it, and gives every number its unit; ticking both runs compares them: the two differing
// settings first and marked, the rest after, their metrics side by side with units, and their
// curves on one chart. Screenshots of the page and the comparison are saved in the test's folder
// (VAEKIT_TEST_KEEP=1 keeps them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startStudio } from '../src/studio/server.js';
import { formFieldOf } from '../src/studio/words.js';
import { twoClassNpy } from './helpers/cli.js';
import { CHROMIUM_ARGS, chromiumPath, requireTool } from './helpers/outside-tools.js';
import { apiCall, ensureWebBuilt, waitForRun } from './helpers/studio.js';

const work = mkdtempSync(join(tmpdir(), 'vaekit-studio-models-'));
process.on('exit', () => { if (process.env['VAEKIT_TEST_KEEP'] === undefined) rmSync(work, { recursive: true, force: true }); else console.log(`kept ${work}`); });

/** The settings (data-setting, text) of the elements a selector finds. */
const SETTINGS_OF = (selector: string): string => `Array.from(document.querySelectorAll(${JSON.stringify(selector)}), (e) => [e.dataset.setting, e.textContent])`;

test('Models page in Chromium: the runs table names the settings runs differ in, with units; two runs compared', async (t) => {
  const executablePath = requireTool(t, chromiumPath(), 'chromium');
  if (executablePath === null) return;
  await ensureWebBuilt();
  const data = join(work, 'data');
  mkdirSync(data);
  twoClassNpy(data, 1000);
  const studio = await startStudio({ port: 0, runsDir: join(work, 'runs'), dataRoots: [data], quiet: true });
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    // Two runs alike but for the latent size and β.
    const runs = [{ name: 'narrow', latent: 2, beta: 1 }, { name: 'wide', latent: 3, beta: 0.5 }];
    for (const r of runs) {
      await apiCall(studio, '/api/runs', { name: r.name, spec: { data: { source: 'x.npy', labels: 'y.npy' }, model: { latent: r.latent }, objective: { beta: r.beta }, training: { epochs: 1 } } });
      await waitForRun(studio, r.name);
    }
    const latent = formFieldOf('model.latent')!;
    const beta = formFieldOf('objective.beta')!;

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(studio.url, { waitUntil: 'load' });
    await page.click('[data-testid="nav-models"]');
    await page.waitForSelector('[data-testid="models-table"] tr[data-run="wide"] [data-testid="differs"] .setting');

    // Each row names the two settings its run differs in, with its own values, and nothing else.
    for (const r of runs) {
      const named = await page.evaluate<string[][]>(SETTINGS_OF(`tr[data-run="${r.name}"] [data-testid="differs"] .setting`));
      assert.deepEqual(named, [['model.latent', `${latent} ${r.latent}`], ['objective.beta', `${beta} ${r.beta}`]], `the row of ${r.name}`);
    }
    // The settings the runs share are said once, above the table, and not per row.
    const common = await page.evaluate<string[][]>(SETTINGS_OF('[data-testid="common-settings"] .setting'));
    const shared = new Map(common.map(([field, text]) => [field!, text!]));
    assert.ok(!shared.has('model.latent') && !shared.has('objective.beta'), 'the differing settings are not among the shared ones');
    assert.equal(shared.get('training.epochs'), `${formFieldOf('training.epochs')} 1`);
    assert.equal(shared.get('seed'), `${formFieldOf('seed')} 0`);
    assert.match(shared.get('noise.input') ?? '', /^Noise Gaussian σ 0\.2$/);
    assert.match(shared.get('data.source') ?? '', /^Data x\.npy.* \[8×8×1\]$/);
    assert.match(await page.textContent('[data-testid="common-settings"]') ?? '', /^All runs:/);
    // Units on every number: in the headers of the columns of numbers.
    const heads = (await page.locator('[data-testid="models-table"] thead th').allTextContents()).map((h) => h.trim());
    for (const unit of [/^val\. loss\s*nats per example$/, /^test −ELBO\s*nats per example$/, /^PSNR\s*dB, noisy → denoised$/, /^time\s*s$/]) {
      assert.ok(heads.some((h) => unit.test(h)), `a header ${unit}: ${JSON.stringify(heads)}`);
    }
    const cells = await page.locator('tr[data-run="wide"] td.num').allTextContents();
    assert.equal(cells[0], '1 of 1', 'epochs done of epochs');
    assert.match(cells[1]!, /^\d+\.\d\d$/, 'the validation loss');
    assert.match(cells[3]!, /^\d+\.\d → \d+\.\d$/, 'PSNR noisy → denoised');
    assert.match(cells[4]!, /^\d+\.\d$/, 'the training time');
    await page.screenshot({ path: join(work, 'studio-models-page.png'), fullPage: true });

    // The comparison: the differing settings first and marked, then the rest; metrics with units; both runs' curves.
    await page.check('[data-testid="compare-narrow"]');
    await page.check('[data-testid="compare-wide"]');
    await page.waitForSelector('[data-testid="comparison"] svg g.mark-symbol.role-mark path');
    const rows = await page.evaluate<Array<[string, string, string]>>(`Array.from(document.querySelectorAll('[data-testid="comparison-settings"] tbody tr'), (tr) => [tr.dataset.setting, tr.dataset.differs, tr.textContent])`);
    assert.deepEqual(rows.filter((r) => r[1] === 'true').map((r) => r[0]), ['model.latent', 'objective.beta'], 'the differing settings');
    assert.deepEqual(rows.slice(0, 2).map((r) => r[0]), ['model.latent', 'objective.beta'], 'listed first');
    assert.equal(rows[0]![2], `≠${latent}23`);
    assert.ok(rows.length > 10 && rows.slice(2).every((r) => r[1] === 'false' && !r[2].startsWith('≠')), 'the rest after them, unmarked');
    assert.equal(await page.textContent('[data-testid="comparison-differs"]'), `They differ in ${latent} (2 vs 3) and ${beta} (1 vs 0.5).`);
    const metrics = await page.locator('[data-testid="comparison-metrics"] tbody tr').allTextContents();
    assert.ok(metrics.some((m) => /^Test −ELBO\d+\.\d\d nats per example\d+\.\d\d nats per example$/.test(m)), JSON.stringify(metrics));
    assert.ok(metrics.some((m) => /^PSNR denoised\d+\.\d\d dB\d+\.\d\d dB$/.test(m)));
    assert.ok(metrics.some((m) => /^Training time\d+\.\d\d s\d+\.\d\d s$/.test(m)));
    // One point per run and split: training and validation of each of the two runs.
    assert.equal(await page.locator('[data-testid="comparison"] svg g.mark-symbol.role-mark path').count(), 4);
    const comparison = join(work, 'studio-comparison.png');
    // From the top of the page, so the bar of pages (which stays at the top of the window) does not cover the card.
    await page.evaluate('window.scrollTo(0, 0)');
    const card = (await page.locator('section.card', { has: page.locator('[data-testid="comparison"]') }).boundingBox())!;
    await page.screenshot({ path: comparison, fullPage: true, clip: card });
    assert.ok(readFileSync(comparison).length > 10_000, 'a screenshot with something in it');
    assert.deepEqual(problems, [], 'no errors in the page');
    t.diagnostic(`screenshots in ${work}${process.env['VAEKIT_TEST_KEEP'] === undefined ? ' (VAEKIT_TEST_KEEP=1 keeps them)' : ''}`);
  } finally {
    await browser.close();
    await studio.close();
  }
});

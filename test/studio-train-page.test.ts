// The studio's Train page in a real browser (Debian's chromium, driven by playwright-core), as
// test/studio-e2e.test.ts runs it: every setting of the form says in one line what it does, and
// its "more" shows the rest of its paragraph in docs/studio.md (read here by this test); free bits
// and a KL warm-up set on the form reach the run's spec (run.json); while a run trains, the live
// panel shows the epoch time and the time left in seconds, and its curves get a point at every
// progress event (more points than epochs); a second run's panel never shows the first run's
// curves or figures; Stop pressed during the final evaluation says what it waits for; after a
// run's end Start is enabled again and nothing says "training"; after the studio restarts, the open
// tab shows the run's true state (same token) or says to reload the page (another token).
// Screenshots are saved in the test's folder (VAEKIT_TEST_KEEP=1 keeps them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startStudio } from '../src/studio/server.js';
import { twoClassNpy } from './helpers/cli.js';
import { CHROMIUM_ARGS, chromiumPath, requireTool } from './helpers/outside-tools.js';
import { apiCall, ensureWebBuilt } from './helpers/studio.js';

const ROOT = join(import.meta.dirname, '..');

const work = mkdtempSync(join(tmpdir(), 'vaekit-studio-train-'));
process.on('exit', () => { if (process.env['VAEKIT_TEST_KEEP'] === undefined) rmSync(work, { recursive: true, force: true }); else console.log(`kept ${work}`); });

/** The settings of the Train form, by their anchors in docs/studio.md. */
const SETTINGS = [
  'train-preset', 'train-latent', 'train-beta', 'train-likelihood', 'train-noise', 'train-free-bits', 'train-kl-warmup',
  'train-epochs', 'train-limit', 'train-seed', 'train-conditional', 'train-bf16',
];

/** docs/studio.md's text of a setting, read here independently of the page: its first paragraph and the rest, without markdown's backticks. */
function docsOf(markdown: string, id: string): { line: string; more: string[] } {
  const section = markdown.slice(markdown.indexOf("\n## The Train form's settings\n"));
  const m = new RegExp(`\\n### <a id="${id}"></a>[^\\n]*\\n([\\s\\S]*?)(?=\\n### |\\n## |$)`).exec(section);
  assert.ok(m !== null, `docs/studio.md has the setting ${id}`);
  const paragraphs = m[1]!.split(/\n\s*\n/).map((p) => p.replace(/`/g, '').replace(/\s+/g, ' ').trim()).filter((p) => p !== '');
  assert.ok(paragraphs.length >= 2, `${id}: a line and a paragraph`);
  return { line: paragraphs[0]!, more: paragraphs.slice(1) };
}

const squeeze = (text: string | null): string => (text ?? '').replace(/\s+/g, ' ').trim();

/** The number of points of the within-epoch line of the curves' loss panel (vega draws a line as "M x,y L x,y ..."). */
function runningPoints(page: Page): Promise<number> {
  return page.evaluate<number>(`(() => {
    const path = document.querySelector('[data-testid="curves"] g.mark-line path[stroke="#8fbbe0"]');
    return path === null ? 0 : (path.getAttribute('d').match(/[ML]/g) || []).length;
  })()`);
}

test('vaekit studio\'s Train page in Chromium: explained settings, live pace and curves, clean panels, restarts', async (t) => {
  const executablePath = requireTool(t, chromiumPath(), 'chromium');
  if (executablePath === null) return;
  await ensureWebBuilt();
  const docs = readFileSync(join(ROOT, 'docs', 'studio.md'), 'utf8');

  const data = join(work, 'data');
  mkdirSync(data);
  twoClassNpy(data, 3000);
  const runsDir = join(work, 'runs');
  let studio = await startStudio({ port: 0, runsDir, dataRoots: [data], quiet: true });
  const port = studio.port;
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  const shots = join(work, 'screenshots');
  mkdirSync(shots);
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 1900 } })).newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const shoot = async (name: string): Promise<void> => {
      await page.screenshot({ path: join(shots, `train-${name}.png`), fullPage: true });
    };
    await page.goto(studio.url, { waitUntil: 'load' });
    await page.waitForSelector('[data-testid="train-form"]');

    await t.test('each setting says what it does in one line; "more" shows the rest of its paragraph in docs/studio.md', async () => {
      for (const id of SETTINGS) {
        const setting = page.locator(`[data-setting="${id}"]`);
        assert.equal(await setting.count(), 1, `${id}: one setting`);
        assert.ok(await setting.locator('input, select').count() >= 1, `${id}: the help is with its control`);
        const { line, more } = docsOf(docs, id);
        assert.equal(squeeze(await setting.locator('.help-line').textContent()), `${line} more`, `${id}: its line of help, then the toggle`);
        assert.equal(await page.locator(`[data-testid="help-${id}"]`).count(), 0, `${id}: the paragraph is folded`);
        await page.click(`[data-testid="more-${id}"]`);
        const shown = squeeze(await page.textContent(`[data-testid="help-${id}"]`));
        for (const p of more) assert.ok(shown.startsWith(p) || shown.includes(p), `${id}: the docs' paragraph is shown: ${p.slice(0, 60)}…\n got ${shown.slice(0, 200)}`);
        assert.match(shown, /docs\/studio\.md, “The Train form's settings”/);
        if (id !== 'train-beta' && id !== 'train-kl-warmup') await page.click(`[data-testid="more-${id}"]`);
      }
      // The texts wrap inside the form's column: nothing runs past the window (a page-wide rule once made them one line each).
      const widths = await page.evaluate<{ page: number; window: number }>('({ page: document.documentElement.scrollWidth, window: window.innerWidth })');
      assert.ok(widths.page <= widths.window, `the page fits the window: ${JSON.stringify(widths)}`);
      await shoot('explained');
      await page.click('[data-testid="more-train-kl-warmup"]');
    });

    await t.test('free bits and a KL warm-up reach the run spec; epoch time, time left and curves within epochs while it trains; the end frees Start', async () => {
      // MNIST's first 24,000 images: epochs long enough (one to two seconds here) for several progress events (every 250 ms) each.
      await page.fill('[data-testid="limit"]', '24000');
      await page.fill('[data-testid="latent"]', '3');
      await page.fill('[data-testid="epochs"]', '3');
      await page.fill('[data-testid="free-bits"]', '0.25');
      await page.selectOption('[data-testid="kl-warmup"]', 'linear');
      await page.fill('[data-testid="kl-warmup-epochs"]', '2');
      await page.fill('[data-testid="run-name"]', 'first');
      await page.click('[data-testid="start"]');
      const pace = page.locator('[data-testid="live"][data-run="first"][data-phase="training"] [data-testid="pace"]');
      await pace.waitFor({ timeout: 30_000 });
      const paceText = squeeze(await pace.textContent());
      t.diagnostic(`live: ${paceText}`);
      assert.match(paceText, /^Epoch time (about )?\d+(\.\d)? s( \(epoch \d\))? · about (\d+(\.\d)? s|\d+ min \d\d s) left$/);
      assert.match(squeeze(await page.textContent('[data-testid="progress"]')), /^\d+% · Epoch \d of 3 · step \d+ of \d+ · loss \d+\.\d\d .* \(nats per example, running mean of the epoch\)$/);
      await page.waitForSelector('[data-testid="live"][data-run="first"][data-epochs="1"][data-phase="training"] [data-testid="pace"]', { timeout: 30_000 });
      for (let i = 0; i < 40 && await runningPoints(page) < 3; i++) await page.waitForTimeout(50);
      await shoot('running');
      await page.waitForSelector('[data-testid="live"][data-run="first"][data-status="done"]', { timeout: 60_000 });

      const { spec } = JSON.parse(readFileSync(join(runsDir, 'first', 'run.json'), 'utf8')) as { spec: { objective: { freeBits: number; klWarmup: string }; model: { latent: number } } };
      assert.equal(spec.objective.freeBits, 0.25);
      assert.equal(spec.objective.klWarmup, 'linear:2');
      assert.equal(spec.model.latent, 3);
      const details = await apiCall<{ records: Array<{ beta: number }> }>(studio, '/api/runs/first');
      assert.deepEqual(details.records.map((r) => r.beta), [0.5, 1, 1], 'the KL weight warmed up over 2 epochs');

      const points = await runningPoints(page);
      t.diagnostic(`within-epoch points on the chart: ${points}`);
      assert.ok(points > 3, `more points than epochs on the curves: ${points}`);
      assert.ok(await page.isEnabled('[data-testid="start"]'), 'Start is enabled after the end');
      assert.equal(await page.locator('[data-testid="training-now"]').count(), 0);
      assert.equal(await page.locator('.badge.running').count(), 0, 'no run is shown running');
      assert.doesNotMatch(squeeze(await page.textContent('main')), /is training|reconnecting/);
      assert.equal(await page.locator('[data-testid="pace"], [data-testid="progress"]').count(), 0, 'no live lines after the end');
    });

    await t.test('a second run\'s panel starts empty; Stop during the final evaluation says what it waits for', async () => {
      // Every state of the live panel from here on: the run it shows, its epochs, the title of its chart and its figures.
      await page.evaluate(`(() => {
        window.__states = [];
        const note = () => {
          const live = document.querySelector('[data-testid="live"]');
          if (live === null) return;
          const titles = Array.from(document.querySelectorAll('[data-testid="curves"] svg .role-title-text'), (e) => e.textContent).join(' | ');
          window.__states.push({ run: live.dataset.run, epochs: Number(live.dataset.epochs), chart: titles, figures: live.querySelectorAll('[data-testid="figures"] img').length });
        };
        new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
      })()`);
      assert.ok((await page.locator('[data-testid="curves"] svg .role-title-text').allTextContents()).includes('Training curves of first'), 'the first run\'s curves are on screen');
      assert.equal(await page.locator('[data-testid="figures"] img').count(), 2, 'and its figures');
      // MNIST validates on its 10,000 test images: with few training images, most of the run is its final evaluation.
      await page.fill('[data-testid="limit"]', '2000');
      await page.fill('[data-testid="epochs"]', '1');
      await page.fill('[data-testid="free-bits"]', '0');
      await page.selectOption('[data-testid="kl-warmup"]', 'none');
      await page.fill('[data-testid="run-name"]', 'second');
      await page.click('[data-testid="start"]');
      await page.waitForSelector('[data-testid="live"][data-run="second"][data-phase="final-evaluation"]', { timeout: 60_000 });
      await page.click('[data-testid="stop"]');
      assert.match(squeeze(await page.textContent('[data-testid="stopping"]')), /^Stopping: the last epoch has ended, so the final evaluation on the validation examples finishes first/);
      await shoot('stopping');
      await page.waitForSelector('[data-testid="live"][data-run="second"][data-status="done"]', { timeout: 60_000 });
      await page.waitForSelector('[data-testid="stopping"]', { state: 'detached' });
      const states = await page.evaluate<Array<{ run: string; epochs: number; chart: string; figures: number }>>('window.__states');
      const second = states.filter((s) => s.run === 'second');
      assert.ok(second.length > 0, 'the panel showed the second run');
      for (const s of second) assert.ok(!s.chart.includes('first'), `no curves of the first run on the second's panel: ${JSON.stringify(s)}`);
      for (const s of second.filter((x) => x.epochs === 0)) assert.equal(s.figures, 0, `no figures before the second run's first epoch: ${JSON.stringify(s)}`);
      assert.deepEqual(second[0], { run: 'second', epochs: 0, chart: '', figures: 0 }, 'the second run\'s panel starts empty');
      assert.ok(await page.isEnabled('[data-testid="start"]'), 'Start is enabled after the end');
      assert.equal(await page.locator('.badge.running').count(), 0, 'no run is shown running');
      assert.doesNotMatch(squeeze(await page.textContent('main')), /is training/);
    });

    await t.test('after a restart the open tab shows the true state (same token), or says to reload the page (another token)', async () => {
      await apiCall(studio, '/api/runs', { name: 'third', spec: { data: { source: 'x.npy', labels: 'y.npy' }, model: { latent: 2 }, training: { epochs: 100_000 } } });
      await page.click('[data-testid="runs"] tr[data-run="third"] a');
      await page.waitForSelector('[data-testid="live"][data-run="third"][data-phase="training"] [data-testid="progress"]', { timeout: 30_000 });
      assert.ok(await page.isDisabled('[data-testid="start"]'), 'Start is disabled while it trains');
      await studio.close();
      await page.waitForSelector('[data-testid="connection"][data-connection="reconnecting"]', { timeout: 10_000 });
      studio = await startStudio({ port, runsDir, dataRoots: [data], quiet: true });
      await page.waitForSelector('[data-testid="live"][data-run="third"][data-status="stopped"]', { timeout: 20_000 });
      await page.waitForSelector('[data-testid="runs"] tr[data-run="third"] .badge.stopped');
      await page.waitForSelector('[data-testid="connection"]', { state: 'detached' });
      assert.ok(await page.isEnabled('[data-testid="start"]'), 'Start is enabled: nothing trains');
      assert.equal(await page.locator('.badge.running').count(), 0, 'no run is shown running');
      assert.doesNotMatch(squeeze(await page.textContent('main')), /is training|still running/i);
      await page.waitForSelector('[data-testid="resume-third"]');

      await studio.close();
      studio = await startStudio({ port, runsDir, dataRoots: [data], quiet: true, token: 'another-token-0123456789' });
      const banner = page.locator('[data-testid="connection"][data-connection="refused"]');
      await banner.waitFor({ timeout: 20_000 });
      assert.equal(squeeze(await banner.textContent()), 'The studio restarted: reload the page (open the address it printed).');
      assert.equal(await page.locator('[data-testid="live"] .badge.running').count(), 0);
      await shoot('restarted');
      // Every page says so, not only Train.
      await page.click('[data-testid="nav-models"]');
      await page.waitForSelector('main[data-page="models"] [data-testid="connection"][data-connection="refused"]');
    });

    const own = `http://127.0.0.1:${port}/`;
    const outside = requests.filter((u) => !u.startsWith(own) && !u.startsWith('data:') && !u.startsWith('blob:'));
    assert.deepEqual(outside, [], 'no request left 127.0.0.1');
    assert.deepEqual(problems, [], 'no errors in the page');
    t.diagnostic(`screenshots in ${shots}${process.env['VAEKIT_TEST_KEEP'] === undefined ? ' (VAEKIT_TEST_KEEP=1 keeps them)' : ''}`);
  } finally {
    await browser.close();
    await studio.close();
  }
});

// The README's studio screenshots, on MNIST: `node --import tsx scripts/studio-screenshots.ts`
// starts the studio in a temporary runs folder, trains the seed preset (latent 16) on the first
// 20,000 MNIST training images for 3 epochs from the Train form in Debian's Chromium, and saves the
// Train page while it trains (β's longer help open, the epoch time and time left, the curves within
// the epoch), the Denoise (a test digit on the pad) and Latent space pages, and, after a second run
// with latent size 2, the Models page's comparison of the two, to docs/images/studio-*.png.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startStudio } from '../src/studio/server.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const runs = mkdtempSync(join(tmpdir(), 'vaekit-shots-'));
const studio = await startStudio({ port: 0, runsDir: runs, quiet: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const shoot = async (name: string): Promise<void> => {
    // From the top: the bar of pages sticks to the top of the window, and a full-page shot paints it where the window was scrolled.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join('docs', 'images', `studio-${name}.png`), fullPage: true });
  };
  await page.goto(studio.url, { waitUntil: 'load' });
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
} finally {
  await browser.close();
  await studio.close();
  rmSync(runs, { recursive: true, force: true });
}

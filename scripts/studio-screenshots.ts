// The README's studio screenshots, on MNIST: `node --import tsx scripts/studio-screenshots.ts`
// starts the studio in a temporary runs folder, trains the seed preset (latent 16) on the first
// 20,000 MNIST training images for 3 epochs from the Train form in Debian's Chromium, and saves the
// Train, Denoise (a test digit on the pad) and Latent space pages to docs/images/studio-*.png.
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
  const shoot = (name: string): Promise<Buffer> => page.screenshot({ path: join('docs', 'images', `studio-${name}.png`), fullPage: true });
  await page.goto(studio.url, { waitUntil: 'load' });
  await page.waitForSelector('[data-testid="train-form"]');
  await page.fill('[data-testid="latent"]', '16');
  await page.fill('[data-testid="epochs"]', '3');
  await page.fill('[data-testid="limit"]', '20000');
  await page.fill('[data-testid="run-name"]', 'mnist-latent16');
  await page.click('[data-testid="start"]');
  await page.waitForSelector('[data-testid="live"][data-status="done"]', { timeout: 600_000 });
  await page.waitForSelector('[data-testid="figures"] img');
  await shoot('train');
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
  console.log('wrote docs/images/studio-train.png, studio-denoise.png and studio-latent.png');
} finally {
  await browser.close();
  await studio.close();
  rmSync(runs, { recursive: true, force: true });
}

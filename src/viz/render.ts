/**
 * SVG to PNG with the DejaVu fonts that ship with vaekit (the dejavu-fonts-ttf package), never the
 * machine's: a figure renders the same text on a server with no fonts installed as on a desktop.
 * The same fonts' advance widths measure text for layouts (textWidth), so labels are placed by
 * the widths they will be drawn with.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import pngjs from 'pngjs';
import { VaekitError } from '../errors.js';

const { PNG } = pngjs;

/** The font family every vaekit figure names, in SVG and in Vega's config. */
export const FONT_FAMILY = 'DejaVu Sans';

const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf', 'DejaVuSansMono.ttf'];

let fontDir: string | null = null;

/** The folder of the bundled DejaVu TTF files. */
export function fontFolder(): string {
  if (fontDir === null) {
    const require = createRequire(import.meta.url);
    try {
      fontDir = dirname(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'));
    } catch {
      throw new VaekitError('The DejaVu fonts (the dejavu-fonts-ttf package) are missing, so figures cannot draw text: reinstall vaekit\'s dependencies.');
    }
  }
  return fontDir;
}

/** The font files resvg loads: DejaVu Sans (regular, bold, oblique) and DejaVu Sans Mono. */
export function fontFiles(): string[] {
  return FONT_FILES.map((f) => join(fontFolder(), f));
}

/**
 * A PNG of an SVG document, drawn by resvg with only the bundled DejaVu fonts (system fonts are
 * not loaded) on a white background; `scale` zooms it (default 1: one PNG pixel per SVG unit).
 */
export function svgToPng(svg: string, options: { scale?: number } = {}): Uint8Array {
  const scale = options.scale ?? 1;
  if (!(scale > 0 && scale <= 16)) throw new VaekitError(`Invalid render scale ${scale}: use a number above 0 and at most 16.`);
  let resvg: Resvg;
  try {
    resvg = new Resvg(svg, {
      font: { loadSystemFonts: false, fontFiles: fontFiles(), defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY, monospaceFamily: 'DejaVu Sans Mono' },
      background: 'white',
      fitTo: scale === 1 ? { mode: 'original' } : { mode: 'zoom', value: scale },
      imageRendering: 1,
      logLevel: 'off',
    });
  } catch (err) {
    throw new VaekitError(`Could not draw the figure: its SVG is not valid (${err instanceof Error ? err.message : String(err)}).`);
  }
  // resvg draws RGBA; on the opaque white background every alpha is 255, so the PNG is written as
  // RGB (a quarter smaller, and what image tools expect of a figure).
  const image = resvg.render();
  const { width, height } = image;
  const rgba = image.pixels;
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 });
  png.data = rgb;
  // A copy out of Node's Buffer pool, like imageGridPng's.
  return new Uint8Array(PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 }));
}

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// --- Text widths from the fonts' own metrics (hmtx and cmap tables of the TTF files). ---

interface FontMetrics {
  /** Advance width in em of a code point's glyph (the missing glyph's for unmapped ones). */
  advance(codePoint: number): number;
}

const metricsCache = new Map<string, FontMetrics>();

function parseTtfMetrics(bytes: Uint8Array): FontMetrics {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tables = new Map<string, number>();
  const numTables = view.getUint16(4);
  for (let i = 0; i < numTables; i++) {
    const at = 12 + 16 * i;
    const tag = String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
    tables.set(tag, view.getUint32(at + 8));
  }
  const table = (tag: string): number => {
    const at = tables.get(tag);
    if (at === undefined) throw new VaekitError(`The font file has no ${tag} table.`);
    return at;
  };
  const unitsPerEm = view.getUint16(table('head') + 18);
  const hMetrics = view.getUint16(table('hhea') + 34);
  const hmtx = table('hmtx');
  const advanceOfGlyph = (glyph: number): number => view.getUint16(hmtx + 4 * Math.min(glyph, hMetrics - 1)) / unitsPerEm;
  // The Windows Unicode BMP subtable (platform 3, encoding 1), format 4.
  const cmap = table('cmap');
  let sub = -1;
  for (let i = 0; i < view.getUint16(cmap + 2); i++) {
    const at = cmap + 4 + 8 * i;
    if (view.getUint16(at) === 3 && view.getUint16(at + 2) === 1) sub = cmap + view.getUint32(at + 4);
  }
  if (sub < 0 || view.getUint16(sub) !== 4) throw new VaekitError('The font file has no Unicode character map of format 4.');
  const segments = view.getUint16(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segments + 2;
  const deltas = starts + 2 * segments;
  const rangeOffsets = deltas + 2 * segments;
  const glyphOf = (c: number): number => {
    if (c > 0xffff) return 0;
    for (let i = 0; i < segments; i++) {
      if (view.getUint16(ends + 2 * i) < c) continue;
      const start = view.getUint16(starts + 2 * i);
      if (start > c) return 0;
      const delta = view.getUint16(deltas + 2 * i);
      const rangeAt = rangeOffsets + 2 * i;
      const range = view.getUint16(rangeAt);
      if (range === 0) return (c + delta) & 0xffff;
      const g = view.getUint16(rangeAt + range + 2 * (c - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number>();
  return {
    advance(c) {
      let w = cache.get(c);
      if (w === undefined) {
        w = advanceOfGlyph(glyphOf(c));
        cache.set(c, w);
      }
      return w;
    },
  };
}

function metrics(file: string): FontMetrics {
  let m = metricsCache.get(file);
  if (m === undefined) {
    m = parseTtfMetrics(new Uint8Array(readFileSync(join(fontFolder(), file))));
    metricsCache.set(file, m);
  }
  return m;
}

/** Width in pixels of `text` in DejaVu Sans (bold when asked) at `fontSize` pixels, from the font's advance widths (no kerning). */
export function textWidth(text: string, fontSize: number, bold = false): number {
  const m = metrics(bold ? 'DejaVuSans-Bold.ttf' : 'DejaVuSans.ttf');
  let em = 0;
  for (const ch of text) em += m.advance(ch.codePointAt(0)!);
  return em * fontSize;
}

/** `text`, cut with an ellipsis where needed so it is at most `maxWidth` pixels wide. */
export function fitText(text: string, fontSize: number, maxWidth: number, bold = false): string {
  if (textWidth(text, fontSize, bold) <= maxWidth) return text;
  const chars = Array.from(text);
  while (chars.length > 0 && textWidth(`${chars.join('')}…`, fontSize, bold) > maxWidth) chars.pop();
  return chars.length === 0 ? '' : `${chars.join('').trimEnd()}…`;
}

/**
 * PNG grids of images (greyscale or RGB): originals next to reconstructions, samples, interpolations.
 * The bare pixels; labelled-grid.ts draws them with a title and row and column labels.
 */
import pngjs from 'pngjs';
import { VaekitError } from '../errors.js';

const { PNG } = pngjs;

export interface ImageGridOptions {
  /** Integer upscaling of each pixel (nearest neighbour); default 2. */
  scale?: number;
  /** Pixels of padding between cells and around the grid (after scaling); default 2. */
  pad?: number;
  /** Grey level 0..1 of the padding and of missing cells; default 0.5 so black and white digits both stand out. */
  background?: number;
  /** Values per pixel of each cell: 1 (greyscale, the default) or 3 (RGB, channels-last). */
  channels?: 1 | 3;
}

function toByte(v: number): number {
  return v > 0 ? (v < 1 ? Math.round(v * 255) : 255) : 0;
}

/**
 * A PNG (8-bit greyscale, or RGB for 3 channels) of a grid of images: cells[row][col] each
 * height*width*channels floats in [0,1], channels-last.
 * Rows may have different lengths; missing cells (and null ones) are left as background.
 */
export function imageGridPng(
  cells: readonly (readonly (Float32Array | null)[])[],
  height: number,
  width: number,
  options: ImageGridOptions = {},
): Uint8Array {
  const scale = options.scale ?? 2;
  const pad = options.pad ?? 2;
  const background = options.background ?? 0.5;
  const ch = options.channels ?? 1;
  if (ch !== 1 && ch !== 3) throw new VaekitError(`An image grid draws 1 or 3 channels, not ${String(ch)}.`);
  if (!Number.isInteger(scale) || scale < 1 || scale > 64) {
    throw new VaekitError(`Invalid image grid scale ${scale}: use a whole number from 1 to 64.`);
  }
  if (!Number.isInteger(pad) || pad < 0 || pad > 256) {
    throw new VaekitError(`Invalid image grid padding ${pad}: use a whole number from 0 to 256.`);
  }
  if (!(background >= 0 && background <= 1)) {
    throw new VaekitError(`Invalid image grid background ${background}: use a grey level from 0 to 1.`);
  }
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new VaekitError(`Invalid image size ${height}x${width} for an image grid: both sides must be whole numbers >= 1.`);
  }
  const rows = cells.length;
  const cols = cells.reduce((most, row) => Math.max(most, row.length), 0);
  if (rows === 0 || cols === 0) {
    throw new VaekitError('Cannot draw an image grid without any images.');
  }
  const cellHeight = height * scale;
  const cellWidth = width * scale;
  const imageWidth = cols * cellWidth + (cols + 1) * pad;
  const imageHeight = rows * cellHeight + (rows + 1) * pad;
  const pixels = Buffer.alloc(imageWidth * imageHeight * ch, toByte(background));
  cells.forEach((row, r) => {
    row.forEach((cell, c) => {
      if (cell === null) return;
      if (cell.length !== height * width * ch) {
        throw new VaekitError(`Image grid cell [${r}][${c}] has ${cell.length} values, but a ${height}x${width}${ch === 1 ? '' : 'x3'} image needs ${height * width * ch}.`);
      }
      const top = pad + r * (cellHeight + pad);
      const left = pad + c * (cellWidth + pad);
      for (let y = 0; y < cellHeight; y++) {
        const sourceRow = Math.floor(y / scale) * width;
        const targetRow = (top + y) * imageWidth + left;
        for (let x = 0; x < cellWidth; x++) {
          const from = (sourceRow + Math.floor(x / scale)) * ch;
          for (let k = 0; k < ch; k++) pixels[(targetRow + x) * ch + k] = toByte(cell[from + k]!);
        }
      }
    });
  });
  const colorType = ch === 1 ? 0 : 2;
  const png = new PNG({ width: imageWidth, height: imageHeight, colorType, inputColorType: colorType, inputHasAlpha: false, bitDepth: 8 });
  png.data = pixels;
  const encoded = PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: false, bitDepth: 8 });
  // A copy: small Buffers live in a shared pool, and a caller may well use `.buffer`.
  return new Uint8Array(encoded);
}

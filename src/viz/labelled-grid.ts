/**
 * A grid of images as a figure a reader can follow: a title, an optional subtitle (the model and
 * its prior, the noise), a label above each column and left of each row, and optional coloured
 * frames around chosen cells. The images go into the SVG as one PNG (nearest-neighbour upscaled,
 * drawn pixelated); the text is SVG text in DejaVu Sans, rendered to PNG by render.ts.
 */
import { VaekitError } from '../errors.js';
import { imageGridPng } from './image-grid.js';
import { escapeXml, fitText, FONT_FAMILY, svgToPng, textWidth } from './render.js';

export interface GridFigure {
  title: string;
  /** One line under the title (e.g. the model and prior). */
  subtitle?: string;
  /** Rows of images, values in [0, 1], channels-last [H, W, C]; null = an empty cell (drawn white). Rows may be shorter than the longest. */
  cells: (Float32Array | null)[][];
  height: number;
  width: number;
  channels: 1 | 3;
  /** One per row, drawn left of the row. */
  rowLabels?: string[];
  /** One per column, drawn above it. */
  columnLabels?: string[];
  /** Screen pixels per image pixel, a whole number (default: so a cell is about 56-84 px; 1 for images larger than that). */
  scale?: number;
  /** A coloured frame around cells (e.g. an inactive dimension); any CSS colour. */
  marks?: { row: number; column: number; color: string }[];
}

/** Where everything of a GridFigure goes, in pixels of its SVG (and of its PNG). */
export interface GridLayout {
  width: number;
  height: number;
  scale: number;
  rows: number;
  columns: number;
  /** The title's band: from the top margin to below the subtitle. */
  titleBox: { x: number; y: number; width: number; height: number };
  /** The grid image (cells, gaps and border). */
  grid: { x: number; y: number; width: number; height: number };
  /** The top-left corner and size of a cell's image. */
  cell(row: number, column: number): { x: number; y: number; width: number; height: number };
}

const MARGIN = 16;
/** Grey gap between and around cells (pixels). */
const GAP = 4;
const TITLE_SIZE = 18;
const SUBTITLE_SIZE = 13;
const LABEL_SIZE = 13;
const MIN_LABEL_SIZE = 10;
const ROW_LABEL_MAX = 220;
/** The widest a title may make the figure beyond its grid. */
const TEXT_MAX = 720;

function defaultScale(height: number, width: number): number {
  return Math.max(1, Math.round(70 / Math.max(height, width)));
}

function check(f: GridFigure): { rows: number; columns: number; scale: number } {
  if (f.channels !== 1 && f.channels !== 3) throw new VaekitError(`A grid figure draws 1 or 3 channels, not ${String(f.channels)}.`);
  if (!Number.isInteger(f.height) || !Number.isInteger(f.width) || f.height < 1 || f.width < 1) {
    throw new VaekitError(`Invalid image size ${f.height}x${f.width} for a grid figure: both sides must be whole numbers >= 1.`);
  }
  const scale = f.scale ?? defaultScale(f.height, f.width);
  if (!Number.isInteger(scale) || scale < 1 || scale > 64) throw new VaekitError(`Invalid grid figure scale ${scale}: use a whole number from 1 to 64.`);
  const rows = f.cells.length;
  const columns = f.cells.reduce((most, row) => Math.max(most, row.length), 0);
  if (rows === 0 || columns === 0) throw new VaekitError('Cannot draw a grid figure without any cells.');
  if (f.rowLabels !== undefined && f.rowLabels.length !== rows) {
    throw new VaekitError(`A grid figure of ${rows} rows needs ${rows} row labels, not ${f.rowLabels.length}.`);
  }
  if (f.columnLabels !== undefined && f.columnLabels.length !== columns) {
    throw new VaekitError(`A grid figure of ${columns} columns needs ${columns} column labels, not ${f.columnLabels.length}.`);
  }
  for (const m of f.marks ?? []) {
    if (!Number.isInteger(m.row) || !Number.isInteger(m.column) || m.row < 0 || m.row >= rows || m.column < 0 || m.column >= (f.cells[m.row]?.length ?? 0)) {
      throw new VaekitError(`A grid figure's mark at row ${m.row}, column ${m.column} is outside its cells.`);
    }
  }
  return { rows, columns, scale };
}

interface Placed extends GridLayout {
  title: string;
  subtitle: string | null;
  titleBaseline: number;
  subtitleBaseline: number;
  rowLabels: string[] | null;
  rowLabelRight: number;
  columnLabels: { text: string; size: number }[] | null;
  columnLabelBaseline: number;
}

function place(f: GridFigure): Placed {
  const { rows, columns, scale } = check(f);
  const cellW = f.width * scale;
  const cellH = f.height * scale;
  const gridW = columns * cellW + (columns + 1) * GAP;
  const gridH = rows * cellH + (rows + 1) * GAP;
  const rowLabels = f.rowLabels?.map((t) => fitText(t, LABEL_SIZE, ROW_LABEL_MAX)) ?? null;
  const rowLabelW = rowLabels === null ? 0 : Math.ceil(Math.max(...rowLabels.map((t) => textWidth(t, LABEL_SIZE)))) + 10;
  const contentW = rowLabelW + gridW;
  const textMax = Math.max(contentW, TEXT_MAX);
  const title = fitText(f.title, TITLE_SIZE, textMax, true);
  const subtitle = f.subtitle === undefined || f.subtitle === '' ? null : fitText(f.subtitle, SUBTITLE_SIZE, textMax);
  const textW = Math.max(textWidth(title, TITLE_SIZE, true), subtitle === null ? 0 : textWidth(subtitle, SUBTITLE_SIZE));
  const width = Math.ceil(Math.max(contentW, textW) + 2 * MARGIN);
  // A column label shrinks (down to MIN_LABEL_SIZE), then is cut, to fit over its column.
  const labelRoom = Math.max(1, cellW + GAP - 6);
  const columnLabels = f.columnLabels?.map((t) => {
    let size = LABEL_SIZE;
    while (size > MIN_LABEL_SIZE && textWidth(t, size) > labelRoom) size--;
    return { text: fitText(t, size, labelRoom), size };
  }) ?? null;
  let y = MARGIN;
  const titleTop = y;
  const titleBaseline = y + Math.round(TITLE_SIZE * 0.93);
  y += Math.round(TITLE_SIZE * 1.3);
  const subtitleBaseline = y + Math.round(SUBTITLE_SIZE * 0.93);
  if (subtitle !== null) y += Math.round(SUBTITLE_SIZE * 1.4);
  const titleBox = { x: MARGIN, y: titleTop, width: width - 2 * MARGIN, height: y - titleTop };
  y += 8;
  const columnLabelBaseline = y + Math.round(LABEL_SIZE * 0.93);
  if (columnLabels !== null) y += Math.round(LABEL_SIZE * 1.5);
  const gridX = Math.round((width - contentW) / 2) + rowLabelW;
  const grid = { x: gridX, y, width: gridW, height: gridH };
  const height = y + gridH + MARGIN;
  return {
    width, height, scale, rows, columns, titleBox, grid,
    cell: (row, column) => ({ x: gridX + GAP + column * (cellW + GAP), y: grid.y + GAP + row * (cellH + GAP), width: cellW, height: cellH }),
    title, subtitle, titleBaseline, subtitleBaseline, rowLabels, rowLabelRight: gridX - 8, columnLabels, columnLabelBaseline,
  };
}

/** The figure's size and where its title, grid and cells go (what gridFigureSvg draws). */
export function gridFigureLayout(figure: GridFigure): GridLayout {
  const { width, height, scale, rows, columns, titleBox, grid, cell } = place(figure);
  return { width, height, scale, rows, columns, titleBox, grid, cell };
}

/** The figure as an SVG document: the image grid embedded as a PNG data URI (drawn pixelated) and the text as SVG <text>. */
export function gridFigureSvg(figure: GridFigure): string {
  const p = place(figure);
  const png = imageGridPng(figure.cells, figure.height, figure.width, { scale: p.scale, pad: GAP, background: 0.5, channels: figure.channels });
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${p.width}" height="${p.height}" viewBox="0 0 ${p.width} ${p.height}" font-family="${FONT_FAMILY}">`,
    `<title>${escapeXml(figure.title)}</title>`,
    `<rect width="${p.width}" height="${p.height}" fill="#ffffff"/>`,
    `<text x="${p.width / 2}" y="${p.titleBaseline}" text-anchor="middle" font-size="${TITLE_SIZE}" font-weight="bold" fill="#111111">${escapeXml(p.title)}</text>`,
  ];
  if (p.subtitle !== null) {
    out.push(`<text x="${p.width / 2}" y="${p.subtitleBaseline}" text-anchor="middle" font-size="${SUBTITLE_SIZE}" fill="#444444">${escapeXml(p.subtitle)}</text>`);
  }
  p.columnLabels?.forEach((label, c) => {
    const cell = p.cell(0, c);
    out.push(`<text x="${cell.x + cell.width / 2}" y="${p.columnLabelBaseline}" text-anchor="middle" font-size="${label.size}" fill="#222222">${escapeXml(label.text)}</text>`);
  });
  p.rowLabels?.forEach((label, r) => {
    const cell = p.cell(r, 0);
    const baseline = Math.round(cell.y + cell.height / 2 + LABEL_SIZE * 0.35);
    out.push(`<text x="${p.rowLabelRight}" y="${baseline}" text-anchor="end" font-size="${LABEL_SIZE}" fill="#222222">${escapeXml(label)}</text>`);
  });
  out.push(`<image x="${p.grid.x}" y="${p.grid.y}" width="${p.grid.width}" height="${p.grid.height}" preserveAspectRatio="none" `
    + `style="image-rendering:pixelated" image-rendering="optimizeSpeed" href="data:image/png;base64,${Buffer.from(png).toString('base64')}"/>`);
  // Empty cells (null, or past the end of a short row) are left white, so they do not pass for grey
  // images; the gap after one goes too where no image needs it as a frame (the grid ends, or the
  // next cell is empty as well).
  const empty = (r: number, c: number): boolean => r >= p.rows || c >= p.columns || (figure.cells[r]![c] ?? null) === null;
  for (let r = 0; r < p.rows; r++) {
    for (let c = 0; c < p.columns; c++) {
      if (!empty(r, c)) continue;
      const cell = p.cell(r, c);
      const width = cell.width + (empty(r, c + 1) ? GAP : 0);
      const height = cell.height + (empty(r + 1, c) ? GAP : 0);
      out.push(`<rect x="${cell.x}" y="${cell.y}" width="${width}" height="${height}" fill="#ffffff"/>`);
    }
  }
  for (const m of figure.marks ?? []) {
    const cell = p.cell(m.row, m.column);
    out.push(`<rect x="${cell.x - GAP / 2}" y="${cell.y - GAP / 2}" width="${cell.width + GAP}" height="${cell.height + GAP}" fill="none" stroke="${escapeXml(m.color)}" stroke-width="${GAP - 1}"/>`);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The figure as a PNG (gridFigureSvg rendered with the bundled fonts). */
export function gridFigurePng(figure: GridFigure): Uint8Array {
  return svgToPng(gridFigureSvg(figure));
}

// Labelled image grids (src/viz/labelled-grid.ts) and the SVG renderer with the bundled fonts
// (src/viz/render.ts): the PNG has the layout's size, the title is drawn, every cell carries its
// input pixels, labels and marks are where they belong, and text renders without system fonts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pngjs from 'pngjs';
import { gridFigureLayout, gridFigurePng, gridFigureSvg, type GridFigure } from '../src/viz/labelled-grid.js';
import { fitText, svgToPng, textWidth } from '../src/viz/render.js';
import { VaekitError } from '../src/errors.js';

const { PNG } = pngjs;

interface Decoded {
  width: number;
  height: number;
  rgb(x: number, y: number): [number, number, number];
  /** Pixels darker than `level` (mean of R, G, B) inside a box. */
  dark(box: { x: number; y: number; width: number; height: number }, level?: number): number;
}

function decode(bytes: Uint8Array): Decoded {
  const png = PNG.sync.read(Buffer.from(bytes));
  const rgb = (x: number, y: number): [number, number, number] => {
    const i = 4 * (y * png.width + x);
    return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
  };
  return {
    width: png.width,
    height: png.height,
    rgb,
    dark(box, level = 100) {
      let n = 0;
      for (let y = Math.floor(box.y); y < Math.ceil(box.y + box.height); y++) {
        for (let x = Math.floor(box.x); x < Math.ceil(box.x + box.width); x++) {
          const [r, g, b] = rgb(x, y);
          if ((r + g + b) / 3 < level) n++;
        }
      }
      return n;
    },
  };
}

/** A 4x5 greyscale image whose pixel (y, x) is a value unique to the cell and the pixel. */
function greyCell(seed: number): Float32Array {
  return Float32Array.from({ length: 4 * 5 }, (_, i) => ((seed * 37 + i * 11) % 97) / 96);
}

const figure: GridFigure = {
  title: 'Test images with gaussian noise (sigma 0.2)',
  subtitle: 'seed preset, latent 40 · a subtitle',
  cells: [
    [greyCell(1), greyCell(2), greyCell(3)],
    [greyCell(4), null, greyCell(6)],
  ],
  height: 4,
  width: 5,
  channels: 1,
  rowLabels: ['Example 0', 'Example 1'],
  columnLabels: ['Original', 'Noisy', 'Denoised'],
  scale: 12,
  marks: [{ row: 1, column: 2, color: '#ff0000' }],
};

test('a labelled grid: the PNG has the layout\'s size, a drawn title, and every cell carries its input pixels', () => {
  const layout = gridFigureLayout(figure);
  const image = decode(gridFigurePng(figure));
  assert.equal(image.width, layout.width);
  assert.equal(image.height, layout.height);
  assert.equal(layout.rows, 2);
  assert.equal(layout.columns, 3);
  // Cells are the image scaled 12x, side by side with gaps, below the title band.
  const first = layout.cell(0, 0);
  assert.deepEqual([first.width, first.height], [5 * 12, 4 * 12]);
  assert.ok(layout.cell(0, 1).x >= first.x + first.width + 1, 'a gap between columns');
  assert.ok(layout.cell(1, 0).y >= first.y + first.height + 1, 'a gap between rows');
  assert.ok(first.y > layout.titleBox.y + layout.titleBox.height, 'the grid is below the title');
  assert.ok(layout.titleBox.height > 20, 'room for the title and subtitle');

  // The title is drawn: dark pixels in its band (and none in an empty margin strip).
  assert.ok(image.dark(layout.titleBox) > 200, 'the title has ink');
  assert.equal(image.dark({ x: 0, y: 0, width: layout.width, height: 10 }), 0, 'the top margin is white');

  // Each image pixel is a 12x12 block of its value: sample every block's centre.
  figure.cells.forEach((row, r) => row.forEach((cell, c) => {
    const box = layout.cell(r, c);
    for (let y = 0; y < 4; y++) {
      for (let x = 0; x < 5; x++) {
        const [red, green, blue] = image.rgb(box.x + x * 12 + 6, box.y + y * 12 + 6);
        assert.equal(red, green);
        assert.equal(red, blue);
        const expected = cell === null ? 255 : Math.round(cell[y * 5 + x]! * 255);
        assert.ok(Math.abs(red - expected) <= 1, `cell [${r}][${c}] pixel (${y}, ${x}): ${red}, expected ${expected}`);
      }
    }
    // The block's corners too: nearest-neighbour upscaling, no smoothing across pixel edges.
    if (cell !== null) {
      const [corner] = image.rgb(box.x + 11, box.y + 11);
      assert.ok(Math.abs(corner - Math.round(cell[0]! * 255)) <= 1, `cell [${r}][${c}] corner`);
    }
  }));

  // The mark: a red frame in the gap around cell [1][2].
  const marked = layout.cell(1, 2);
  assert.deepEqual(image.rgb(marked.x - 2, marked.y + 20), [255, 0, 0]);
  assert.deepEqual(image.rgb(marked.x + 20, marked.y + marked.height + 1), [255, 0, 0]);
  // No frame around an unmarked cell: its gap is the grid's grey.
  const plain = layout.cell(0, 0);
  assert.deepEqual(image.rgb(plain.x - 2, plain.y + 20), [128, 128, 128]);

  // Row labels left of their rows, column labels above their columns: ink there.
  assert.ok(image.dark({ x: 0, y: first.y, width: first.x - 4, height: first.height }) > 50, 'row label 0 drawn');
  assert.ok(image.dark({ x: first.x, y: layout.titleBox.y + layout.titleBox.height, width: first.width, height: first.y - layout.titleBox.y - layout.titleBox.height - 4 }) > 30, 'column label 0 drawn');
});

test('an RGB grid keeps each cell\'s colours; the default scale makes 28x28 cells 84 px', () => {
  const red = new Float32Array(2 * 2 * 3);
  const teal = new Float32Array(2 * 2 * 3);
  for (let p = 0; p < 4; p++) {
    red.set([1, 0, 0], 3 * p);
    teal.set([0, 0.5, 0.5], 3 * p);
  }
  const rgb: GridFigure = { title: 'RGB', cells: [[red, teal]], height: 2, width: 2, channels: 3, scale: 20 };
  const layout = gridFigureLayout(rgb);
  const image = decode(gridFigurePng(rgb));
  assert.deepEqual([image.width, image.height], [layout.width, layout.height]);
  const a = layout.cell(0, 0);
  const b = layout.cell(0, 1);
  assert.deepEqual(image.rgb(a.x + 30, a.y + 30), [255, 0, 0]);
  assert.deepEqual(image.rgb(b.x + 5, b.y + 35), [0, 128, 128]);

  const mnist = gridFigureLayout({ title: 'samples', cells: [[new Float32Array(784)]], height: 28, width: 28, channels: 1 });
  assert.equal(mnist.scale, 3);
  assert.equal(mnist.cell(0, 0).width, 84);
  // Images larger than a cell are drawn at their own size.
  assert.equal(gridFigureLayout({ title: 'big', cells: [[new Float32Array(200 * 150)]], height: 200, width: 150, channels: 1 }).scale, 1);
});

test('the SVG: text as <text> (escaped), the grid as a pixelated PNG data URI, DejaVu Sans; long labels are cut to fit', () => {
  const svg = gridFigureSvg({
    ...figure,
    title: 'Samples <of> "class" A & B',
    columnLabels: ['Original', 'a label far too long to fit over one narrow column of the grid', 'Denoised'],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /font-family="DejaVu Sans"/);
  assert.match(svg, /<text[^>]*font-weight="bold"[^>]*>Samples &lt;of&gt; &quot;class&quot; A &amp; B<\/text>/);
  assert.match(svg, /<text[^>]*>seed preset, latent 40 · a subtitle<\/text>/);
  for (const label of ['Example 0', 'Example 1', 'Original', 'Denoised']) assert.match(svg, new RegExp(`<text[^>]*>${label}</text>`));
  assert.match(svg, /<image [^>]*style="image-rendering:pixelated"[^>]*href="data:image\/png;base64,[A-Za-z0-9+/=]+"/);
  const long = /<text[^>]*font-size="(\d+)"[^>]*>(a label[^<]*)<\/text>/.exec(svg);
  assert.ok(long !== null, 'the long label is drawn');
  assert.ok(long[2]!.endsWith('…'), 'cut with an ellipsis');
  assert.ok(textWidth(long[2]!, Number(long[1])) <= 5 * 12, 'no wider than its column');
  assert.equal(fitText('short', 13, 100), 'short');
});

test('bad figures are refused with a VaekitError', () => {
  const cell = new Float32Array(4);
  const base: GridFigure = { title: 't', cells: [[cell]], height: 2, width: 2, channels: 1 };
  assert.throws(() => gridFigurePng({ ...base, cells: [] }), VaekitError);
  assert.throws(() => gridFigurePng({ ...base, cells: [[new Float32Array(3)]] }), /cell \[0\]\[0\] has 3 values/);
  assert.throws(() => gridFigurePng({ ...base, rowLabels: ['a', 'b'] }), /1 rows needs 1 row labels, not 2/);
  assert.throws(() => gridFigurePng({ ...base, columnLabels: [] }), /1 columns needs 1 column labels, not 0/);
  assert.throws(() => gridFigurePng({ ...base, scale: 1.5 }), /scale 1\.5/);
  assert.throws(() => gridFigurePng({ ...base, marks: [{ row: 0, column: 1, color: 'red' }] }), /outside its cells/);
  assert.throws(() => svgToPng('<svg'), VaekitError);
});

test('text renders with the bundled fonts only (no system fonts loaded), at the widths textWidth measures', () => {
  // A title-only SVG; a family no machine has falls back to the bundled DejaVu Sans.
  for (const family of ['DejaVu Sans', 'No Such Font']) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="60"><text x="10" y="40" font-family="${family}" font-size="24">Hello, figures</text></svg>`;
    const image = decode(svgToPng(svg));
    assert.deepEqual([image.width, image.height], [400, 60]);
    assert.ok(image.dark({ x: 0, y: 0, width: 400, height: 60 }) > 300, `${family}: the text has ink`);
  }
  // The ink of a run of glyphs spans about the advance widths textWidth adds up (less the side bearings).
  const text = 'HHHHHHHHHH';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40"><text x="0" y="30" font-family="DejaVu Sans" font-size="20">${text}</text></svg>`;
  const image = decode(svgToPng(svg, { scale: 2 }));
  assert.deepEqual([image.width, image.height], [800, 80]);
  let left = Infinity;
  let right = -Infinity;
  for (let x = 0; x < image.width; x++) {
    for (let y = 0; y < image.height; y++) {
      if (image.rgb(x, y)[0] < 128) {
        left = Math.min(left, x);
        right = Math.max(right, x);
      }
    }
  }
  const measured = 2 * textWidth(text, 20);
  assert.ok(Math.abs((right - left + 1) - measured) < 0.05 * measured, `ink ${right - left + 1} px, measured ${measured} px`);
  assert.ok(textWidth('WWW', 12, true) > textWidth('WWW', 12), 'bold is wider');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCsv } from '../src/data/sources/csv.js';
import { VaekitError } from '../src/errors.js';
import { arrayDataset } from '../src/data/dataset.js';
import { modelConfigForData } from '../src/run/data.js';
import { FEATURE_GAUSSIAN_SIGMA } from '../src/vae/config.js';

const tmp = mkdtempSync(join(tmpdir(), 'vaekit-csv-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

let files = 0;
/** Writes `text` to a fresh file (named `name`, or numbered) and returns its path. */
function csvFile(text: string, name = `t${files++}.csv`): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

/** Asserts that loading `text` fails with exactly `message`, where "FILE" stands for the file's path. */
function assertFails(text: string, message: string, labelColumn?: string): void {
  const path = csvFile(text);
  assert.throws(
    () => loadCsv(path, labelColumn === undefined ? {} : { labelColumn }),
    (err: unknown) => {
      assert.ok(err instanceof VaekitError, `expected a VaekitError, got ${String(err)}`);
      assert.equal(err.message, message.replaceAll('FILE', path));
      return true;
    },
  );
}

test('loadCsv reads decimal and scientific numbers as float32 feature rows', () => {
  const set = loadCsv(csvFile('a,b,c\n1,-2.5,3e2\n.5, 1E-3 ,+7\n-0.0,6.02e+23,1.\n'));
  assert.equal(set.count, 3);
  assert.deepEqual(set.shape, [3]);
  assert.ok(set.values instanceof Float32Array);
  assert.deepEqual(Array.from(set.values), [1, -2.5, 300, 0.5, 0.001, 7, -0, 6.02e23, 1].map(Math.fround));
  assert.equal(set.labels, null);
  assert.equal(set.labelNames, null);
});

test('loadCsv ignores a byte-order mark, CRLF line ends and blank lines, and reads .tsv files split at tabs', () => {
  const set = loadCsv(csvFile('\ufeffx,y\r\n1,2\r\n\r\n3,4\r\n\r\n'));
  assert.deepEqual(Array.from(set.values!), [1, 2, 3, 4]);
  const tsv = loadCsv(csvFile('x\ty\n5\t6\n', 'table.tsv'));
  assert.deepEqual(Array.from(tsv.values!), [5, 6]);
});

test('a text label column becomes classes sorted as text, a numeric one classes sorted as numbers', () => {
  const text = loadCsv(csvFile('x1,species,x2\n1,setosa,2\n3,virginica,4\n5,setosa,6\n7,Versicolor,8\n'), { labelColumn: 'species' });
  assert.deepEqual(text.shape, [2]);
  assert.deepEqual(Array.from(text.values!), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(text.labelNames, ['Versicolor', 'setosa', 'virginica']);
  assert.deepEqual(Array.from(text.labels ?? []), [1, 2, 1, 0]);

  const numeric = loadCsv(csvFile('y,x\n10,1\n2,2\n1.0,3\n1,4\n-3,5\n'), { labelColumn: 'y' });
  assert.deepEqual(numeric.labelNames, ['-3', '1', '2', '10']);
  assert.deepEqual(Array.from(numeric.labels ?? []), [3, 2, 1, 1, 0]);
  assert.deepEqual(Array.from(numeric.values!), [1, 2, 3, 4, 5]);
});

test('quoted fields (commas, quotes and newlines inside) read the same as plain ones', () => {
  const quoted = loadCsv(
    csvFile('"x 1","city, state",x2\n"1.5","Paris, TX",2\n3,"Say ""hi""",4\n5,"two\nlines",6\n7,"Paris, TX",8\n'),
    { labelColumn: 'city, state' },
  );
  assert.deepEqual(Array.from(quoted.values!), [1.5, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(quoted.labelNames, ['Paris, TX', 'Say "hi"', 'two\nlines']);
  assert.deepEqual(Array.from(quoted.labels ?? []), [0, 1, 2, 0]);
  const plain = loadCsv(csvFile('x 1,x2\n1.5,2\n3,4\n'));
  const same = loadCsv(csvFile('"x 1","x2"\n"1.5",2\n3,"4"\n'));
  assert.deepEqual(Array.from(same.values!), Array.from(plain.values!));
});

test('a cell that is not a number is named by its row, line and column', () => {
  const rows = Array.from({ length: 11 }, (_, i) => `${i},${i + 1},${i + 2}`);
  assertFails(`x1,x2,x3\n${rows.join('\n')}\n1,2,abc\n`, 'FILE: row 12 (line 13), column "x3": "abc" is not a number (if the column holds the labels, give data.labelColumn x3).');
  assertFails('a,b\n1,0x1F\n', 'FILE: row 1 (line 2), column "b": "0x1F" is not a number (if the column holds the labels, give data.labelColumn b).');
  assertFails('a,b\n1,2\n3,Infinity\n', 'FILE: row 2 (line 3), column "b": "Infinity" is not a number (if the column holds the labels, give data.labelColumn b).');
  assertFails('a,b\n1,1e39\n', 'FILE: row 1 (line 2), column "b": 1e39 is too large for a float32 number.');
  assertFails('a,b\n1,NaN\n', 'FILE: row 1 (line 2), column "b" holds "NaN", a missing value; fill or drop missing values first.');
  assertFails('a,b\n1, NA\n', 'FILE: row 1 (line 2), column "b" holds "NA", a missing value; fill or drop missing values first.');
  assertFails('a,b\n\n1,2\n3,\n', 'FILE: row 2 (line 4), column "b" is empty; every cell must hold a value, so fill or drop missing values.');
  assertFails('a,"b"\n1,2\n"3","x\ny"\n', 'FILE: row 2 (line 4), column "b": "x\\ny" is not a number (if the column holds the labels, give data.labelColumn b).');
});

test('ragged rows, bad headers and empty files are each one sentence', () => {
  assertFails('a,b,c\n1,2,3\n4,5\n', 'FILE: row 2 (line 3) has 2 cells but the header names 3 columns.');
  assertFails('a,b\n1,2,3\n', 'FILE: row 1 (line 2) has 3 cells but the header names 2 columns.');
  assertFails('a,b,a\n1,2,3\n', 'FILE: the header names the column "a" twice (columns 1 and 3); give every column its own name.');
  assertFails('a,,c\n1,2,3\n', 'FILE: column 2 of the header has no name; name every column in the header row.');
  assertFails(',a,b\n0,1,2\n', 'FILE: column 1 of the header has no name (an unnamed pandas index? write the file with index=False); name every column in the header row.');
  assertFails('', 'FILE is empty; a CSV file needs a header row of column names and at least one row of values.');
  assertFails('\n\n', 'FILE is empty; a CSV file needs a header row of column names and at least one row of values.');
  assertFails('a,b\n', 'FILE has a header row but no data rows.');
  assertFails('1.5,2,3\n4,5,6\n', 'FILE: the first row holds numbers (1.5, 2, 3, ...), not column names; add a header row that names each column.');
  assertFails('a,"b\n1,2\n', 'FILE is not valid CSV (Quote Not Closed: the parsing is finished with an opening quote at line 2).');
  // pandas' integer column names (0, 1, 2, ...) are names, not a first data row.
  assert.deepEqual(Array.from(loadCsv(csvFile('0,1,2\n7,8,9\n')).values!), [7, 8, 9]);
});

test('the label column must exist, leave features, and hold a value in every row', () => {
  assertFails('x1,x2,y\n1,2,3\n', 'FILE has no column "label" for the labels (its columns: x1, x2, y).', 'label');
  const many = Array.from({ length: 25 }, (_, i) => `c${i}`);
  assertFails(`${many.join(',')}\n${many.map(() => '1').join(',')}\n`, `FILE has no column "y" for the labels (its columns: ${many.slice(0, 20).join(', ')} and 5 more).`, 'y');
  assertFails('y\ncat\n', 'FILE has no feature columns besides the label column "y".', 'y');
  assertFails('x,y\n1,cat\n2,\n', 'FILE: row 2 (line 3), column "y" is empty; every cell must hold a value, so fill or drop missing values.', 'y');
});

test('a missing file is one sentence', () => {
  const path = join(tmp, 'nowhere.csv');
  assert.throws(() => loadCsv(path), (err: unknown) => err instanceof VaekitError && err.message === `Cannot read the CSV file ${path}: no such file.`);
});

test('100,000 rows of 20 columns load into the right values', () => {
  const rows = 100_000;
  const lines = [Array.from({ length: 20 }, (_, j) => `f${j}`).join(',')];
  for (let i = 0; i < rows; i++) lines.push(Array.from({ length: 20 }, (_, j) => ((i * 20 + j) % 1000) / 8 - 60).join(','));
  const path = csvFile(lines.join('\n') + '\n');
  const set = loadCsv(path);
  assert.equal(set.count, rows);
  assert.equal(set.values![0], -60);
  assert.equal(set.values![rows * 20 - 1], ((rows * 20 - 1) % 1000) / 8 - 60);
});

test('a table\'s Gaussian likelihood learns its standard deviations from 1 by default; --sigma fixes one; images keep a fixed 0.1', () => {
  const table = loadCsv(csvFile('a,b,c\n1,2,3\n4,5,6\n7,8,10\n'));
  const choices = { preset: 'seed', overrides: {}, conditional: false };
  const config = modelConfigForData(choices, table);
  assert.deepEqual([config.likelihood, config.gaussianSigma, config.gaussianLearnedVariance], ['gaussian', 1, true]);
  assert.equal(FEATURE_GAUSSIAN_SIGMA, 1);
  const fixed = modelConfigForData({ ...choices, overrides: { gaussianSigma: 0.5 } }, table);
  assert.deepEqual([fixed.gaussianSigma, fixed.gaussianLearnedVariance], [0.5, false], '--sigma alone fixes it');
  const learned = modelConfigForData({ ...choices, overrides: { gaussianSigma: 0.5, gaussianLearnedVariance: true } }, table);
  assert.deepEqual([learned.gaussianSigma, learned.gaussianLearnedVariance], [0.5, true], 'learned, starting from --sigma');
  const images = arrayDataset({ values: new Uint8Array(2 * 16), shape: [4, 4, 1], source: 'images' });
  const image = modelConfigForData({ ...choices, overrides: { likelihood: 'gaussian' } }, images);
  assert.deepEqual([image.gaussianSigma, image.gaussianLearnedVariance], [0.1, false]);
});

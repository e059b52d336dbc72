// Charts from Vega-Lite specs (src/viz/charts.ts): the SVG carries the title and axis titles as
// text, the PNG decodes at twice the SVG's size with ink in it, the training curves draw one line
// per series the metrics hold (training solid, validation dashed), and bad input is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pngjs from 'pngjs';
import { chartFromSpec, latentMapChart, scoreHistogramChart, trainingCurvesChart, type Chart } from '../src/viz/charts.js';
import { scoreHistogramBins, scoreHistogramSpec } from '../src/viz/chart-specs.js';
import { textWidth } from '../src/viz/render.js';
import { Random } from '../src/engine/random.js';
import { VaekitError } from '../src/errors.js';

const { PNG } = pngjs;

/** The SVG's size, from its root element. */
function svgSize(svg: string): { width: number; height: number } {
  const m = /^<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  assert.ok(m !== null, 'an <svg> root with a width and a height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Decodes the PNG, checks it is the SVG drawn at `scale`, and counts its non-white pixels. */
function checkPng(chart: Chart, scale = 2): number {
  const png = PNG.sync.read(Buffer.from(chart.png));
  const size = svgSize(chart.svg);
  assert.equal(png.width, Math.round(size.width * scale));
  assert.equal(png.height, Math.round(size.height * scale));
  let ink = 0;
  for (let i = 0; i < png.data.length; i += 4) if (png.data[i]! < 250 || png.data[i + 1]! < 250 || png.data[i + 2]! < 250) ink++;
  return ink;
}

/** The texts of the SVG's <text> elements. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&amp;/g, '&').replace(/&#x27;|&#39;/g, '\'').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
}

/** The line marks of the SVG: one path per series, with its dash pattern. */
function lines(svg: string): string[] {
  return [...svg.matchAll(/<path [^>]*aria-roledescription="line mark"[^>]*>/g)].map((m) => /stroke-dasharray="([^"]*)"/.exec(m[0])?.[1] ?? 'solid');
}

function records(epochs: number, validation: boolean, loss: (e: number) => { loss: number; recon: number; kl: number }, beta = 1): object[] {
  return Array.from({ length: epochs }, (_, i) => {
    const e = i + 1;
    const t = loss(e);
    const v = loss(e + 0.5);
    return { epoch: e, ...t, beta, ...(validation ? { valLoss: v.loss, valRecon: v.recon, valKl: v.kl } : {}) };
  });
}

const elbo = (e: number): { loss: number; recon: number; kl: number } => ({ loss: 120 + 80 / e + 20, recon: 120 + 80 / e, kl: 20 });

test('training curves: loss, reconstruction and KL panels, training solid and validation dashed, axes in nats per example', async () => {
  const chart = await trainingCurvesChart(records(6, true, elbo), 'Training curves of runs/demo', { loss: 'elbo' });
  const words = texts(chart.svg);
  assert.ok(words.includes('Training curves of runs/demo'), 'the title');
  assert.ok(words.includes('epoch'), 'the x axis title');
  assert.ok(words.includes('nats per example'), 'the y axis title with units');
  for (const panel of ['Loss: negative ELBO', 'Reconstruction: negative log-likelihood', 'KL divergence to the prior']) assert.ok(words.includes(panel), panel);
  assert.ok(words.includes('training') && words.includes('validation'), 'the legend');
  const drawn = lines(chart.svg);
  assert.equal(drawn.length, 6, 'three quantities, training and validation each');
  assert.equal(drawn.filter((d) => d === '1,0' || d === 'solid').length, 3, 'training solid');
  assert.equal(drawn.filter((d) => d === '6,4').length, 3, 'validation dashed');
  assert.ok(checkPng(chart) > 5000, 'the PNG has ink');
  assert.deepEqual(chart.warnings, []);
  // The spec is a Vega-Lite spec a web page can draw: the fonts and the data are in it.
  const spec = chart.spec as { $schema: string; config: { font: string }; data: { values: object[] } };
  assert.match(spec.$schema, /vega-lite/);
  assert.equal(spec.config.font, 'DejaVu Sans');
  assert.equal(spec.data.values.length, 6 * 3 * 2);

  // Without validation values: one line per panel.
  const trainOnly = await trainingCurvesChart(records(4, false, elbo), 'no validation');
  assert.equal(lines(trainOnly.svg).length, 3);
  assert.ok(!texts(trainOnly.svg).includes('validation'), 'no validation in the legend');
});

test('training curves of the notebook\'s squared error: one panel in squared error, no KL (from the records or the loss name)', async () => {
  const mse = (e: number): { loss: number; recon: number; kl: number } => ({ loss: 0.05 + 0.05 / e, recon: 0.05 + 0.05 / e, kl: 300 + 10 * e });
  for (const chart of [
    await trainingCurvesChart(records(5, true, mse), 'the notebook'),
    await trainingCurvesChart(records(5, true, mse), 'the notebook', { loss: 'notebook-mse' }),
  ]) {
    const words = texts(chart.svg);
    assert.ok(words.includes('Loss: mean squared error'), 'the loss panel');
    assert.ok(words.includes('mean squared error per value'), 'the y axis in squared error');
    assert.ok(!words.some((w) => /KL|nats/.test(w)), 'no KL panel, no nats');
    assert.equal(lines(chart.svg).length, 2);
  }
  // An ELBO with beta 0 trains no KL either: its loss is its reconstruction, in nats.
  const noKl = await trainingCurvesChart(records(3, true, (e) => ({ loss: 100 / e, recon: 100 / e, kl: 50 }), 0), 'beta 0');
  assert.ok(texts(noKl.svg).includes('nats per example'), 'nats');
  assert.ok(!texts(noKl.svg).some((w) => w.includes('KL')), 'no KL panel');
  assert.equal(lines(noKl.svg).length, 2);
  await assert.rejects(trainingCurvesChart([], 'empty'), VaekitError);
  await assert.rejects(trainingCurvesChart([{ note: 'no epoch' }], 'empty'), /no epochs/);
});

test('a latent map: one point per code, coloured by class name with a legend, titled axes', async () => {
  const n = 300;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    x[i] = labels[i]! * 4 + Math.sin(i);
    y[i] = Math.cos(i * 1.7);
  }
  x[7] = Number.NaN; // skipped
  const chart = await latentMapChart({
    x, y, labels, labelNames: ['cat', 'dog', 'bird'], title: 'Latent means (PCA)', xTitle: 'component 1', yTitle: 'component 2',
  });
  const words = texts(chart.svg);
  for (const w of ['Latent means (PCA)', 'component 1', 'component 2', 'class', 'cat', 'dog', 'bird']) assert.ok(words.includes(w), w);
  // Legend labels in class order, not alphabetical.
  assert.ok(words.indexOf('cat') < words.indexOf('dog') && words.indexOf('dog') < words.indexOf('bird'), 'legend in class order');
  assert.equal((chart.svg.match(/aria-roledescription="circle"/g) ?? []).length, n - 1);
  const fills = new Set([...chart.svg.matchAll(/aria-roledescription="circle"[^>]*fill="(#[0-9a-f]+)"/g)].map((m) => m[1]));
  assert.equal(fills.size, 3, 'one colour per class');
  assert.ok(checkPng(chart) > 2000, 'the PNG has ink');

  const plain = await latentMapChart({ x, y, labels: null, labelNames: [], title: 'unlabelled', xTitle: 'z1', yTitle: 'z2' });
  assert.ok(!texts(plain.svg).includes('class'), 'no legend without labels');
  await assert.rejects(latentMapChart({ x, y: y.subarray(1), labels: null, labelNames: [], title: 't', xTitle: 'a', yTitle: 'b' }), /as many y values/);
});

test('a score histogram: normal and anomalous overlaid, the threshold as a rule; one histogram without labels', async () => {
  const scores: number[] = [];
  const isAnomaly: boolean[] = [];
  for (let i = 0; i < 400; i++) {
    const anomaly = i % 4 === 0;
    scores.push(anomaly ? 200 + (i % 37) : 100 + (i % 23));
    isAnomaly.push(anomaly);
  }
  const chart = await scoreHistogramChart({ scores, isAnomaly, threshold: 150, title: 'Anomaly scores', xTitle: 'negative ELBO (nats per example)' });
  const words = texts(chart.svg);
  for (const w of ['Anomaly scores', 'negative ELBO (nats per example)', 'share of the group\'s examples', 'normal (300)', 'anomalous (100)', 'threshold 150']) {
    assert.ok(words.includes(w), w);
  }
  assert.equal((chart.svg.match(/aria-roledescription="rule mark"/g) ?? []).length, 1, 'the threshold rule');
  const bars = [...chart.svg.matchAll(/aria-roledescription="bar"[^>]*fill="(#[0-9a-f]+)"/g)].map((m) => m[1]);
  assert.deepEqual(new Set(bars), new Set(['#1f77b4', '#d62728']), 'bars of both groups');
  assert.ok(checkPng(chart) > 5000, 'the PNG has ink');
  assert.deepEqual(chart.warnings, []);

  const one = await scoreHistogramChart({ scores, isAnomaly: null, title: 'Scores', xTitle: 'score' });
  assert.ok(texts(one.svg).includes('examples'), 'counts of examples');
  assert.ok(!one.svg.includes('rule mark'), 'no threshold, no rule');
  await assert.rejects(scoreHistogramChart({ scores, isAnomaly: [true], title: 't', xTitle: 'x' }), /one anomaly flag per score/);
  await assert.rejects(scoreHistogramChart({ scores: [Number.NaN], isAnomaly: null, title: 't', xTitle: 'x' }), /at least one finite score/);
});

interface HistogramSpec {
  title: { subtitle: string | string[] };
  layer: Array<{ data: { values: Array<Record<string, unknown>> }; mark: { type: string } }>;
}

/** The bars of a score histogram's spec: each bar's edges, count and group. */
function bars(spec: object): Array<{ bin_start: number; bin_end: number; examples: number; group?: string }> {
  const layer = (spec as HistogramSpec).layer.find((l) => l.mark.type === 'bar')!;
  return layer.data.values as Array<{ bin_start: number; bin_end: number; examples: number; group?: string }>;
}

/** The x axis's labels in the SVG, each as the span of pixels it covers (from its anchor and its DejaVu width). */
function xAxisLabels(svg: string): Array<{ text: string; from: number; to: number }> {
  for (const group of svg.matchAll(/<g class="mark-text role-axis-label"[^>]*>(.*?)<\/g>/g)) {
    const labels = [...group[1]!.matchAll(/<text text-anchor="(\w+)" transform="translate\(([-\d.e]+),([-\d.e]+)\)"[^>]*>([^<]*)<\/text>/g)]
      .map((m) => ({ anchor: m[1]!, x: Number(m[2]), y: Number(m[3]), text: m[4]! }));
    if (labels.length < 2 || labels.some((l) => l.y !== labels[0]!.y)) continue;
    return labels.map((l) => {
      const w = textWidth(l.text, 11);
      const from = l.anchor === 'start' ? l.x : l.anchor === 'end' ? l.x - w : l.x - w / 2;
      return { text: l.text, from, to: from + w };
    });
  }
  assert.fail('an x axis with labels');
}

/** 200 normal scores around 100 (standard deviation 5) and 10 outliers at 10,000. */
function normalAndOutliers(): { scores: number[]; isAnomaly: boolean[] } {
  const rng = new Random(3);
  const scores = [...Array.from({ length: 200 }, () => 100 + 5 * rng.normal()), ...Array.from({ length: 10 }, () => 10_000)];
  return { scores, isAnomaly: scores.map((_, i) => i >= 200) };
}

test('a score histogram with outliers: many bins over the normal scores, the outliers in a last bar marked \u2265 its edge; every score counted in its bin', async () => {
  const { scores, isAnomaly } = normalAndOutliers();
  for (const flags of [isAnomaly, null]) {
    const spec = scoreHistogramSpec({ scores, isAnomaly: flags, title: 'Scores', subtitle: 'one model', xTitle: 'x' });
    const drawn = bars(spec);
    assert.equal(drawn.reduce((sum, b) => sum + b.examples, 0), 210, 'every score is counted');
    const last = drawn.reduce((a, b) => (b.bin_start > a.bin_start ? b : a));
    assert.equal(last.examples, 10, 'the 10 outliers share the last bar');
    const normalBins = new Set(drawn.filter((b) => b.bin_start < last.bin_start && (flags === null || b.group === 'normal (200)')).map((b) => b.bin_start));
    assert.ok(normalBins.size >= 10, `${normalBins.size} bins hold the normal scores`);
    // Each bar's count, counted again from the scores: a bin holds the scores in [start, end); the last bar every score from its start up.
    for (const b of drawn.filter((x) => x !== last)) {
      const inside = scores.filter((s, i) => s >= b.bin_start && s < b.bin_end && (flags === null || (b.group === 'normal (200)') === !flags[i]));
      assert.equal(b.examples, inside.length, `the bin [${b.bin_start}, ${b.bin_end})`);
    }
    assert.equal(scores.filter((s) => s >= last.bin_start).length, 10, 'no normal score is in the last bar');
    assert.ok(Math.max(...scores.slice(0, 200)) < last.bin_start);
    const subtitle = (spec as HistogramSpec).title.subtitle;
    assert.deepEqual(subtitle, ['one model', `10 scores of ${last.bin_start} or more (up to 10,000) counted in the last bar, marked \u2265 ${last.bin_start}`]);
    const chart = await scoreHistogramChart({ scores, isAnomaly: flags, title: 'Scores', xTitle: 'x' });
    assert.ok(texts(chart.svg).includes(`\u2265 ${last.bin_start}`), 'the last bar is marked on the chart');
    assert.deepEqual(chart.warnings, []);
  }
  // Without outliers, no end bar; a threshold near the scores widens the bins to it, one far beyond stays off the axis and says so.
  const normal = scores.slice(0, 200);
  assert.ok(bars(scoreHistogramSpec({ scores: normal, isAnomaly: null, title: 't', xTitle: 'x' })).every((b) => b.bin_start < Math.max(...normal)));
  // A score just past the fences would not stretch the axis much: alone it gets a bin like the rest; beside the 10 at 10,000 it is in the end bar.
  const end = (b: { start: number; step: number; count: number }): number => b.start + b.count * b.step;
  const near = 127;
  assert.ok(end(scoreHistogramBins([...normal, near, ...scores.slice(200)])) <= near, 'past the fences');
  assert.ok(end(scoreHistogramBins([...normal, near])) > near, 'in a bin of its own when it is the only one past them');
  const bins = scoreHistogramBins(normal, 130);
  assert.ok(bins.start + bins.count * bins.step > 130, 'the bins reach the threshold');
  const far = await scoreHistogramChart({ scores, isAnomaly, threshold: 5000, title: 't', xTitle: 'x' });
  assert.ok(!far.svg.includes('rule mark'), 'no rule off the axis');
  assert.ok(texts(far.svg).includes('threshold 5,000 \u2192'));
  assert.match(String((far.spec as HistogramSpec).title.subtitle), /the threshold 5,000 lies off the axis, above the bins/);
});

test('a score histogram\'s axis labels never overlap, at any scale of scores', async () => {
  const rng = new Random(5);
  for (const [centre, spread] of [[100, 5], [12_345_678, 50_000], [0.0012, 0.0002], [-3, 1000], [7, 0], [1e9, 3e8]] as const) {
    const scores = Array.from({ length: 300 }, () => centre + spread * rng.normal());
    const chart = await scoreHistogramChart({ scores, isAnomaly: null, title: 'Scores', xTitle: 'x' });
    const labels = xAxisLabels(chart.svg);
    assert.ok(labels.length >= (spread === 0 ? 1 : 3), `${labels.length} labels at ${centre} \u00b1 ${spread}`);
    for (let i = 1; i < labels.length; i++) {
      assert.ok(labels[i]!.from >= labels[i - 1]!.to + 4, `"${labels[i - 1]!.text}" and "${labels[i]!.text}" at ${centre} \u00b1 ${spread} overlap`);
    }
    assert.equal(new Set(labels.map((l) => l.text)).size, labels.length, `distinct labels at ${centre} \u00b1 ${spread}: ${labels.map((l) => l.text).join(' ')}`);
    assert.equal(bars(chart.spec).reduce((sum, b) => sum + b.examples, 0), 300);
  }
});

test('chartFromSpec draws any Vega-Lite spec in DejaVu Sans at a chosen scale, and refuses a broken one', async () => {
  const chart = await chartFromSpec({
    title: 'Bars',
    data: { values: [{ k: 'a', v: 3 }, { k: 'b', v: 5 }] },
    mark: 'bar',
    encoding: { x: { field: 'k', type: 'nominal', title: 'key' }, y: { field: 'v', type: 'quantitative', title: 'value' } },
  }, { scale: 1 });
  assert.ok(texts(chart.svg).includes('Bars'), 'the title');
  assert.match(chart.svg, /font-family="DejaVu Sans"/);
  assert.ok(checkPng(chart, 1) > 500, 'the PNG has ink');
  await assert.rejects(chartFromSpec({ mark: 'no-such-mark', data: { values: [] } }), VaekitError);
});

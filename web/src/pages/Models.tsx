// Models: every run with its metrics (each with its unit), the settings the runs differ in and a
// sparkline of its loss; one run's curves, report and exports; two runs compared: the settings
// they differ in first, their metrics side by side and their curves on one chart. Text runs
// (vaekit train --preset text) are listed with a text model's metrics (NLL, perplexity, KL, mutual
// information, active units) and settings (tokens, vocabulary, cell, ...); series runs (vaekit train
// --window) with their windows and a link to the Series page.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { RunSpec } from '../../../src/studio/messages.js';
import { formFieldOf } from '../../../src/studio/words.js';
import { BROWSER_CHART_FONT, chartConfig, trainingCurvesSpec } from '../../../src/viz/chart-specs.js';
import { api, exportUrl, reportUrl, type EpochRecord, type RunSummary } from '../api.js';
import { Chart } from '../chart.js';
import { hasModel, isSeriesRun, isTextRun, pageHref, pickRun, useRoute, useRuns } from '../store.js';
import {
  Card, dataWords, ErrorLine, fixed, imageMetricsOf, modelWords, NOISE_KINDS, StatusBadge, textConfigOf, textMetricsOf, vocabularyWords, windowWords,
} from '../widgets.js';

const EXPORTS = [
  { format: 'onnx', label: 'ONNX' },
  { format: 'tfjs', label: 'TF.js' },
  { format: 'pytorch', label: 'PyTorch' },
] as const;

/** The records of the runs shown, fetched once per run and number of epochs. */
function useRecords(runs: RunSummary[] | null): Map<string, EpochRecord[]> {
  const [records, setRecords] = useState(new Map<string, EpochRecord[]>());
  const key = (runs ?? []).map((r) => `${r.id}:${r.epochsDone}`).join(',');
  useEffect(() => {
    if (runs === null) return undefined;
    let cancelled = false;
    const wanted = runs.slice(0, 40);
    void Promise.all(wanted.map((r) => api.run(r.id).then((d) => [r.id, d.records] as const).catch(() => [r.id, [] as EpochRecord[]] as const)))
      .then((pairs) => { if (!cancelled) setRecords(new Map(pairs)); });
    return () => { cancelled = true; };
  }, [key]);
  return records;
}

/** A noise spec ("gaussian:0.2") as the Noise control names it: "Gaussian σ 0.2". */
function noiseWords(text: string): string {
  const [kind, amount] = text.split(':');
  const known = NOISE_KINDS.find((k) => k.kind === kind);
  return known === undefined ? text : known.kind === 'none' ? known.label : `${known.label} ${known.what} ${amount ?? ''}`.trim();
}

/**
 * The settings runs are told apart by: a run spec's field (its label is the Train form's, from the
 * studio's words; `label` names those the form does not show) and the run's value in the page's
 * words, null where the run does not say. The model's own config wins over the spec, whose nulls
 * leave the choice to the preset.
 */
const SETTINGS: { field: string; label?: string; of: (run: RunSummary, spec: RunSpec | null) => string | null }[] = [
  { field: 'data.source', of: (r, s) => (r.data !== null ? dataWords(r) : s?.data.source ?? null) },
  { field: 'data.limit', of: (_, s) => (s === null ? null : s.data.limit === null ? 'all' : s.data.limit.toLocaleString('en-US')) },
  { field: 'model.preset', of: (r, s) => r.config?.preset ?? s?.model.preset ?? null },
  { field: 'model.latent', of: (r, s) => (r.config !== null ? (r.config.latent === 0 && isTextRun(r) ? 'none (a language model)' : String(r.config.latent)) : s?.model.latent != null ? String(s.model.latent) : null) },
  { field: 'model.likelihood', of: (r, s) => (r.config !== null && 'likelihood' in r.config ? r.config.likelihood : s?.model.likelihood ?? null) },
  { field: 'model.conditional', of: (r, s) => (r.config !== null ? (r.config.classes > 0 ? `yes (${r.config.classes} classes)` : 'no') : s === null ? null : s.model.conditional ? 'yes' : 'no') },
  { field: 'model.prior', label: 'Prior', of: (_, s) => (s === null ? null : s.model.prior ?? 'standard') },
  { field: 'objective.loss', label: 'Loss', of: (_, s) => s?.objective.loss ?? null },
  { field: 'objective.beta', of: (_, s) => (s === null ? null : String(s.objective.beta)) },
  { field: 'objective.freeBits', label: 'Free bits', of: (_, s) => (s === null ? null : s.objective.freeBits === 0 ? 'none' : `${s.objective.freeBits} nats`) },
  { field: 'objective.klWarmup', label: 'KL warm-up', of: (_, s) => s?.objective.klWarmup ?? null },
  { field: 'noise.input', of: (_, s) => (s === null ? null : noiseWords(s.noise.input)) },
  { field: 'training.epochs', of: (r) => String(r.epochs) },
  { field: 'training.batchSize', of: (_, s) => (s === null ? null : String(s.training.batchSize)) },
  { field: 'training.learningRate', of: (_, s) => (s === null ? null : String(s.training.learningRate)) },
  { field: 'training.precision', of: (_, s) => s?.training.precision ?? null },
  { field: 'seed', of: (_, s) => (s === null ? null : String(s.seed)) },
];

/** A text model's settings, shown when a text run is listed ('–' for the image and table runs). */
const TEXT_SETTINGS: typeof SETTINGS = [
  {
    field: 'data.tokens', label: 'Tokens', of: (r, s) => {
      const t = r.data?.text?.vocabulary.tokenizer;
      return t !== undefined ? `${t.kind}${t.lowercase ? ', lower-cased' : ''}` : s?.data.tokens ?? null;
    },
  },
  { field: 'data.vocab', label: 'Vocabulary', of: (r) => vocabularyWords(r) },
  { field: 'data.maxLength', label: 'Maximum length', of: (r) => { const c = textConfigOf(r); return c === null ? null : `${c.maxLength} tokens`; } },
  { field: 'model.cell', label: 'Cell', of: (r) => { const c = textConfigOf(r); return c === null ? null : `${c.cell}${c.bidirectional ? ', bidirectional encoder' : ''}`; } },
  { field: 'model.embedding', label: 'Embedding', of: (r) => { const c = textConfigOf(r); return c === null ? null : String(c.embedding); } },
  { field: 'model.encoderHidden', label: 'Encoder state', of: (r) => { const c = textConfigOf(r); return c === null ? null : c.encoderHidden === 0 ? 'none' : String(c.encoderHidden); } },
  { field: 'model.decoderHidden', label: 'Decoder state', of: (r) => { const c = textConfigOf(r); return c === null ? null : String(c.decoderHidden); } },
  { field: 'objective.wordDropout', label: 'Word dropout', of: (r, s) => (textConfigOf(r) === null || s === null ? null : String(s.objective.wordDropout)) },
];

/** The settings the runs listed are told apart by: a text model's too when one of them is a text run. */
function settingsShown(runs: readonly RunSummary[]): typeof SETTINGS {
  return runs.some(isTextRun) ? [...SETTINGS, ...TEXT_SETTINGS] : SETTINGS;
}

interface Setting {
  field: string;
  label: string;
  /** '–' where the run does not say. */
  value: string;
}

function settingsOf(run: RunSummary, spec: RunSpec | null, shown: typeof SETTINGS = SETTINGS): Setting[] {
  return shown.map((s) => ({ field: s.field, label: formFieldOf(s.field) ?? s.label ?? s.field, value: s.of(run, spec) ?? '–' }));
}

/** The fields whose values are not the same in every one of the runs' settings. */
function differingFields(settings: Setting[][]): Set<string> {
  const fields = new Set<string>();
  for (const [i, s] of (settings[0] ?? []).entries()) if (settings.some((other) => other[i]!.value !== s.value)) fields.add(s.field);
  return fields;
}

function SettingWords({ setting }: { setting: Setting }) {
  return <span class="setting" data-setting={setting.field}><span class="setting-label">{setting.label}</span> {setting.value}</span>;
}

/** The unit of a run's loss: the notebook's squared error, else nats. */
function lossUnit(spec: RunSpec | null | undefined): string {
  return spec?.objective.loss === 'notebook-mse' ? 'mean squared error per value' : 'nats per example';
}

/** A run's training time: its epochs' seconds. */
function trainingSeconds(records: EpochRecord[] | undefined): number | null {
  return records === undefined || records.length === 0 ? null : records.reduce((sum, r) => sum + r.seconds, 0);
}

function Sparkline({ records }: { records: EpochRecord[] | undefined }) {
  const w = 90;
  const h = 26;
  if (records === undefined || records.length === 0) return <svg class="spark" width={w} height={h} />;
  const values = records.map((r) => r.valLoss ?? r.loss);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const x = (i: number): number => (records.length === 1 ? w / 2 : 2 + (i * (w - 4)) / (records.length - 1));
  const y = (v: number): number => (hi === lo ? h / 2 : 3 + (1 - (v - lo) / (hi - lo)) * (h - 6));
  const d = values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} aria-label="validation loss by epoch">
      <path d={d} fill="none" stroke="#1f77b4" stroke-width="1.5" />
      <circle cx={x(values.length - 1)} cy={y(values[values.length - 1]!)} r="2" fill="#1f77b4" />
    </svg>
  );
}

/** Two runs' loss curves on one chart: colour by run, training solid and validation dashed. */
function comparisonSpec(a: string, b: string, records: Map<string, EpochRecord[]>, unit: string): object | null {
  const rows: Record<string, unknown>[] = [];
  for (const id of [a, b]) {
    for (const r of records.get(id) ?? []) {
      rows.push({ run: id, epoch: r.epoch, split: 'training', value: r.loss });
      if (r.valLoss !== undefined) rows.push({ run: id, epoch: r.epoch, split: 'validation', value: r.valLoss });
    }
  }
  if (rows.length === 0) return null;
  const legend = { orient: 'top', title: null, symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 300 };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Loss of ${a} and ${b}`, subtitle: 'training solid, validation dashed' },
    width: 640,
    height: 260,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 2, point: { size: 22, filled: true } },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { zero: false, nice: false } },
      y: { field: 'value', type: 'quantitative', title: `loss (${unit})`, scale: { zero: false } },
      color: { field: 'run', type: 'nominal', scale: { domain: [a, b], range: ['#1f77b4', '#d62728'] }, legend },
      strokeDash: { field: 'split', type: 'nominal', scale: { domain: ['training', 'validation'], range: [[1, 0], [6, 4]] }, legend: null },
    },
    config: chartConfig(BROWSER_CHART_FONT),
  };
}

function RunDetail({ run, records }: { run: RunSummary; records: EpochRecord[] | undefined }) {
  const spec = useMemo(() => (records === undefined || records.length === 0 ? null
    : trainingCurvesSpec(records, `Training curves of ${run.id}`, { subtitle: modelWords(run) })), [records, run.id]);
  const m = imageMetricsOf(run.testMetrics);
  const t = textMetricsOf(run.testMetrics);
  const text = isTextRun(run);
  const ready = hasModel(run);
  return (
    <Card title={run.id} wide actions={<StatusBadge status={run.status} />}>
      <div class="detail" data-testid="run-detail">
        <dl class="facts">
          <dt>model</dt><dd>{modelWords(run)}</dd>
          <dt>data</dt><dd>{run.data?.source ?? '–'}{run.data !== null ? (text ? ` [up to ${run.data.shape[0] ?? '?'} tokens]` : ` [${windowWords(run) ?? run.data.shape.join('×')}]`) : ''}</dd>
          <dt>epochs</dt><dd>{run.epochsDone} of {run.epochs}{trainingSeconds(records) !== null ? ` in ${fixed(trainingSeconds(records), 1)} s` : ''}</dd>
          <dt>started</dt><dd>{new Date(run.createdAt).toLocaleString()}</dd>
          {m !== null ? (
            <>
              <dt>test −ELBO</dt><dd>{fixed(m.negElboNats)} nats per example (reconstruction {fixed(m.reconNats)}, KL {fixed(m.klNats)})</dd>
              {m.psnrNoisyDb !== null && m.psnrDenoisedDb !== null ? <><dt>PSNR</dt><dd>{fixed(m.psnrNoisyDb)} dB noisy → {fixed(m.psnrDenoisedDb)} dB denoised ({m.noise})</dd></> : null}
              <dt>MSE</dt><dd>{m.mseNoisy.toFixed(4)} noisy → {m.mseDenoised.toFixed(4)} denoised (per value)</dd>
            </>
          ) : null}
          {t !== null ? (
            <>
              <dt>test NLL</dt><dd data-testid="detail-nll">{fixed(t.nllNats)} nats per sentence ({t.latent === 0 ? 'exact' : `importance-sampled, k = ${t.importanceSamples}`}), perplexity {fixed(t.perplexity)} per token</dd>
              <dt>test −ELBO</dt><dd>{fixed(t.negElboNats)} nats per sentence (reconstruction {fixed(t.reconNats)}, KL {fixed(t.klNats)})</dd>
              <dt>latent code</dt><dd>{t.latent === 0 ? 'none (a language model)' : `mutual information ${fixed(t.mutualInformation)} nats · active units ${t.activeUnits} of ${t.latent}`}</dd>
              <dt>test set</dt><dd>{t.examples.toLocaleString('en-US')} sentences, {t.tokens.toLocaleString('en-US')} tokens (each with its end)</dd>
            </>
          ) : null}
          {run.error !== undefined ? <><dt>error</dt><dd class="error">{run.error}</dd></> : null}
        </dl>
        {text ? (
          <div class="links">
            <a class={`button${ready ? '' : ' disabled'}`} href={pageHref('text')} onClick={() => pickRun(run.id)} data-testid="text-page-link">Open on the Text page</a>
            <p class="muted small">The HTML report and the exports are of image and table models.</p>
          </div>
        ) : (
          <div class="links">
            {isSeriesRun(run) ? <a class={`button${ready ? '' : ' disabled'}`} href={pageHref('series')} onClick={() => pickRun(run.id)} data-testid="series-page-link">Open on the Series page</a> : null}
            <a class={`button${ready ? '' : ' disabled'}`} href={reportUrl(run.id)} target="_blank" rel="noopener" data-testid="report-link">Open the HTML report</a>
            {EXPORTS.map((e) => (
              <a key={e.format} class={`button${ready ? '' : ' disabled'}`} href={exportUrl(run.id, e.format)} download={`${run.id}-${e.format}.zip`} data-testid={`export-${e.format}`}>
                Download {e.label} (.zip)
              </a>
            ))}
          </div>
        )}
      </div>
      <Chart spec={spec} testid="model-curves" placeholder="This run has no finished epoch." />
    </Card>
  );
}

/** A text run's metrics of its latent code's use, or null (no text metrics, or a language model's). */
function latentUse(run: RunSummary): { mutualInformation: number; activeUnits: number } | null {
  const t = textMetricsOf(run.testMetrics);
  return t === null || t.latent === 0 ? null : t;
}

/** A metric of a run, with its unit, for the comparison; `kind`: shown when one of the two runs is of that kind (default: always). */
const METRICS: { label: string; kind?: 'image' | 'text'; unit: (spec: RunSpec | null) => string; digits: number; of: (run: RunSummary, records: EpochRecord[] | undefined) => number | null | undefined }[] = [
  { label: 'Epochs trained', unit: () => '', digits: 0, of: (r) => r.epochsDone },
  { label: 'Training loss, last epoch', unit: lossUnit, digits: 2, of: (r) => r.lastEpoch?.loss },
  { label: 'Validation loss, last epoch', unit: lossUnit, digits: 2, of: (r) => r.lastEpoch?.valLoss },
  { label: 'Test −ELBO', unit: () => 'nats per example', digits: 2, of: (r) => r.testMetrics?.negElboNats },
  { label: 'its reconstruction', unit: () => 'nats per example', digits: 2, of: (r) => r.testMetrics?.reconNats },
  { label: 'its KL', unit: () => 'nats per example', digits: 2, of: (r) => r.testMetrics?.klNats },
  { label: 'PSNR of the noisy input', kind: 'image', unit: () => 'dB', digits: 2, of: (r) => imageMetricsOf(r.testMetrics)?.psnrNoisyDb },
  { label: 'PSNR denoised', kind: 'image', unit: () => 'dB', digits: 2, of: (r) => imageMetricsOf(r.testMetrics)?.psnrDenoisedDb },
  { label: 'MSE denoised', kind: 'image', unit: () => 'per value', digits: 4, of: (r) => imageMetricsOf(r.testMetrics)?.mseDenoised },
  { label: 'Test NLL', kind: 'text', unit: () => 'nats per sentence', digits: 2, of: (r) => textMetricsOf(r.testMetrics)?.nllNats },
  { label: 'Perplexity', kind: 'text', unit: () => 'per token', digits: 2, of: (r) => textMetricsOf(r.testMetrics)?.perplexity },
  // A language model has no latent code: no mutual information or active units to show.
  { label: 'Mutual information', kind: 'text', unit: () => 'nats', digits: 2, of: (r) => latentUse(r)?.mutualInformation },
  { label: 'Active units', kind: 'text', unit: () => '', digits: 0, of: (r) => latentUse(r)?.activeUnits },
  { label: 'Training time', unit: () => 's', digits: 2, of: (_, records) => trainingSeconds(records) },
];

/** A number with its unit ("112.34 nats per example"), or – when there is none. */
function withUnit(v: number | null | undefined, digits: number, unit: string): string {
  const text = fixed(v, digits);
  return text === '–' || unit === '' ? text : `${text} ${unit}`;
}

/** "Latent size (3 vs 2) and β (KL weight) (1 vs 0.5)". */
function differWords(rows: { label: string; a: string; b: string }[]): string {
  const parts = rows.map((r) => `${r.label} (${r.a} vs ${r.b})`);
  return parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]!}`;
}

interface ComparedRun {
  run: RunSummary;
  spec: RunSpec | null;
  records: EpochRecord[] | undefined;
}

/** Two runs side by side: the settings they differ in (first, marked), the rest, their metrics with units, their curves on one chart. */
function Comparison({ a, b, records, onClear }: { a: ComparedRun; b: ComparedRun; records: Map<string, EpochRecord[]>; onClear: () => void }) {
  const shown = settingsShown([a.run, b.run]);
  const left = settingsOf(a.run, a.spec, shown);
  const right = settingsOf(b.run, b.spec, shown);
  const kinds = new Set([a.run, b.run].map((r) => (isTextRun(r) ? 'text' : 'image')));
  const metrics = METRICS.filter((m) => m.kind === undefined || kinds.has(m.kind));
  const differing = differingFields([left, right]);
  const rows = left.map((s, i) => ({ field: s.field, label: s.label, a: s.value, b: right[i]!.value, differs: differing.has(s.field) }))
    .sort((x, y) => Number(y.differs) - Number(x.differs));
  const differ = rows.some((r) => r.differs) ? `They differ in ${differWords(rows.filter((r) => r.differs))}.` : 'They were trained with the same settings.';
  const unit = lossUnit(a.spec) === lossUnit(b.spec) ? lossUnit(a.spec) : 'each run\'s own unit';
  const spec = useMemo(() => comparisonSpec(a.run.id, b.run.id, records, unit), [a.run.id, b.run.id, records, unit]);
  return (
    <Card title={`Comparison of ${a.run.id} and ${b.run.id}`} wide actions={<button type="button" onClick={onClear}>Clear</button>}>
      <p class="compare-differ" data-testid="comparison-differs">{differ}</p>
      <div class="compare-tables">
        <table class="runs compare" data-testid="comparison-settings">
          <thead><tr><th>Setting</th><th>{a.run.id}</th><th>{b.run.id}</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.field} data-setting={r.field} data-differs={String(r.differs)} class={r.differs ? 'differs' : 'same'}>
                <td>{r.differs ? <span class="differs-mark" title="differs">≠</span> : null}{r.label}</td><td>{r.a}</td><td>{r.b}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <table class="runs compare" data-testid="comparison-metrics">
          <thead><tr><th>Metric</th><th class="num">{a.run.id}</th><th class="num">{b.run.id}</th></tr></thead>
          <tbody>
            {metrics.map((m) => (
              <tr key={m.label}>
                <td>{m.label}</td>
                {[a, b].map((c) => <td key={c.run.id} class="num">{withUnit(m.of(c.run, c.records), m.digits, m.unit(c.spec))}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Chart spec={spec} testid="comparison" placeholder="Neither run has a finished epoch." />
    </Card>
  );
}

export function ModelsPage() {
  const route = useRoute();
  const { value: runs, error } = useRuns();
  const records = useRecords(runs);
  const [compare, setCompare] = useState<string[]>([]);
  const selected = runs?.find((r) => r.id === route.run) ?? runs?.[0] ?? null;
  const toggle = (id: string): void => setCompare((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id].slice(-2)));
  const settings = useMemo(() => {
    const shown = settingsShown(runs ?? []);
    return new Map((runs ?? []).map((r) => [r.id, settingsOf(r, r.spec, shown)]));
  }, [runs]);
  const anyText = (runs ?? []).some(isTextRun);
  const anyImage = (runs ?? []).some((r) => !isTextRun(r));
  const differing = useMemo(() => differingFields([...settings.values()]), [settings]);
  if (runs === null) return <div class="page"><ErrorLine error={error} />{error === null ? <p class="muted">Loading the runs…</p> : null}</div>;
  const common = (settings.get(runs[0]?.id ?? '') ?? []).filter((s) => !differing.has(s.field));
  const compared = compare.map((id) => runs.find((r) => r.id === id)).filter((r): r is RunSummary => r !== undefined)
    .map((run) => ({ run, spec: run.spec, records: records.get(run.id) }));
  return (
    <div class="page models">
      <Card title="Runs" wide>
        <ErrorLine error={error} />
        {runs.length === 0 ? <p class="muted">No runs yet: train one on the <a href="#/train">Train</a> page.</p> : (
          <>
            <p class="common-settings" data-testid="common-settings">
              <span class="muted">{runs.length === 1 ? 'Settings:' : 'All runs:'}</span>{' '}
              {common.map((s) => <SettingWords key={s.field} setting={s} />)}
            </p>
            <div class="table-scroll">
            <table class="runs" data-testid="models-table">
              <thead>
                <tr>
                  <th title="Pick two to compare">compare</th><th>run</th><th>status</th>
                  {differing.size > 0 ? <th data-testid="differs-head">differs in</th> : null}
                  <th class="num">epochs</th>
                  <th class="num">val. loss<br /><small>nats per example</small></th>
                  <th class="num">test −ELBO<br /><small>nats per example</small></th>
                  {anyImage ? <th class="num">PSNR<br /><small>dB, noisy → denoised</small></th> : null}
                  {anyText ? <th class="num" data-testid="text-metrics-head">text model<br /><small>nats per sentence</small></th> : null}
                  <th class="num">time<br /><small>s</small></th>
                  <th>loss by epoch</th>
                </tr>
              </thead>
              <tbody>
                {runs.map((r) => (
                  <tr key={r.id} class={r.id === selected?.id ? 'current' : ''} data-run={r.id}>
                    <td><input type="checkbox" checked={compare.includes(r.id)} onChange={() => toggle(r.id)} data-testid={`compare-${r.id}`} aria-label={`compare ${r.id}`} /></td>
                    <td><a href="#/models" onClick={(e) => { e.preventDefault(); pickRun(r.id); }}>{r.id}</a></td>
                    <td><StatusBadge status={r.status} /></td>
                    {differing.size > 0 ? (
                      <td class="differs" data-testid="differs">
                        {/* A setting this run does not have (a text model's tokens on an image run, an image model's likelihood on a text run) is left out. */}
                        {(settings.get(r.id) ?? []).filter((s) => differing.has(s.field) && (s.value !== '–' || !anyText)).map((s) => <SettingWords key={s.field} setting={s} />)}
                      </td>
                    ) : null}
                    <td class="num">{r.epochsDone} of {r.epochs}</td>
                    <td class="num">{fixed(r.lastEpoch?.valLoss ?? r.lastEpoch?.loss)}{lossUnit(r.spec) !== 'nats per example' ? <small> (MSE)</small> : null}</td>
                    <td class="num">{fixed(r.testMetrics?.negElboNats)}</td>
                    {anyImage ? (() => { const m = imageMetricsOf(r.testMetrics); return <td class="num">{m?.psnrDenoisedDb != null ? `${fixed(m.psnrNoisyDb, 1)} → ${fixed(m.psnrDenoisedDb, 1)}` : '–'}</td>; })() : null}
                    {anyText ? (() => {
                      const t = textMetricsOf(r.testMetrics);
                      if (t === null) return <td class="num text-metrics">–</td>;
                      return (
                        <td class="num text-metrics" data-testid="text-metrics">
                          <span data-metric="nll">NLL {fixed(t.nllNats)}</span><br />
                          <span data-metric="perplexity">perplexity {fixed(t.perplexity)}</span><br />
                          {t.latent === 0 ? <span class="muted">no latent code</span> : (
                            <><span data-metric="kl">KL {fixed(t.klNats)}</span> · <span data-metric="mi">MI {fixed(t.mutualInformation)}</span><br />
                              <span data-metric="active-units">{t.activeUnits} of {t.latent} active</span></>
                          )}
                        </td>
                      );
                    })() : null}
                    <td class="num">{fixed(trainingSeconds(records.get(r.id)), 1)}</td>
                    <td><Sparkline records={records.get(r.id)} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
            </div>
          </>
        )}
      </Card>
      {compared.length === 2 ? (
        <Comparison a={compared[0]!} b={compared[1]!} records={records} onClear={() => setCompare([])} />
      ) : runs.length > 1 ? <p class="muted hint">Tick two runs to compare their settings, metrics and curves.</p> : null}
      {selected !== null ? <RunDetail run={selected} records={records.get(selected.id)} /> : null}
    </div>
  );
}

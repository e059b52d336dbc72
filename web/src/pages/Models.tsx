// Models: every run with its metrics and a sparkline of its loss; one run's curves, report and
// exports; two runs' curves on one chart.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { BROWSER_CHART_FONT, chartConfig, trainingCurvesSpec } from '../../../src/viz/chart-specs.js';
import { api, exportUrl, reportUrl, type EpochRecord, type RunSummary } from '../api.js';
import { Chart } from '../chart.js';
import { hasModel, pickRun, useRoute, useRuns } from '../store.js';
import { Card, dataWords, ErrorLine, fixed, modelWords, StatusBadge } from '../widgets.js';

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
function comparisonSpec(a: string, b: string, records: Map<string, EpochRecord[]>): object | null {
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
      y: { field: 'value', type: 'quantitative', title: 'loss (nats per example)', scale: { zero: false } },
      color: { field: 'run', type: 'nominal', scale: { domain: [a, b], range: ['#1f77b4', '#d62728'] }, legend },
      strokeDash: { field: 'split', type: 'nominal', scale: { domain: ['training', 'validation'], range: [[1, 0], [6, 4]] }, legend: null },
    },
    config: chartConfig(BROWSER_CHART_FONT),
  };
}

function RunDetail({ run, records }: { run: RunSummary; records: EpochRecord[] | undefined }) {
  const spec = useMemo(() => (records === undefined || records.length === 0 ? null
    : trainingCurvesSpec(records, `Training curves of ${run.id}`, { subtitle: modelWords(run) })), [records, run.id]);
  const m = run.testMetrics;
  const ready = hasModel(run);
  return (
    <Card title={run.id} wide actions={<StatusBadge status={run.status} />}>
      <div class="detail" data-testid="run-detail">
        <dl class="facts">
          <dt>model</dt><dd>{modelWords(run)}</dd>
          <dt>data</dt><dd>{run.data?.source ?? '–'}{run.data !== null ? ` [${run.data.shape.join('×')}]` : ''}</dd>
          <dt>epochs</dt><dd>{run.epochsDone} of {run.epochs}</dd>
          <dt>started</dt><dd>{new Date(run.createdAt).toLocaleString()}</dd>
          {m !== null ? (
            <>
              <dt>test −ELBO</dt><dd>{fixed(m.negElboNats)} nats (reconstruction {fixed(m.reconNats)}, KL {fixed(m.klNats)})</dd>
              {m.psnrNoisyDb !== null && m.psnrDenoisedDb !== null ? <><dt>PSNR</dt><dd>{fixed(m.psnrNoisyDb)} dB noisy → {fixed(m.psnrDenoisedDb)} dB denoised ({m.noise})</dd></> : null}
              <dt>MSE</dt><dd>{m.mseNoisy.toFixed(4)} noisy → {m.mseDenoised.toFixed(4)} denoised</dd>
            </>
          ) : null}
          {run.error !== undefined ? <><dt>error</dt><dd class="error">{run.error}</dd></> : null}
        </dl>
        <div class="links">
          <a class={`button${ready ? '' : ' disabled'}`} href={reportUrl(run.id)} target="_blank" rel="noopener" data-testid="report-link">Open the HTML report</a>
          {EXPORTS.map((e) => (
            <a key={e.format} class={`button${ready ? '' : ' disabled'}`} href={exportUrl(run.id, e.format)} download={`${run.id}-${e.format}.zip`} data-testid={`export-${e.format}`}>
              Download {e.label} (.zip)
            </a>
          ))}
        </div>
      </div>
      <Chart spec={spec} testid="model-curves" placeholder="This run has no finished epoch." />
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
  const comparison = useMemo(() => (compare.length === 2 ? comparisonSpec(compare[0]!, compare[1]!, records) : null), [compare, records]);
  if (runs === null) return <div class="page"><ErrorLine error={error} />{error === null ? <p class="muted">Loading the runs…</p> : null}</div>;
  return (
    <div class="page models">
      <Card title="Runs" wide>
        <ErrorLine error={error} />
        {runs.length === 0 ? <p class="muted">No runs yet: train one on the <a href="#/train">Train</a> page.</p> : (
          <table class="runs" data-testid="models-table">
            <thead>
              <tr>
                <th title="Pick two to compare">compare</th><th>run</th><th>status</th><th>model</th><th>data</th><th class="num">epochs</th>
                <th class="num">val. loss</th><th class="num">test −ELBO</th><th class="num">PSNR (dB)</th><th>loss by epoch</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} class={r.id === selected?.id ? 'current' : ''} data-run={r.id}>
                  <td><input type="checkbox" checked={compare.includes(r.id)} onChange={() => toggle(r.id)} data-testid={`compare-${r.id}`} aria-label={`compare ${r.id}`} /></td>
                  <td><a href="#/models" onClick={(e) => { e.preventDefault(); pickRun(r.id); }}>{r.id}</a></td>
                  <td><StatusBadge status={r.status} /></td>
                  <td>{modelWords(r)}</td>
                  <td>{dataWords(r)}</td>
                  <td class="num">{r.epochsDone}/{r.epochs}</td>
                  <td class="num">{fixed(r.lastEpoch?.valLoss ?? r.lastEpoch?.loss)}</td>
                  <td class="num">{fixed(r.testMetrics?.negElboNats)}</td>
                  <td class="num">{r.testMetrics?.psnrDenoisedDb != null ? `${fixed(r.testMetrics.psnrNoisyDb, 1)} → ${fixed(r.testMetrics.psnrDenoisedDb, 1)}` : '–'}</td>
                  <td><Sparkline records={records.get(r.id)} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {compare.length === 2 ? (
        <Card title="Comparison" wide actions={<button type="button" onClick={() => setCompare([])}>Clear</button>}>
          <Chart spec={comparison} testid="comparison" placeholder="Neither run has a finished epoch." />
        </Card>
      ) : runs.length > 1 ? <p class="muted hint">Tick two runs to compare their curves on one chart.</p> : null}
      {selected !== null ? <RunDetail run={selected} records={records.get(selected.id)} /> : null}
    </div>
  );
}


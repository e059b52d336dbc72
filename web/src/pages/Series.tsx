// Series: a series run's model (vaekit train --window, e.g. --preset series) scores a series, a file
// on this machine or an upload, every point of it, in the studio's inference worker (the library's
// seriesPointScores). The series figure (the library's seriesChartSpec) draws the series above its
// scores; the threshold, a slider beside it, starts where vaekit anomaly --model puts it, at the 0.99
// quantile of the scores of the held-out normal points of the model's run (or, when the run's data
// cannot be read again, of the file's own scores, and the page says why), and the flagged points,
// their intervals and their count follow it as it moves, computed here. With a label column, the
// AUROC and AUPRC of the scores, and the labelled anomalies on the figure.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { flagged, intervals, type Interval } from '../../../src/anomaly/thresholds.js';
import { formatValue, seriesChartSpec } from '../../../src/viz/series-chart-spec.js';
import { api, messageOf, type RunSummary, type ScoredSeries, type SeriesScores } from '../api.js';
import { Chart } from '../chart.js';
import { hasSeriesModel, refreshRuns, useInfo, usePickedRun } from '../store.js';
import { Card, dataWords, ErrorLine, modelWords, RunPicker, windowWords } from '../widgets.js';

/** The flagged intervals listed under the figure (the count covers them all). */
const SHOWN_INTERVALS = 12;
/** How long the threshold rests before the figure is drawn again (the count follows at once). */
const REDRAW_MS = 120;

/** One series as the page computes with it: NaN where a value is missing or a point has no score. */
interface Drawn {
  name: string;
  timeKind: ScoredSeries['timeKind'];
  times: Float64Array;
  channels: { name: string; values: Float64Array }[];
  scores: Float64Array;
  labels: Uint8Array | null;
}

const numbers = (values: (number | null)[]): Float64Array => Float64Array.from(values, (v) => (v === null ? Number.NaN : v));

function drawnOf(s: ScoredSeries): Drawn {
  return {
    name: s.name, timeKind: s.timeKind, times: Float64Array.from(s.times),
    channels: s.channels.map((c) => ({ name: c.name, values: numbers(c.values) })),
    scores: numbers(s.scores),
    labels: s.labels === null ? null : Uint8Array.from(s.labels),
  };
}

/** The runs of points scoring above the threshold, as [first, last] indices. */
function flaggedRuns(scores: Float64Array, threshold: number): Interval[] {
  const flags = new Array<boolean>(scores.length).fill(false);
  for (const t of flagged(scores, threshold)) flags[t] = true;
  return intervals(flags);
}

/** A time as the list writes it: "2021-03-16 20:00:00" (UTC) for dates, the number otherwise. */
function timeText(t: number, kind: Drawn['timeKind']): string {
  return kind === 'date' ? new Date(t).toISOString().replace('T', ' ').replace(/\.000Z$/, '').replace(/Z$/, '') : String(t);
}

const count = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
const percent = (v: number): string => `${(100 * v).toFixed(2)}%`;

/** The first index of the sorted scores at or above `v` (its length when none is). */
function rankOf(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The columns of a CSV or TSV file's header row (for the label column's choices); null for an NPY file or an unreadable one. */
async function headerColumns(file: File): Promise<string[] | null> {
  const name = file.name.toLowerCase();
  if (!name.endsWith('.csv') && !name.endsWith('.tsv')) return null;
  try {
    const first = (await file.slice(0, 64 * 1024).text()).split(/\r?\n/, 1)[0] ?? '';
    return first.split(name.endsWith('.tsv') ? '\t' : ',').map((c) => c.trim().replace(/^"(.*)"$/, '$1')).filter((c) => c !== '');
  } catch {
    return null;
  }
}

type SourceKind = 'path' | 'upload';

/** What the page scored last: kept while the page is unmounted (another page shown), so coming back finds it. */
let kept: { runId: string; epochs: number; value: SeriesScores } | null = null;
const form = { kind: 'upload' as SourceKind, path: '', labelColumn: '' };

function ScoreForm({ run, onScored }: { run: RunSummary; onScored: (value: SeriesScores) => void }) {
  const { value: info } = useInfo();
  const [kind, setKind] = useState<SourceKind>(form.kind);
  const [path, setPath] = useState(form.path);
  const [file, setFile] = useState<File | null>(null);
  const [columns, setColumns] = useState<string[] | null>(null);
  const [labelColumn, setLabelColumn] = useState(form.labelColumn);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const s = run.data?.series ?? null;
  useEffect(() => { form.kind = kind; form.path = path; form.labelColumn = labelColumn; }, [kind, path, labelColumn]);
  useEffect(() => { setError(null); }, [run.id]);

  // The file's columns the model does not read: the label column's choices (its own label column first picked).
  const choices = columns === null || s === null ? null : columns.filter((c) => c !== s.timeColumn && !(s.valueColumns ?? s.channels).includes(c));
  const pickFile = async (f: File | null): Promise<void> => {
    setFile(f);
    const found = f === null ? null : await headerColumns(f);
    setColumns(found);
    if (found !== null && s !== null) setLabelColumn(s.labelColumn !== null && found.includes(s.labelColumn) ? s.labelColumn : '');
  };

  const score = async (e: Event): Promise<void> => {
    e.preventDefault();
    const label = labelColumn.trim() === '' ? {} : { labelColumn: labelColumn.trim() };
    if (kind === 'upload' && file === null) { setError('Choose a .csv, .tsv or .npy file to score.'); return; }
    if (kind === 'path' && path.trim() === '') { setError('Give the path of a series file (or a folder of them) to score.'); return; }
    setBusy(true);
    try {
      const value = kind === 'upload' ? await api.series.upload(run.id, { file: file!, ...label }) : await api.series.score(run.id, { path: path.trim(), ...label });
      setError(null);
      onScored(value);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const root = info?.dataRoots[0] ?? '';
  return (
    <form class="series-form" onSubmit={(e) => void score(e)} data-testid="series-form">
      <div class="source-choice" role="radiogroup" aria-label="where the series is">
        <label><input type="radio" name="series-source" checked={kind === 'upload'} data-testid="source-upload" onChange={() => setKind('upload')} /> Upload a file</label>
        <label><input type="radio" name="series-source" checked={kind === 'path'} data-testid="source-path" onChange={() => setKind('path')} /> A path on this machine</label>
      </div>
      <div class="series-fields">
        {kind === 'upload' ? (
          <label class="field">
            <span>Series <small>(.csv or .tsv with the model's columns, or .npy)</small></span>
            <input type="file" accept=".csv,.tsv,.npy" data-testid="series-file" onChange={(e) => void pickFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
          </label>
        ) : (
          <label class="field">
            <span>Series <small>(a file or folder in {info !== null ? info.dataRoots.join(', ') : 'the data folders'})</small></span>
            <input type="text" value={path} placeholder={`${root}/series.csv`} data-testid="series-path" spellcheck={false} onInput={(e) => setPath((e.currentTarget as HTMLInputElement).value)} />
          </label>
        )}
        {kind === 'upload' && choices !== null ? (
          <label class="field">
            <span>Label column <small>(0/1: anomalous points, for AUROC and AUPRC)</small></span>
            <select value={labelColumn} data-testid="series-label-column" onChange={(e) => setLabelColumn((e.currentTarget as HTMLSelectElement).value)}>
              <option value="">none</option>
              {choices.map((c) => <option key={c} value={c}>{c}</option>)}
            </select>
          </label>
        ) : (
          <label class="field">
            <span>Label column <small>(optional; 0/1: anomalous points)</small></span>
            <input type="text" value={labelColumn} placeholder={s?.labelColumn ?? 'label'} data-testid="series-label-column" spellcheck={false} onInput={(e) => setLabelColumn((e.currentTarget as HTMLInputElement).value)} />
          </label>
        )}
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy} data-testid="series-score">{busy ? 'Scoring…' : 'Score'}</button>
        </div>
      </div>
      <ErrorLine error={error} />
    </form>
  );
}

function ThresholdControl({ sorted, threshold, start, quantileAt, onChange }: { sorted: Float64Array; threshold: number; start: number; quantileAt: number; onChange: (v: number) => void }) {
  const [typed, setTyped] = useState<string | null>(null);
  const rank = Math.min(sorted.length - 1, rankOf(sorted, threshold));
  return (
    <div class="threshold" data-testid="threshold-control">
      <label class="field slider">
        <span>threshold = <strong data-testid="threshold-value">{formatValue(threshold)}</strong></span>
        <input type="range" min="0" max={sorted.length - 1} step="1" value={rank} data-testid="threshold-slider" aria-label="threshold"
          onInput={(e) => { setTyped(null); onChange(sorted[Number((e.currentTarget as HTMLInputElement).value)]!); }} />
      </label>
      <label class="field inline">
        <span>or type it</span>
        <input type="number" step="any" value={typed ?? String(Number(threshold.toPrecision(6)))} data-testid="threshold-input" aria-label="threshold value"
          onInput={(e) => {
            const text = (e.currentTarget as HTMLInputElement).value;
            setTyped(text);
            const v = Number(text);
            if (text.trim() !== '' && Number.isFinite(v)) onChange(v);
          }} />
      </label>
      <button type="button" disabled={threshold === start} data-testid="threshold-reset" onClick={() => { setTyped(null); onChange(start); }}>
        Back to the {quantileAt} quantile
      </button>
    </div>
  );
}

function ScoredCard({ run, result }: { run: RunSummary; result: SeriesScores }) {
  const series = useMemo(() => result.series.map(drawnOf), [result]);
  const sorted = useMemo(() => Float64Array.from(series.flatMap((s) => Array.from(s.scores).filter(Number.isFinite))).sort(), [series]);
  const [threshold, setThreshold] = useState(result.threshold);
  const [drawnAt, setDrawnAt] = useState(result.threshold);
  const [shown, setShown] = useState(0);
  useEffect(() => { setThreshold(result.threshold); setDrawnAt(result.threshold); setShown(0); }, [result]);
  useEffect(() => {
    const timer = setTimeout(() => setDrawnAt(threshold), REDRAW_MS);
    return () => clearTimeout(timer);
  }, [threshold]);

  // The flagged intervals of every series at the threshold as it is now: the count follows the slider at once.
  const runs = useMemo(() => series.map((s) => flaggedRuns(s.scores, threshold)), [series, threshold]);
  const flaggedPoints = runs.reduce((n, list) => n + list.reduce((m, [a, b]) => m + b - a + 1, 0), 0);
  const intervalCount = runs.reduce((n, list) => n + list.length, 0);

  const one = series[Math.min(shown, series.length - 1)]!;
  const spec = useMemo(() => {
    const labelled = one.labels === null ? [] : intervals(Array.from(one.labels, (y) => y === 1));
    return seriesChartSpec({
      title: one.name,
      subtitle: `scored by ${run.id}: each point's score, −log p(x | z) summed over its channels and averaged over the windows of ${result.window} points that cover it (nats)`,
      times: one.times, timeKind: one.timeKind, channels: one.channels, scores: one.scores,
      threshold: drawnAt,
      flaggedIntervals: flaggedRuns(one.scores, drawnAt).map(([start, end]) => ({ start, end })),
      labelIntervals: labelled.map(([start, end]) => ({ start, end })),
    });
  }, [one, drawnAt, run.id, result.window]);

  const list = runs[Math.min(shown, series.length - 1)]!;
  const m = result.metrics;
  return (
    <Card title={`Scores of ${result.source.split(/[\\/]/).pop() ?? result.source}`} wide>
      <div class="summary" data-testid="series-summary">
        <div><span class="big">{result.scoredPoints.toLocaleString('en-US')}</span> points scored{result.scoredPoints < result.points ? ` of ${result.points.toLocaleString('en-US')}` : ''}{series.length > 1 ? ` in ${series.length} series` : ''}</div>
        <div data-testid="flagged-count"><span class="big">{flaggedPoints.toLocaleString('en-US')}</span> {flaggedPoints === 1 ? 'point' : 'points'} flagged in {count(intervalCount, 'interval')} ({percent(flaggedPoints / result.scoredPoints)})</div>
        <div data-testid="series-metrics">
          {m !== null
            ? <><span class="big">{percent(m.auroc)}</span> AUROC · AUPRC {percent(m.auprc)}<br />over {m.points.toLocaleString('en-US')} points, {m.anomalous.toLocaleString('en-US')} labelled anomalous ({result.labelColumn})</>
            : <><span class="big">–</span> AUROC and AUPRC {result.labelColumn === null ? '(choose a label column)' : `(the points of ${result.labelColumn} are not both normal and anomalous)`}</>}
        </div>
      </div>
      <ThresholdControl sorted={sorted} threshold={threshold} start={result.threshold} quantileAt={result.thresholdQuantile} onChange={setThreshold} />
      {result.thresholdFallback !== null ? <p class="notice" data-testid="threshold-fallback">{result.thresholdFallback}</p> : null}
      <p class="muted small" data-testid="threshold-note">
        Points scoring above the threshold are flagged. {result.thresholdFrom === 'held-out'
          ? <>It starts at the {result.thresholdQuantile} quantile of the scores of the run's {count(result.heldOutPoints, 'held-out normal point')}, which the model never trained on, as <code>vaekit anomaly --model</code> takes it, so it flags about {percent(1 - result.thresholdQuantile)} of normal points.</>
          : <>It starts at the {result.thresholdQuantile} quantile of this file's own scores, so it flags about {percent(1 - result.thresholdQuantile)} of its points at first, whatever they hold.</>}
        {' '}The slider steps through the scores in order, each step one point more or fewer.
      </p>
      {series.length > 1 ? (
        <label class="field inline"><span>Series</span>
          <select value={shown} data-testid="series-picker" onChange={(e) => setShown(Number((e.currentTarget as HTMLSelectElement).value))}>
            {series.map((s, i) => <option key={s.name} value={i}>{s.name}</option>)}
          </select>
        </label>
      ) : null}
      <Chart spec={spec} testid="series-chart" />
      <div class="intervals" data-testid="flagged-intervals">
        {list.length === 0 ? <p class="muted small">No point of {one.name} scores above the threshold.</p> : (
          <>
            <strong class="small">Flagged intervals of {one.name}</strong>
            <ol>
              {list.slice(0, SHOWN_INTERVALS).map(([a, b]) => (
                <li key={a}>
                  {timeText(one.times[a]!, one.timeKind)}{b > a ? ` – ${timeText(one.times[b]!, one.timeKind)}` : ''}
                  <span class="muted"> ({count(b - a + 1, 'point')}, peak score {formatValue(one.scores.subarray(a, b + 1).reduce((x, y) => Math.max(x, y), -Infinity))})</span>
                </li>
              ))}
            </ol>
            {list.length > SHOWN_INTERVALS ? <p class="muted small">… and {count(list.length - SHOWN_INTERVALS, 'more interval')}.</p> : null}
          </>
        )}
      </div>
    </Card>
  );
}

export function SeriesPage() {
  const { route, run: picked } = usePickedRun();
  const { value: info } = useInfo();
  // The run picked on another page may be an image or text run: the picker then picks the newest series run.
  const run = picked !== null && hasSeriesModel(picked) ? picked : null;
  const [result, setResult] = useState<SeriesScores | null>(kept !== null && kept.runId === run?.id ? kept.value : null);
  // Series runs are trained outside the studio (vaekit train), which tells no open tab: the runs are fetched again on every visit.
  useEffect(() => { void refreshRuns(); }, []);
  useEffect(() => {
    setResult(kept !== null && run !== null && kept.runId === run.id && kept.epochs === run.epochsDone ? kept.value : null);
  }, [run?.id, run?.epochsDone]);
  const scored = (value: SeriesScores): void => {
    if (run === null) return;
    kept = { runId: run.id, epochs: run.epochsDone, value };
    setResult(value);
  };
  const out = `${info?.runsDir ?? 'RUNS'}/NAME`;
  return (
    <div class="page series">
      <Card title="Score a time series" wide>
        <div class="toolbar">
          <RunPicker value={route.run} usable={hasSeriesModel} label="Series run"
            none={<>No trained series run yet: train one with <code>vaekit train --data s.csv --time-column t --window 64 --preset series --out {out}</code>, and it appears here.</>} />
        </div>
        {run !== null ? (
          <>
            <p class="muted" data-testid="series-model">{modelWords(run)} · trained on {dataWords(run)}, {run.epochsDone} epoch{run.epochsDone === 1 ? '' : 's'}</p>
            <ScoreForm run={run} onScored={scored} />
            <p class="muted small">
              The series is read as the model read its own ({windowWords(run)}, standardized as then), cut into every window, and each point scored by the studio's model worker.
            </p>
          </>
        ) : null}
      </Card>
      {run !== null && result !== null ? <ScoredCard run={run} result={result} /> : null}
    </div>
  );
}

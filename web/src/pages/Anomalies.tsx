// Anomalies: upload a CSV or NPY file, score every example with the run's model (its negative
// ELBO), and see the scores' histogram, the AUROC when the file says which examples are normal,
// the most anomalous examples, and a link to the scores as CSV.
import { useMemo, useState } from 'preact/hooks';
import { api, messageOf, scoresCsvUrl, type AnomalyResult, type AnomalyUpload } from '../api.js';
import { Chart } from '../chart.js';
import { imageShapeOf, ImageView } from '../images.js';
import { ownPage, usePickedRun } from '../store.js';
import { Card, ErrorLine, RunPicker, OwnPageNote } from '../widgets.js';

export function AnomaliesPage() {
  const { route, run } = usePickedRun();
  // A text run's sentences and a series run's series are not scored here: the page says where the run is explored instead.
  const elsewhere = run !== null && ownPage(run) !== null;
  const [file, setFile] = useState<File | null>(null);
  const [labels, setLabels] = useState<File | null>(null);
  const [labelColumn, setLabelColumn] = useState('');
  const [normalClass, setNormalClass] = useState('');
  const [result, setResult] = useState<{ runId: string; fileName: string; value: AnomalyResult } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const isNpy = file !== null && file.name.toLowerCase().endsWith('.npy');

  const score = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (run === null || elsewhere) return;
    if (file === null) { setError('Choose a .csv or .npy file to score.'); return; }
    const upload: AnomalyUpload = {
      file,
      ...(isNpy && labels !== null ? { labels } : {}),
      ...(!isNpy && labelColumn.trim() !== '' ? { labelColumn: labelColumn.trim() } : {}),
      ...(normalClass.trim() !== '' ? { normalClass: normalClass.trim() } : {}),
    };
    setBusy(true);
    try {
      const value = await api.anomaly(run.id, upload);
      setResult({ runId: run.id, fileName: file.name, value });
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const shown = result !== null && result.runId === run?.id && !elsewhere ? result : null;
  const shape = run?.data !== undefined && run?.data !== null ? imageShapeOf(run.data.shape) : null;
  const stats = useMemo(() => {
    if (shown === null) return null;
    const s = [...shown.value.scores].filter(Number.isFinite).sort((a, b) => a - b);
    const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
    return { median: at(0.5), p95: at(0.95), max: s[s.length - 1] ?? NaN };
  }, [shown]);

  return (
    <div class="page anomalies">
      <Card title="Score a file for anomalies" wide>
        <form class="anomaly-form" onSubmit={(e) => void score(e)}>
          <RunPicker value={route.run} preferred={(r) => ownPage(r) === null} />
          <label class="field">
            <span>Data <small>(.csv: one example a row, or .npy)</small></span>
            <input type="file" accept=".csv,.npy" data-testid="anomaly-file" onChange={(e) => { setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null); setResult(null); }} />
          </label>
          {isNpy ? (
            <label class="field">
              <span>Labels <small>(.npy, optional)</small></span>
              <input type="file" accept=".npy" data-testid="anomaly-labels" onChange={(e) => setLabels((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
            </label>
          ) : (
            <label class="field">
              <span>Label column <small>(optional)</small></span>
              <input type="text" value={labelColumn} placeholder="label" data-testid="label-column" spellcheck={false} onInput={(e) => setLabelColumn((e.currentTarget as HTMLInputElement).value)} />
            </label>
          )}
          <label class="field">
            <span>Normal class <small>(optional)</small></span>
            <input type="text" value={normalClass} placeholder="the class the model learned" data-testid="normal-class" spellcheck={false} onInput={(e) => setNormalClass((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <div class="buttons">
            <button type="submit" class="primary" disabled={busy || run === null || elsewhere || file === null} data-testid="score">{busy ? 'Scoring…' : 'Score'}</button>
          </div>
        </form>
        {run !== null && elsewhere ? <OwnPageNote run={run} /> : null}
        <ErrorLine error={error} />
        <p class="muted small">Each example's score is its negative ELBO under the model (nats per example; the mean of 10 posterior samples): examples unlike the training data score high.</p>
      </Card>
      {shown !== null && stats !== null ? (
        <>
          <Card title={`Scores of ${shown.fileName}`} wide actions={
            <a class="button" href={scoresCsvUrl(shown.runId)} download={`${shown.runId}-scores.csv`} data-testid="scores-csv">Download scores CSV</a>
          }>
            <div class="summary" data-testid="anomaly-summary">
              <div><span class="big">{shown.value.count.toLocaleString('en-US')}</span> examples scored</div>
              <div><span class="big">{stats.median.toFixed(1)}</span> median score (nats per example)</div>
              <div><span class="big">{stats.p95.toFixed(1)}</span> 95th percentile (nats per example)</div>
              <div><span class="big">{stats.max.toFixed(1)}</span> highest score (nats per example)</div>
              <div data-testid="auroc">
                {shown.value.auroc !== null
                  ? <><span class="big">{(100 * shown.value.auroc).toFixed(2)}%</span> AUROC (normal class: {shown.value.normalClass})</>
                  : <><span class="big">–</span> AUROC (needs labels and a normal class)</>}
                {shown.value.auroc !== null && shown.value.auroc < 0.5 ? (
                  <p class="warning small" data-testid="worse-than-chance">
                    Below 50%, worse than a coin: this model scores the normal class as more unusual than the rest. Check that the normal class is the one the model was trained on, or train on normal examples only.
                  </p>
                ) : null}
              </div>
            </div>
            <Chart spec={shown.value.histogram} testid="histogram" />
          </Card>
          <Card title="The most anomalous examples" wide>
            <div class="top" data-testid="top-anomalies">
              {shown.value.top.map((t) => (
                <figure key={t.index} class="image">
                  {t.image !== null && shape !== null ? <ImageView values={t.image} shape={shape} size={96} /> : <div class="no-image">row {t.index}</div>}
                  <figcaption>#{t.index}{shown.value.labels !== null ? ` · ${shown.value.labelNames?.[shown.value.labels[t.index]!] ?? shown.value.labels[t.index]}` : ''}<br />{t.score.toFixed(1)} nats per example</figcaption>
                </figure>
              ))}
            </div>
          </Card>
        </>
      ) : null}
    </div>
  );
}

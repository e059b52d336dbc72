// Train: the form that starts a training run on the server, the run's live curves (redrawn on
// every `epoch` event), its progress line and its figures, and the list of runs.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { trainingCurvesSpec } from '../../../src/viz/chart-specs.js';
import type { Likelihood } from '../../../src/vae/config.js';
import {
  api, eventsUrl, messageOf, onRunEvent,
  type DataDescription, type EndEvent, type EpochRecord, type FiguresEvent, type NewRun, type RunSpecInput, type ProgressEvent, type RunSummary, type TestMetrics,
} from '../api.js';
import { Chart } from '../chart.js';
import { pickRun, refreshInfo, refreshRuns, useInfo, useRoute, useRuns } from '../store.js';
import { Card, dataWords, ErrorLine, fixed, modelWords, NoiseControl, noiseText, StatusBadge, type NoiseKind } from '../widgets.js';

interface Form {
  name: string;
  source: 'mnist' | 'path';
  path: string;
  labels: string;
  labelColumn: string;
  preset: string;
  latent: string;
  beta: string;
  likelihood: '' | Likelihood;
  noiseKind: NoiseKind;
  noiseAmount: number;
  epochs: string;
  limit: string;
  seed: string;
  conditional: boolean;
  bf16: boolean;
}

const INITIAL: Form = {
  name: '', source: 'mnist', path: '', labels: '', labelColumn: '', preset: 'seed', latent: '', beta: '1', likelihood: '',
  noiseKind: 'gaussian', noiseAmount: 0.2, epochs: '5', limit: '', seed: '0', conditional: false, bf16: false,
};

/** A number field's value: null when blank (the spec's default), else the number typed. */
function numberOf(text: string): number | null {
  return text.trim() === '' ? null : Number(text);
}

/**
 * The request of a form. Its fields are checked by the server alone, with the library's
 * validateRunSpec, whose refusals name the form's fields (Epochs, Latent size, ...).
 */
function requestOf(form: Form): NewRun {
  const path = form.source === 'path';
  const beta = numberOf(form.beta);
  const seed = numberOf(form.seed);
  const spec: RunSpecInput = {
    data: {
      source: path ? form.path.trim() : 'mnist',
      labels: path && form.labels.trim() !== '' ? form.labels.trim() : null,
      labelColumn: path && form.labelColumn.trim() !== '' ? form.labelColumn.trim() : null,
      limit: numberOf(form.limit),
    },
    model: {
      preset: form.preset,
      latent: numberOf(form.latent),
      likelihood: form.likelihood !== '' ? form.likelihood : null,
      conditional: form.conditional,
    },
    ...(beta !== null ? { objective: { beta } } : {}),
    // Required: a blank field is 0, which the server refuses.
    training: { epochs: Number(form.epochs), precision: form.bf16 ? 'bf16' : 'fp32' },
    noise: { input: noiseText(form.noiseKind, form.noiseAmount) },
    ...(seed !== null ? { seed } : {}),
  };
  return { spec, ...(form.name.trim() !== '' ? { name: form.name.trim() } : {}) };
}

interface Watch {
  id: string;
  records: EpochRecord[];
  progress: ProgressEvent | null;
  figures: FiguresEvent | null;
  end: EndEvent | null;
  warnings: string[];
  error: string | null;
}

const watching = (id: string): Watch => ({ id, records: [], progress: null, figures: null, end: null, warnings: [], error: null });

/** The run's events: every finished epoch at once, then live progress, epochs, figures and the end. */
function useRunEvents(id: string | null, generation: number): Watch | null {
  const [watch, setWatch] = useState<Watch | null>(null);
  useEffect(() => {
    if (id === null) { setWatch(null); return undefined; }
    setWatch(watching(id));
    const source = new EventSource(eventsUrl(id));
    const update = (change: (w: Watch) => Watch): void => setWatch((w) => (w === null || w.id !== id ? w : change(w)));
    onRunEvent(source, 'epoch', (record) => {
      update((w) => ({ ...w, records: [...w.records.filter((r) => r.epoch !== record.epoch), record].sort((a, b) => a.epoch - b.epoch) }));
      void refreshRuns();
    });
    onRunEvent(source, 'progress', (progress) => update((w) => ({ ...w, progress })));
    onRunEvent(source, 'figures', (figures) => update((w) => ({ ...w, figures })));
    onRunEvent(source, 'warning', ({ message }) => update((w) => ({ ...w, warnings: [...w.warnings, message].slice(-5) })));
    onRunEvent(source, 'end', (end) => {
      source.close();
      update((w) => ({ ...w, end, progress: null }));
      void refreshRuns();
      void refreshInfo();
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) update((w) => ({ ...w, error: 'The connection to the studio closed: is vaekit studio still running?' }));
    };
    return () => source.close();
  }, [id, generation]);
  return watch;
}

function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span>{label}{hint !== undefined ? <small> {hint}</small> : null}</span>
      {children}
    </label>
  );
}

function TrainForm({ running, onStarted }: { running: string | null; onStarted: (id: string) => void }) {
  const { value: info } = useInfo();
  const [form, setForm] = useState<Form>(INITIAL);
  const [described, setDescribed] = useState<DataDescription | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Form>(key: K, value: Form[K]): void => setForm((f) => ({ ...f, [key]: value }));
  const value = (e: Event): string => (e.currentTarget as HTMLInputElement).value;

  const describe = async (): Promise<void> => {
    const data = form.source === 'mnist' ? 'mnist' : form.path.trim();
    if (data === '') return;
    const labels = form.source === 'path' ? form.labels.trim() : '';
    const labelColumn = form.source === 'path' ? form.labelColumn.trim() : '';
    try {
      setDescribed(await api.describe({ data, ...(labels !== '' ? { labels } : {}), ...(labelColumn !== '' ? { labelColumn } : {}) }));
      setError(null);
    } catch (err) {
      setDescribed(null);
      setError(messageOf(err));
    }
  };
  useEffect(() => { setDescribed(null); if (form.source === 'mnist') void describe(); }, [form.source]);

  const start = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    try {
      const { id } = await api.start(requestOf(form));
      setError(null);
      onStarted(id);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const presets = info?.presets ?? ['seed', 'mlp', 'conv'];
  return (
    <form class="train-form" onSubmit={(e) => void start(e)} data-testid="train-form">
      <div class="field">
        <span>Data</span>
        <div class="segmented">
          <label><input type="radio" name="source" checked={form.source === 'mnist'} onChange={() => set('source', 'mnist')} /> MNIST</label>
          <label><input type="radio" name="source" checked={form.source === 'path'} onChange={() => set('source', 'path')} data-testid="source-path" /> A file or folder</label>
        </div>
      </div>
      {form.source === 'path' ? (
        <>
          <Field label="Path" hint="(NPY, CSV, IDX or a folder of images)">
            <input type="text" value={form.path} placeholder="data/images.npy" data-testid="data-path" spellcheck={false}
              onInput={(e) => set('path', value(e))} onChange={() => void describe()} />
          </Field>
          <div class="row2">
            <Field label="Labels" hint="(NPY, optional)">
              <input type="text" value={form.labels} placeholder="data/labels.npy" data-testid="labels-path" spellcheck={false} onInput={(e) => set('labels', value(e))} onChange={() => void describe()} />
            </Field>
            <Field label="Label column" hint="(CSV)">
              <input type="text" value={form.labelColumn} placeholder="label" spellcheck={false} onInput={(e) => set('labelColumn', value(e))} onChange={() => void describe()} />
            </Field>
          </div>
        </>
      ) : null}
      {described !== null ? (
        <p class="described" data-testid="described">
          {described.count.toLocaleString('en-US')} examples of shape [{described.shape.join(' × ')}]
          {described.classNames !== null ? `, classes ${described.classNames.slice(0, 12).join(', ')}${described.classNames.length > 12 ? '…' : ''}` : ', no labels'}
        </p>
      ) : null}
      <div class="row3">
        <Field label="Preset">
          <select value={form.preset} data-testid="preset" onChange={(e) => set('preset', value(e))}>
            {presets.map((p) => <option key={p} value={p}>{p}</option>)}
          </select>
        </Field>
        <Field label="Latent size">
          <input type="number" min="1" step="1" value={form.latent} placeholder="preset" data-testid="latent" onInput={(e) => set('latent', value(e))} />
        </Field>
        <Field label="β (KL weight)">
          <input type="number" min="0" step="0.1" value={form.beta} data-testid="beta" onInput={(e) => set('beta', value(e))} />
        </Field>
      </div>
      <Field label="Likelihood">
        <select value={form.likelihood} data-testid="likelihood" onChange={(e) => set('likelihood', value(e) as Form['likelihood'])}>
          <option value="">the preset's (Bernoulli for images)</option>
          <option value="bernoulli">Bernoulli</option>
          <option value="continuous-bernoulli">continuous Bernoulli</option>
          <option value="gaussian">Gaussian</option>
        </select>
      </Field>
      <NoiseControl kind={form.noiseKind} amount={form.noiseAmount} onChange={(kind, amount) => setForm((f) => ({ ...f, noiseKind: kind, noiseAmount: amount }))} />
      <div class="row3">
        <Field label="Epochs">
          <input type="number" min="1" step="1" value={form.epochs} data-testid="epochs" onInput={(e) => set('epochs', value(e))} />
        </Field>
        <Field label="First N examples">
          <input type="number" min="1" step="1" value={form.limit} placeholder="all" data-testid="limit" onInput={(e) => set('limit', value(e))} />
        </Field>
        <Field label="Seed">
          <input type="number" min="0" step="1" value={form.seed} onInput={(e) => set('seed', value(e))} />
        </Field>
      </div>
      <div class="row2">
        <Field label="Run name" hint="(optional)">
          <input type="text" value={form.name} placeholder="automatic" data-testid="run-name" spellcheck={false} onInput={(e) => set('name', value(e))} />
        </Field>
        <label class="check"><input type="checkbox" checked={form.conditional} onChange={(e) => set('conditional', (e.currentTarget as HTMLInputElement).checked)} /> Conditional on the label</label>
      </div>
      <label class="check" title={info?.backend.bf16 === false ? `Not on this machine: ${info.backend.bf16Reason ?? 'no bf16 kernels'}` : 'bf16 matrix products with fp32 accumulation; fp32 weights and Adam'}>
        <input type="checkbox" checked={form.bf16} disabled={info?.backend.bf16 !== true} data-testid="bf16" onChange={(e) => set('bf16', (e.currentTarget as HTMLInputElement).checked)} />
        {' '}bf16 mixed precision{info?.backend.bf16 === false ? ` (not here: ${info.backend.bf16Reason ?? 'no bf16 kernels'})` : ''}
      </label>
      <ErrorLine error={error} />
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy || running !== null} data-testid="start">Start training</button>
        <StopButton id={running} />
        {running !== null ? <span class="muted">{running} is training</span> : null}
      </div>
    </form>
  );
}

function StopButton({ id }: { id: string | null }) {
  const [error, setError] = useState<string | null>(null);
  const stop = async (): Promise<void> => {
    if (id === null) return;
    try {
      await api.stop(id);
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  return (
    <>
      <button type="button" disabled={id === null} onClick={() => void stop()} data-testid="stop">Stop</button>
      {error !== null ? <span class="error">{error}</span> : null}
    </>
  );
}

function progressWords(p: ProgressEvent, epochs: number | null): string {
  const of = epochs !== null ? ` of ${epochs}` : '';
  return `Epoch ${p.epoch}${of} · step ${p.step} of ${p.steps} · loss ${fixed(p.running.loss)} · reconstruction ${fixed(p.running.recon)} · KL ${fixed(p.running.kl)} (nats per example)`;
}

function metricsWords(m: TestMetrics): string {
  const psnr = m.psnrNoisyDb !== null && m.psnrDenoisedDb !== null ? ` · PSNR ${fixed(m.psnrNoisyDb)} dB (noisy input) → ${fixed(m.psnrDenoisedDb)} dB (denoised)` : '';
  return `Test: negative ELBO ${fixed(m.negElboNats)} nats per example (reconstruction ${fixed(m.reconNats)}, KL ${fixed(m.klNats)})${psnr} on ${m.images.toLocaleString('en-US')} examples`;
}

/** A result worse than doing nothing, said with what to try; null when there is none. */
function worseThanNothing(m: TestMetrics): string | null {
  if (m.psnrNoisyDb === null || m.psnrDenoisedDb === null || m.psnrDenoisedDb >= m.psnrNoisyDb) return null;
  return `The denoised images are further from the clean ones than the noisy input was (${fixed(m.psnrDenoisedDb)} dB against ${fixed(m.psnrNoisyDb)} dB): train for more epochs, or try a larger latent size or the Gaussian likelihood (with faint noise the noisy input is already close to clean, so the model must reconstruct very well to beat it).`;
}

function LivePanel({ watch, run }: { watch: Watch | null; run: RunSummary | null }) {
  const records = watch?.records ?? [];
  const subtitle = run !== null ? modelWords(run) : undefined;
  const spec = useMemo(() => (records.length === 0 || watch === null ? null
    : trainingCurvesSpec(records, `Training curves of ${watch.id}`, { subtitle, panelWidth: 168, panelHeight: 160 })), [records, watch?.id, subtitle]);
  if (watch === null) return <p class="muted">Start a training run, or pick one in the list below, to see its curves here.</p>;
  const p = watch.progress;
  const epochs = run?.epochs ?? null;
  const fraction = p !== null && epochs !== null && epochs > 0 ? Math.min(1, (p.epoch - 1 + p.step / Math.max(1, p.steps)) / epochs) : null;
  const status = watch.end?.status ?? run?.status ?? 'running';
  return (
    <div class="live" data-testid="live" data-epochs={records.length} data-status={status}>
      <div class="live-head">
        <strong>{watch.id}</strong> <StatusBadge status={status} />
        <span class="muted"> {records.length} epoch{records.length === 1 ? '' : 's'}{epochs !== null ? ` of ${epochs}` : ''}</span>
      </div>
      {p !== null ? (
        <div class="progress" data-testid="progress">
          <div class="bar"><div style={{ width: `${Math.round((fraction ?? 0) * 100)}%` }} /></div>
          <span>{progressWords(p, epochs)}</span>
        </div>
      ) : null}
      {watch.end?.error !== undefined ? <p class="error">{watch.end.error}</p> : null}
      {watch.end === null && run?.error !== undefined ? <p class="error">{run.error}</p> : null}
      <ErrorLine error={watch.error} />
      {watch.warnings.map((w, i) => <p key={i} class="warning small">{w}</p>)}
      {(() => {
        const m = watch.end?.testMetrics ?? (run?.testMetrics != null && watch.end !== null ? run.testMetrics : null);
        if (m === null) return null;
        const worse = worseThanNothing(m);
        return (
          <>
            <p class="metrics">{metricsWords(m)}</p>
            {worse !== null ? <p class="warning small" data-testid="worse-than-nothing">{worse}</p> : null}
          </>
        );
      })()}
      <Chart spec={spec} testid="curves" placeholder={status === 'running' ? 'The curves appear after the first epoch.' : 'This run has no finished epoch.'} />
      {watch.figures !== null ? (
        <div class="figures" data-testid="figures">
          <figure><img src={watch.figures.reconstructions} alt="Validation examples: original, noisy, reconstructed" /><figcaption>Validation examples: original, noisy, denoised</figcaption></figure>
          <figure><img src={watch.figures.samples} alt="Samples from the prior" /><figcaption>Samples from the prior</figcaption></figure>
        </div>
      ) : status === 'running' ? <p class="muted">Reconstructions and prior samples appear after each epoch.</p> : null}
    </div>
  );
}

function RunsTable({ runs, watched, onWatch, onResumed }: { runs: RunSummary[]; watched: string | null; onWatch: (id: string) => void; onResumed: (id: string) => void }) {
  const [error, setError] = useState<string | null>(null);
  const act = async (what: () => Promise<unknown>): Promise<void> => {
    try {
      await what();
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  if (runs.length === 0) return <p class="muted">No runs yet.</p>;
  return (
    <>
      <ErrorLine error={error} />
      <table class="runs" data-testid="runs">
        <thead>
          <tr><th>run</th><th>status</th><th>model</th><th>data</th><th class="num">epochs</th><th class="num">loss</th><th class="num">val. loss</th><th class="num">test −ELBO</th><th /></tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id} class={r.id === watched ? 'current' : ''} data-run={r.id}>
              <td><a href="#/train" onClick={(e) => { e.preventDefault(); onWatch(r.id); }}>{r.id}</a></td>
              <td><StatusBadge status={r.status} />{r.error !== undefined ? <span class="error small" title={r.error}> !</span> : null}</td>
              <td>{modelWords(r)}</td>
              <td>{dataWords(r)}</td>
              <td class="num">{r.epochsDone}/{r.epochs}</td>
              <td class="num">{fixed(r.lastEpoch?.loss)}</td>
              <td class="num">{fixed(r.lastEpoch?.valLoss)}</td>
              <td class="num">{fixed(r.testMetrics?.negElboNats)}</td>
              <td class="actions">
                {r.status === 'running' ? <button type="button" onClick={() => void act(() => api.stop(r.id))}>Stop</button> : null}
                {(r.status === 'stopped' || r.status === 'failed') && r.hasCheckpoint ? (
                  <button type="button" data-testid={`resume-${r.id}`} onClick={() => void act(async () => { const { id } = await api.resume(r.id); onResumed(id); })}>Resume</button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function TrainPage() {
  const route = useRoute();
  const { value: info } = useInfo();
  const { value: runs, error: runsError } = useRuns();
  const [watched, setWatched] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const running = info?.training ?? runs?.find((r) => r.status === 'running')?.id ?? null;

  // What to show: the run being trained, else the run picked, else the newest.
  useEffect(() => {
    if (watched !== null) return;
    const first = running ?? route.run ?? runs?.[0]?.id ?? null;
    if (first !== null) setWatched(first);
  }, [running, runs, route.run]);

  const watch = useRunEvents(watched, generation);
  const run = runs?.find((r) => r.id === watched) ?? null;
  const follow = (id: string): void => {
    setWatched(id);
    setGeneration((g) => g + 1);
    pickRun(id);
    void refreshRuns();
    void refreshInfo();
  };

  return (
    <div class="page train">
      <div class="columns">
        <Card title="New training run">
          <TrainForm running={running} onStarted={follow} />
        </Card>
        <Card title="Training" wide>
          <LivePanel watch={watch} run={run} />
        </Card>
      </div>
      <Card title="Runs" actions={<button type="button" onClick={() => void refreshRuns()}>Refresh</button>}>
        <ErrorLine error={runsError} />
        {runs !== null ? <RunsTable runs={runs} watched={watched} onWatch={(id) => { setWatched(id); pickRun(id); }} onResumed={follow} /> : <p class="muted">Loading…</p>}
      </Card>
    </div>
  );
}

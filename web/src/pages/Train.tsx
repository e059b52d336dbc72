// Train: the form that starts a training run on the server (each setting with its line of help
// and the docs' paragraph behind "more"), the run's live curves (redrawn on every `epoch` and
// `progress` event, so they move within an epoch), its progress line with the epoch time and the
// time left, its figures, and the list of runs.
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { trainingCurvesSpec, type RunningLoss } from '../../../src/viz/chart-specs.js';
import type { Likelihood } from '../../../src/vae/config.js';
import {
  api, eventsUrl, messageOf, onRunEvent,
  type DataDescription, type EndEvent, type EpochRecord, type FiguresEvent, type NewRun, type RunSpecInput, type ProgressEvent, type RunSummary, type TestMetrics,
} from '../api.js';
import { Chart } from '../chart.js';
import { FORM_LABELS } from '../../../src/studio/words.js';
import { Help } from '../settings-help.js';
import { isTextRun, pageHref, pickRun, refreshInfo, refreshRuns, useInfo, useRoute, useRuns } from '../store.js';
import { Card, dataWords, ErrorLine, fixed, imageMetricsOf, modelWords, NoiseControl, noiseText, StatusBadge, textMetricsOf, textMetricsWords, type NoiseKind } from '../widgets.js';

type Warmup = 'none' | 'linear' | 'cyclical';

interface Form {
  name: string;
  source: 'mnist' | 'path';
  path: string;
  labels: string;
  labelColumn: string;
  preset: string;
  latent: string;
  beta: string;
  freeBits: string;
  warmup: Warmup;
  warmupEpochs: string;
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
  name: '', source: 'mnist', path: '', labels: '', labelColumn: '', preset: 'seed', latent: '', beta: '1', freeBits: '0', warmup: 'none', warmupEpochs: '5', likelihood: '',
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
  const freeBits = numberOf(form.freeBits);
  const seed = numberOf(form.seed);
  // "none", "linear:E" or "cyclical:P"; the server refuses a blank or bad E or P with the field's label.
  const klWarmup = form.warmup === 'none' ? 'none' : `${form.warmup}:${form.warmupEpochs.trim()}`;
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
    objective: { ...(beta !== null ? { beta } : {}), ...(freeBits !== null ? { freeBits } : {}), klWarmup },
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
  /** The running means of every progress event (thinned when there are many), for the curves. */
  running: RunningLoss[];
  /** The page's clock (ms) and the epochs done at the first and at the latest progress event, for the time left. */
  pace: { firstAt: number; firstDone: number; lastAt: number; lastDone: number } | null;
  figures: FiguresEvent | null;
  end: EndEvent | null;
  warnings: string[];
  error: string | null;
  /** The event stream broke (the studio stopped or restarted) and the browser is reconnecting. */
  reconnecting: boolean;
}

const watching = (id: string): Watch => ({
  id, records: [], progress: null, running: [], pace: null, figures: null, end: null, warnings: [], error: null, reconnecting: false,
});

/** Running means kept for the curves: past this, every other one is dropped. */
const MAX_RUNNING_POINTS = 600;

/** Epochs done at a progress event: epoch e, step s of S is e - 1 + s / S. */
const doneAt = (p: ProgressEvent): number => p.epoch - 1 + p.step / Math.max(1, p.steps);

function withProgress(w: Watch, progress: ProgressEvent): Watch {
  const done = doneAt(progress);
  const now = performance.now();
  // A reconnected stream sends the latest progress again: keep one point per place.
  let running = [...w.running.filter((r) => r.epochs < done), { epochs: done, ...progress.running }];
  if (running.length > MAX_RUNNING_POINTS) running = running.filter((_, i) => i % 2 === 1);
  const pace = w.pace === null || done < w.pace.lastDone
    ? { firstAt: now, firstDone: done, lastAt: now, lastDone: done }
    : { ...w.pace, lastAt: now, lastDone: done };
  return { ...w, progress, running, pace };
}

/** The run's events: every finished epoch at once, then live progress, epochs, figures and the end. */
function useRunEvents(id: string | null, generation: number): Watch | null {
  const [watch, setWatch] = useState<Watch | null>(null);
  useEffect(() => {
    if (id === null) { setWatch(null); return undefined; }
    setWatch(watching(id));
    const source = new EventSource(eventsUrl(id));
    const update = (change: (w: Watch) => Watch): void => setWatch((w) => (w === null || w.id !== id ? w : change(w)));
    source.addEventListener('open', () => update((w) => (w.reconnecting ? { ...w, reconnecting: false, error: null } : w)));
    onRunEvent(source, 'epoch', (record) => {
      update((w) => ({ ...w, records: [...w.records.filter((r) => r.epoch !== record.epoch), record].sort((a, b) => a.epoch - b.epoch) }));
      void refreshRuns();
    });
    onRunEvent(source, 'progress', (progress) => update((w) => withProgress(w, progress)));
    onRunEvent(source, 'figures', (figures) => update((w) => ({ ...w, figures })));
    onRunEvent(source, 'warning', ({ message }) => update((w) => ({ ...w, warnings: [...w.warnings, message].slice(-5) })));
    onRunEvent(source, 'end', (end) => {
      source.close();
      update((w) => ({ ...w, end, progress: null, reconnecting: false, error: null }));
      void refreshRuns();
      void refreshInfo();
    });
    source.onerror = () => {
      // CONNECTING: the stream broke (the studio stopped or restarted) and the browser tries again;
      // the studio then sends the run's true state (its epochs, and its end when it is not training).
      // CLOSED: the studio refused the stream (a restart with another token).
      if (source.readyState === EventSource.CLOSED) update((w) => ({ ...w, progress: null, reconnecting: false, error: 'The studio restarted: reload the page (open the address it printed).' }));
      else update((w) => ({ ...w, progress: null, reconnecting: true }));
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

/** A setting of the form: its label and control on one row, its line of help (and "more") under them. */
function Setting({ help, label, unit, children }: { help: string; label: string; unit?: string; children: ComponentChildren }) {
  return (
    <div class="setting" data-setting={help}>
      <label class="setting-row">
        <span>{label}{unit !== undefined ? <small> ({unit})</small> : null}</span>
        {children}
      </label>
      <Help id={help} />
    </div>
  );
}

/** A check box setting: the box and its label, its help under them. */
function CheckSetting({ help, children, title }: { help: string; children: ComponentChildren; title?: string }) {
  return (
    <div class="setting" data-setting={help}>
      <label class="check" title={title}>{children}</label>
      <Help id={help} />
    </div>
  );
}

/** The form as last left (the Train page is unmounted when another page is shown). */
let keptForm: Form = INITIAL;

function TrainForm({ running, finalEvaluation, onStarted }: { running: string | null; finalEvaluation: boolean; onStarted: (id: string) => void }) {
  const { value: info } = useInfo();
  const [form, setForm] = useState<Form>(keptForm);
  // Kept while the page is open, so coming back from another page finds the form as it was left.
  useEffect(() => { keptForm = form; }, [form]);
  const [described, setDescribed] = useState<DataDescription | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Form>(key: K, value: Form[K]): void => setForm((f) => ({ ...f, [key]: value }));
  const value = (e: Event): string => (e.currentTarget as HTMLInputElement).value;

  // The server reads each data spec in a worker of its own, so answers can come out of order: only
  // the answer to the newest question is shown.
  const asked = useRef(0);
  const describe = async (): Promise<void> => {
    const data = form.source === 'mnist' ? 'mnist' : form.path.trim();
    if (data === '') return;
    const labels = form.source === 'path' ? form.labels.trim() : '';
    const labelColumn = form.source === 'path' ? form.labelColumn.trim() : '';
    const question = ++asked.current;
    try {
      const answer = await api.describe({ data, ...(labels !== '' ? { labels } : {}), ...(labelColumn !== '' ? { labelColumn } : {}) });
      if (question !== asked.current) return;
      setDescribed(answer);
      setError(null);
    } catch (err) {
      if (question !== asked.current) return;
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

  // The presets this form trains: image and table models (the server's list; text models train with vaekit train).
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
            <Field label={FORM_LABELS['data.labels']} hint="(NPY, optional)">
              <input type="text" value={form.labels} placeholder="data/labels.npy" data-testid="labels-path" spellcheck={false} onInput={(e) => set('labels', value(e))} onChange={() => void describe()} />
            </Field>
            <Field label={FORM_LABELS['data.labelColumn']} hint="(CSV)">
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
      <h3 class="form-group">Model</h3>
      <Setting help="train-preset" label={FORM_LABELS['model.preset']}>
        <select value={form.preset} data-testid="preset" onChange={(e) => set('preset', value(e))}>
          {presets.map((p) => <option key={p} value={p}>{p}</option>)}
        </select>
      </Setting>
      <p class="muted small" data-testid="text-presets-note">
        Text models (presets <code>text</code> and <code>text-lm</code>) train with <code>vaekit train --data corpus.txt --preset text --out {info?.runsDir ?? 'RUNS'}/NAME</code>: they appear in the list below and on the <a href={pageHref('text')}>Text</a> page.
      </p>
      <Setting help="train-latent" label={FORM_LABELS['model.latent']} unit="dimensions">
        <input type="number" min="1" step="1" value={form.latent} placeholder="preset's" data-testid="latent" onInput={(e) => set('latent', value(e))} />
      </Setting>
      <Setting help="train-likelihood" label={FORM_LABELS['model.likelihood']}>
        <select value={form.likelihood} data-testid="likelihood" onChange={(e) => set('likelihood', value(e) as Form['likelihood'])}>
          <option value="">the preset's (Bernoulli for images)</option>
          <option value="bernoulli">Bernoulli</option>
          <option value="continuous-bernoulli">continuous Bernoulli</option>
          <option value="gaussian">Gaussian</option>
        </select>
      </Setting>
      <CheckSetting help="train-conditional">
        <input type="checkbox" checked={form.conditional} data-testid="conditional" onChange={(e) => set('conditional', (e.currentTarget as HTMLInputElement).checked)} /> {FORM_LABELS['model.conditional']}
      </CheckSetting>
      <h3 class="form-group">Objective</h3>
      <Setting help="train-beta" label={FORM_LABELS['objective.beta']}>
        <input type="number" min="0" step="any" value={form.beta} data-testid="beta" onInput={(e) => set('beta', value(e))} />
      </Setting>
      <Setting help="train-free-bits" label={FORM_LABELS['objective.freeBits']} unit="nats per dimension">
        <input type="number" min="0" step="any" value={form.freeBits} data-testid="free-bits" onInput={(e) => set('freeBits', value(e))} />
      </Setting>
      <Setting help="train-kl-warmup" label={FORM_LABELS['objective.klWarmup']}>
        <span class="inline-controls">
          <select value={form.warmup} data-testid="kl-warmup" onChange={(e) => set('warmup', value(e) as Warmup)}>
            <option value="none">none</option>
            <option value="linear">linear, over</option>
            <option value="cyclical">cyclical, every</option>
          </select>
          {form.warmup !== 'none' ? (
            <>
              <input type="number" min="0" step="any" value={form.warmupEpochs} data-testid="kl-warmup-epochs" aria-label="KL warm-up epochs" onInput={(e) => set('warmupEpochs', value(e))} />
              <span>epochs</span>
            </>
          ) : null}
        </span>
      </Setting>
      <h3 class="form-group">Data and training</h3>
      <div class="setting" data-setting="train-noise">
        <NoiseControl kind={form.noiseKind} amount={form.noiseAmount} onChange={(kind, amount) => setForm((f) => ({ ...f, noiseKind: kind, noiseAmount: amount }))} />
        <Help id="train-noise" />
      </div>
      <Setting help="train-epochs" label={FORM_LABELS['training.epochs']}>
        <input type="number" min="1" step="1" value={form.epochs} data-testid="epochs" onInput={(e) => set('epochs', value(e))} />
      </Setting>
      <Setting help="train-limit" label={FORM_LABELS['data.limit']}>
        <input type="number" min="1" step="1" value={form.limit} placeholder="all" data-testid="limit" onInput={(e) => set('limit', value(e))} />
      </Setting>
      <Setting help="train-seed" label={FORM_LABELS.seed}>
        <input type="number" min="0" step="1" value={form.seed} data-testid="seed" onInput={(e) => set('seed', value(e))} />
      </Setting>
      <CheckSetting help="train-bf16" title={info?.backend.bf16 === false ? `Not on this machine: ${info.backend.bf16Reason ?? 'no bf16 kernels'}` : 'bf16 matrix products with fp32 accumulation; fp32 weights and Adam'}>
        <input type="checkbox" checked={form.bf16} disabled={info?.backend.bf16 !== true} data-testid="bf16" onChange={(e) => set('bf16', (e.currentTarget as HTMLInputElement).checked)} />
        {' '}bf16 mixed precision{info?.backend.bf16 === false ? ` (not here: ${info.backend.bf16Reason ?? 'no bf16 kernels'})` : ''}
      </CheckSetting>
      <Field label="Run name" hint="(optional)">
        <input type="text" value={form.name} placeholder="automatic" data-testid="run-name" spellcheck={false} onInput={(e) => set('name', value(e))} />
      </Field>
      <ErrorLine error={error} />
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy || running !== null} data-testid="start">Start training</button>
        <StopButton id={running} finalEvaluation={finalEvaluation} />
        {running !== null ? <span class="muted" data-testid="training-now">{running} is training</span> : null}
      </div>
    </form>
  );
}

function StopButton({ id, finalEvaluation }: { id: string | null; finalEvaluation: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const [stopping, setStopping] = useState<string | null>(null);
  useEffect(() => { setStopping(null); setError(null); }, [id]);
  const stop = async (): Promise<void> => {
    if (id === null) return;
    // After the last epoch the worker evaluates the model (trainRun's test metrics) and only then ends: a stop waits for that.
    setStopping(finalEvaluation
      ? 'Stopping: the last epoch has ended, so the final evaluation on the validation examples finishes first (the run then ends as done).'
      : 'Stopping after the current step (a checkpoint is kept to resume from)…');
    try {
      const { status } = await api.stop(id);
      setStopping(status === 'running' ? 'Still stopping after 30 s: the run stops after its current step.' : null);
      setError(null);
    } catch (err) {
      setStopping(null);
      setError(messageOf(err));
    }
  };
  return (
    <>
      <button type="button" disabled={id === null} onClick={() => void stop()} data-testid="stop">Stop</button>
      {stopping !== null ? <span class="muted small" data-testid="stopping">{stopping}</span> : null}
      {error !== null ? <span class="error">{error}</span> : null}
    </>
  );
}

/** A duration for people: "4.2 s", "38 s", "3 min 05 s", "2 h 10 min". */
function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.round((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * The epoch time (the last finished epoch's, else the pace so far) and the time left to the last
 * epoch's end, from the pace of the progress events on the page's clock (which counts validation
 * and figures too), else from the epochs' times.
 */
function paceWords(w: Watch, epochs: number | null): string | null {
  const pace = w.pace;
  const rate = pace !== null && pace.lastDone > pace.firstDone && pace.lastAt > pace.firstAt
    ? (pace.lastDone - pace.firstDone) / ((pace.lastAt - pace.firstAt) / 1000) : null;
  const last = w.records.at(-1);
  const epochTime = last !== undefined ? `Epoch time ${duration(last.seconds)} (epoch ${last.epoch})` : rate !== null ? `Epoch time about ${duration(1 / rate)}` : null;
  if (epochTime === null) return null;
  const meanSeconds = w.records.length > 0 ? w.records.reduce((sum, r) => sum + r.seconds, 0) / w.records.length : null;
  const done = pace?.lastDone ?? w.records.length;
  const left = epochs === null ? null : rate !== null ? (epochs - done) / rate : meanSeconds !== null ? (epochs - done) * meanSeconds : null;
  return left === null ? epochTime : `${epochTime} · about ${duration(Math.max(0, left))} left`;
}

function progressWords(p: ProgressEvent, epochs: number | null): string {
  const of = epochs !== null ? ` of ${epochs}` : '';
  return `Epoch ${p.epoch}${of} · step ${p.step} of ${p.steps} · loss ${fixed(p.running.loss)} · reconstruction ${fixed(p.running.recon)} · KL ${fixed(p.running.kl)} (nats per example, running mean of the epoch)`;
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

/** What the run is doing now, as the page knows it. */
type Phase = 'training' | 'final-evaluation' | 'reconnecting' | 'ended' | 'unknown';

function phaseOf(watch: Watch, run: RunSummary | null): Phase {
  if (watch.end !== null) return 'ended';
  if (watch.error !== null) return 'unknown';
  if (watch.reconnecting) return 'reconnecting';
  if (run !== null && run.status !== 'running') return 'ended';
  const epochs = run?.epochs ?? null;
  return epochs !== null && watch.records.length >= epochs ? 'final-evaluation' : 'training';
}

/** Epoch 1's running mean starts far above everything after it: once epoch 1 has its point, its running means are left out, so the chart's scale shows the later epochs. */
function runningShown(watch: Watch): RunningLoss[] {
  return watch.records.length === 0 ? watch.running : watch.running.filter((r) => r.epochs > 1);
}

/** Curves are redrawn at most this often (a small data set's epochs can come faster than a chart draws). */
const REDRAW_MS = 400;

/** `value`, changed at most once every `ms`; the latest value shows within `ms`. */
function useThrottled<T>(value: T, ms: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const show = (): void => { last.current = performance.now(); setShown(value); };
    const wait = last.current + ms - performance.now();
    if (wait <= 0) { show(); return undefined; }
    const timer = setTimeout(show, wait);
    return () => clearTimeout(timer);
  }, [value]);
  return shown;
}

function LivePanel({ watch, run }: { watch: Watch; run: RunSummary | null }) {
  const subtitle = run !== null ? modelWords(run) : undefined;
  // The figures follow the curves' clock: an epoch's figures never show beside a panel that has not drawn that epoch yet.
  const drawn = useThrottled(useMemo(() => ({ records: watch.records, running: runningShown(watch), figures: watch.figures }), [watch.records, watch.running, watch.figures]), REDRAW_MS);
  const spec = useMemo(() => (drawn.records.length === 0 && drawn.running.length === 0 ? null
    : trainingCurvesSpec(drawn.records, `Training curves of ${watch.id}`, { subtitle, panelWidth: 168, panelHeight: 160, running: drawn.running })), [drawn.records, drawn.running, watch.id, subtitle]);
  const records = watch.records;
  const phase = phaseOf(watch, run);
  const p = phase === 'training' ? watch.progress : null;
  const epochs = run?.epochs ?? null;
  const fraction = p !== null && epochs !== null && epochs > 0 ? Math.min(1, doneAt(p) / epochs) : null;
  const status = watch.end?.status ?? run?.status ?? 'running';
  const pace = phase === 'training' ? paceWords(watch, epochs) : null;
  return (
    <div class="live" data-testid="live" data-run={watch.id} data-epochs={drawn.records.length} data-status={phase === 'unknown' || phase === 'reconnecting' ? phase : status} data-phase={phase}>
      <div class="live-head">
        <strong>{watch.id}</strong> {phase === 'unknown' || phase === 'reconnecting' ? null : <StatusBadge status={status} />}
        <span class="muted"> {records.length} epoch{records.length === 1 ? '' : 's'}{epochs !== null ? ` of ${epochs}` : ''}</span>
      </div>
      {p !== null ? (
        <div class="progress" data-testid="progress">
          <div class="bar"><div style={{ width: `${Math.round((fraction ?? 0) * 100)}%` }} /></div>
          <span>{fraction !== null ? `${Math.round(fraction * 100)}% · ` : ''}{progressWords(p, epochs)}</span>
        </div>
      ) : null}
      {pace !== null ? <p class="pace" data-testid="pace">{pace}</p> : null}
      {phase === 'final-evaluation' ? <p class="muted" data-testid="final-evaluation">All {epochs} epochs trained: evaluating the model on the validation examples (the test metrics), then the run ends.</p> : null}
      {phase === 'reconnecting' ? <p class="warning" data-testid="reconnecting">The studio is not answering (stopped or restarting): reconnecting…</p> : null}
      {watch.end?.error !== undefined ? <p class="error">{watch.end.error}</p> : null}
      {watch.end === null && run?.error !== undefined ? <p class="error">{run.error}</p> : null}
      <ErrorLine error={watch.error} />
      {watch.warnings.map((w, i) => <p key={i} class="warning small">{w}</p>)}
      {(() => {
        const given = watch.end?.testMetrics ?? (run?.testMetrics != null && watch.end !== null ? run.testMetrics : null);
        const text = textMetricsOf(given);
        if (text !== null) return <p class="metrics" data-testid="text-metrics">{textMetricsWords(text)}</p>;
        const m = imageMetricsOf(given);
        if (m === null) return null;
        const worse = worseThanNothing(m);
        return (
          <>
            <p class="metrics">{metricsWords(m)}</p>
            {worse !== null ? <p class="warning small" data-testid="worse-than-nothing">{worse}</p> : null}
          </>
        );
      })()}
      {run !== null && isTextRun(run) ? (
        <p class="notice" data-testid="text-run-train">{run.id} is a text model (trained with <code>vaekit train --preset {run.config?.preset ?? 'text'}</code>): reconstruct, sample and interpolate sentences on the <a href={pageHref('text')}>Text</a> page.</p>
      ) : null}
      <Chart spec={spec} testid="curves" placeholder={phase === 'training' || phase === 'reconnecting' ? 'The curves appear with the first steps.' : 'This run has no finished epoch.'} />
      {spec !== null ? <p class="muted small">x: epochs done (a step s of S in epoch e is at e − 1 + s/S); y: nats per example. The thin line is the running mean of the epoch in progress, the points are whole epochs.</p> : null}
      {drawn.figures !== null ? (
        <div class="figures" data-testid="figures">
          <figure><img src={drawn.figures.reconstructions} alt="Validation examples: original, noisy, reconstructed" /><figcaption>Validation examples: original, noisy, denoised</figcaption></figure>
          <figure><img src={drawn.figures.samples} alt="Samples from the prior" /><figcaption>Samples from the prior</figcaption></figure>
        </div>
      ) : phase === 'training' ? <p class="muted">Reconstructions and prior samples appear after each epoch.</p> : null}
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
  const anyText = runs.some(isTextRun);
  return (
    <>
      <ErrorLine error={error} />
      <table class="runs" data-testid="runs">
        <thead>
          <tr><th>run</th><th>status</th><th>model</th><th>data</th><th class="num">epochs</th><th class="num">loss (nats)</th><th class="num">val. loss (nats)</th><th class="num">test −ELBO (nats)</th>{anyText ? <th class="num">text: test NLL (nats) · perplexity</th> : null}<th /></tr>
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
              {anyText ? (() => { const t = textMetricsOf(r.testMetrics); return <td class="num" data-testid="text-nll">{t === null ? '–' : `${fixed(t.nllNats)} · ${fixed(t.perplexity)}`}</td>; })() : null}
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
  const events = useRunEvents(watched, generation);
  // The watch of the run shown, never another run's (for the one render before a new run's stream starts).
  const watch = watched === null ? null : events !== null && events.id === watched ? events : watching(watched);
  const listed = runs?.find((r) => r.status === 'running')?.id ?? null;
  const candidate = info?.training ?? listed;
  // A run whose end this page has seen is not training, whatever a list fetched earlier says.
  const running = candidate !== null && watch?.id === candidate && watch.end !== null ? null : candidate;

  // What to show: the run being trained, else the run picked, else the newest.
  useEffect(() => {
    if (watched !== null) return;
    const first = running ?? route.run ?? runs?.[0]?.id ?? null;
    if (first !== null) setWatched(first);
  }, [running, runs, route.run]);

  const run = runs?.find((r) => r.id === watched) ?? null;
  const follow = (id: string): void => {
    setWatched(id);
    setGeneration((g) => g + 1);
    pickRun(id);
    void refreshRuns();
    void refreshInfo();
  };
  const finalEvaluation = watch !== null && watch.id === running && phaseOf(watch, run) === 'final-evaluation';

  return (
    <div class="page train">
      <div class="columns">
        <Card title="New training run">
          <TrainForm running={running} finalEvaluation={finalEvaluation} onStarted={follow} />
        </Card>
        <Card title="Training" wide>
          {watch === null
            ? <p class="muted">Start a training run, or pick one in the list below, to see its curves here.</p>
            : <LivePanel key={watch.id} watch={watch} run={run} />}
        </Card>
      </div>
      <Card title="Runs" actions={<button type="button" onClick={() => void refreshRuns()}>Refresh</button>}>
        <ErrorLine error={runsError} />
        {runs !== null ? <RunsTable runs={runs} watched={watched} onWatch={(id) => { setWatched(id); pickRun(id); }} onResumed={follow} /> : <p class="muted">Loading…</p>}
      </Card>
    </div>
  );
}

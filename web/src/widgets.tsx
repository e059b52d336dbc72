// Small pieces the pages share: the run picker, status badges, number formats, the noise control.
import { useEffect } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { RunMetrics, RunStatus, RunSummary, TestMetrics, TextMetrics, TextVaeConfig } from './api.js';
import { hasModel, isSeriesRun, isTextRun, ownPage, pageHref, pickRun, useConnection, useRuns } from './store.js';

export function fixed(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

export function StatusBadge({ status }: { status: RunStatus }) {
  return <span class={`badge ${status}`}>{status}</span>;
}

/** Whether test metrics are a text model's. */
export function isTextMetrics(m: RunMetrics): m is TextMetrics {
  return 'kind' in m && m.kind === 'text';
}

/** An image or table model's test metrics, or null (none yet, or a text model's). */
export function imageMetricsOf(m: RunMetrics | null | undefined): TestMetrics | null {
  return m === null || m === undefined || isTextMetrics(m) ? null : m;
}

/** A text model's test metrics, or null (none yet, or an image or table model's). */
export function textMetricsOf(m: RunMetrics | null | undefined): TextMetrics | null {
  return m === null || m === undefined || !isTextMetrics(m) ? null : m;
}

/** A text model's test metrics in one line, each number with its unit. */
export function textMetricsWords(m: TextMetrics): string {
  const nll = `NLL ${fixed(m.nllNats)} nats per sentence (${m.latent === 0 ? 'exact' : `importance-sampled, k = ${m.importanceSamples}`})`;
  const latent = m.latent === 0 ? 'no latent code (a language model)' : `mutual information ${fixed(m.mutualInformation)} nats · active units ${m.activeUnits} of ${m.latent}`;
  return `Test: ${nll} · perplexity ${fixed(m.perplexity)} per token · negative ELBO ${fixed(m.negElboNats)} (reconstruction ${fixed(m.reconNats)}, KL ${fixed(m.klNats)} nats) · ${latent}, on ${m.examples.toLocaleString('en-US')} sentences`;
}

/** A text model's config, or null for an image or table model's. */
export function textConfigOf(run: Pick<RunSummary, 'config'>): TextVaeConfig | null {
  return run.config !== null && isTextRun(run) ? run.config as TextVaeConfig : null;
}

/** The tokens a text run's vocabulary holds, in words: "57 word tokens". */
export function vocabularyWords(run: RunSummary): string | null {
  const c = textConfigOf(run);
  if (c === null) return null;
  const kind = run.data?.text?.vocabulary.tokenizer.kind;
  return `${c.vocab.toLocaleString('en-US')}${kind !== undefined ? ` ${kind}` : ''} tokens`;
}

/** What a run's model is, in a few words: "seed · latent 2 · bernoulli", "text · latent 8 · lstm 64 · 57 word tokens". */
export function modelWords(run: RunSummary): string {
  const c = run.config;
  if (c === null) return '–';
  const text = textConfigOf(run);
  const parts = text !== null
    ? [text.preset, text.latent === 0 ? 'language model' : `latent ${text.latent}`, `${text.cell} ${text.decoderHidden}`, vocabularyWords(run) ?? '']
    : [c.preset, `latent ${c.latent}`, 'likelihood' in c ? c.likelihood : ''];
  if (c.classes > 0) parts.push(`conditional (${c.classes} classes)`);
  return parts.filter((p) => p !== '').join(' · ');
}

/** A series model's windows in words: "windows of 12 points of a, b". */
export function windowWords(run: Pick<RunSummary, 'data'>): string | null {
  const s = run.data?.series;
  if (s === undefined || s === null) return null;
  return `windows of ${s.window} points${s.stride > 1 ? ` every ${s.stride}` : ''} of ${s.channels.join(', ')}`;
}

/** What a run trained on: its source's file name and the example shape (a text model's: its maximum length in tokens; a series model's: its windows). */
export function dataWords(run: RunSummary): string {
  const d = run.data;
  if (d === null) return '–';
  const name = d.source.split(/[\\/]/).pop() ?? d.source;
  return isTextRun(run) ? `${name} [up to ${d.shape[0] ?? '?'} tokens]` : isSeriesRun(run) ? `${name} [${windowWords(run) ?? ''}]` : `${name} [${d.shape.join('×')}]`;
}

/** On a page of image and table models, for a text or series run picked: one sentence that sends it to its own page. */
export function OwnPageNote({ run }: { run: RunSummary }) {
  return ownPage(run) === 'series' ? (
    <p class="notice" data-testid="series-run-note">
      {run.id} is a time series model, and this page works with image and table models: score a series with it on the <a href={pageHref('series')}>Series</a> page.
    </p>
  ) : (
    <p class="notice" data-testid="text-run-note">
      {run.id} is a text model, and this page works with image and table models: explore it on the <a href={pageHref('text')}>Text</a> page.
    </p>
  );
}

export interface RunPickerProps {
  /** The run picked (from the route), or null. */
  value: string | null;
  /** Which runs may be picked (default: those with a model to load). */
  usable?: (run: RunSummary) => boolean;
  /** Which of them is picked when none (or one not usable) is: the newest such (default: the newest usable one). */
  preferred?: (run: RunSummary) => boolean;
  label?: string;
  /** What to say when no run may be picked. */
  none?: ComponentChildren;
}

/** A select of the runs; picks the newest preferred run (else the newest usable one) when none is picked yet. */
export function RunPicker({ value, usable = hasModel, preferred = () => true, label = 'Run', none }: RunPickerProps) {
  const { value: runs, error } = useRuns();
  const choices = (runs ?? []).filter(usable);
  const picked = choices.find((r) => r.id === value) ?? null;
  useEffect(() => {
    if (runs !== null && picked === null && choices.length > 0) pickRun((choices.find(preferred) ?? choices[0]!).id);
  }, [runs, value]);
  if (error !== null && runs === null) return <p class="error">{error}</p>;
  if (runs === null) return <p class="muted">Loading the runs…</p>;
  if (choices.length === 0) return <p class="muted">{none ?? <>No trained run yet: train one on the <a href="#/train">Train</a> page.</>}</p>;
  return (
    <label class="field inline">
      <span>{label}</span>
      <select data-testid="run-picker" value={picked?.id ?? ''} onChange={(e) => pickRun((e.currentTarget as HTMLSelectElement).value)}>
        {choices.map((r) => (
          <option key={r.id} value={r.id}>{`${r.id} (${r.status}, ${r.epochsDone} epoch${r.epochsDone === 1 ? '' : 's'}${isTextRun(r) ? ', text' : isSeriesRun(r) ? ', series' : ''}${r.config !== null ? (isTextRun(r) && r.config.latent === 0 ? ', language model' : `, latent ${r.config.latent}`) : ''})`}</option>
        ))}
      </select>
    </label>
  );
}

export type NoiseKind = 'none' | 'gaussian' | 'salt-and-pepper' | 'masking';

export const NOISE_KINDS: { kind: NoiseKind; label: string; what: string }[] = [
  { kind: 'gaussian', label: 'Gaussian', what: 'σ' },
  { kind: 'salt-and-pepper', label: 'Salt and pepper', what: 'p' },
  { kind: 'masking', label: 'Masking', what: 'p' },
  { kind: 'none', label: 'None', what: '' },
];

/** The noise spec text vaekit parses: "gaussian:0.2", "masking:0.3", "none". */
export function noiseText(kind: NoiseKind, amount: number): string {
  return kind === 'none' ? 'none' : `${kind}:${Number(amount.toFixed(2))}`;
}

export interface NoiseControlProps {
  kind: NoiseKind;
  amount: number;
  onChange: (kind: NoiseKind, amount: number) => void;
  testid?: string;
}

/** The noise kind and a slider for its amount (σ for Gaussian noise, the probability otherwise). */
export function NoiseControl({ kind, amount, onChange, testid }: NoiseControlProps) {
  const what = NOISE_KINDS.find((k) => k.kind === kind)?.what ?? '';
  return (
    <div class="noise" data-testid={testid}>
      <label class="field">
        <span>Noise</span>
        <select value={kind} onChange={(e) => onChange((e.currentTarget as HTMLSelectElement).value as NoiseKind, amount)}>
          {NOISE_KINDS.map((k) => <option key={k.kind} value={k.kind}>{k.label}</option>)}
        </select>
      </label>
      <label class={`field slider${kind === 'none' ? ' disabled' : ''}`}>
        <span>{what === '' ? 'amount' : what} = {amount.toFixed(2)}</span>
        <input type="range" min="0" max="1" step="0.01" value={amount} disabled={kind === 'none'}
          onInput={(e) => onChange(kind, Number((e.currentTarget as HTMLInputElement).value))} />
      </label>
    </div>
  );
}

export function Card({ title, children, wide, actions }: { title?: string; children: ComponentChildren; wide?: boolean; actions?: ComponentChildren }) {
  return (
    <section class={`card${wide === true ? ' wide' : ''}`}>
      {title !== undefined || actions !== undefined ? (
        <header class="card-head">
          {title !== undefined ? <h2>{title}</h2> : <span />}
          {actions}
        </header>
      ) : null}
      {children}
    </section>
  );
}

export function ErrorLine({ error }: { error: string | null }) {
  return error === null ? null : <p class="error" role="alert">{error}</p>;
}

/** A line while the studio does not answer or refuses this tab (see store.ts Connection); nothing while all is well. */
export function ConnectionBanner() {
  const connection = useConnection();
  if (connection === 'open') return null;
  const refused = connection === 'refused';
  return (
    <p class={`banner ${refused ? 'error' : 'warning'}`} role="alert" data-testid="connection" data-connection={connection}>
      {refused ? 'The studio restarted: reload the page (open the address it printed).' : 'The studio is not answering (stopped or restarting): reconnecting…'}
    </p>
  );
}

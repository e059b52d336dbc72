// Small pieces the pages share: the run picker, status badges, number formats, the noise control.
import { useEffect } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import type { RunStatus, RunSummary } from './api.js';
import { hasModel, pickRun, useConnection, useRuns } from './store.js';

export function fixed(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

export function StatusBadge({ status }: { status: RunStatus }) {
  return <span class={`badge ${status}`}>{status}</span>;
}

/** What a run's model is, in a few words: "seed · latent 2 · bernoulli". */
export function modelWords(run: RunSummary): string {
  const c = run.config;
  if (c === null) return '–';
  const parts = [c.preset, `latent ${c.latent}`, c.likelihood];
  if (c.classes > 0) parts.push(`conditional (${c.classes} classes)`);
  return parts.join(' · ');
}

/** What a run trained on: its source's file name and the example shape. */
export function dataWords(run: RunSummary): string {
  const d = run.data;
  if (d === null) return '–';
  const name = d.source.split(/[\\/]/).pop() ?? d.source;
  return `${name} [${d.shape.join('×')}]`;
}

export interface RunPickerProps {
  /** The run picked (from the route), or null. */
  value: string | null;
  /** Which runs may be picked (default: those with a model to load). */
  usable?: (run: RunSummary) => boolean;
  label?: string;
}

/** A select of the runs; picks the newest usable run when none is picked yet. */
export function RunPicker({ value, usable = hasModel, label = 'Run' }: RunPickerProps) {
  const { value: runs, error } = useRuns();
  const choices = (runs ?? []).filter(usable);
  const picked = choices.find((r) => r.id === value) ?? null;
  useEffect(() => {
    if (runs !== null && picked === null && choices.length > 0) pickRun(choices[0]!.id);
  }, [runs, value]);
  if (error !== null && runs === null) return <p class="error">{error}</p>;
  if (runs === null) return <p class="muted">Loading the runs…</p>;
  if (choices.length === 0) return <p class="muted">No trained run yet: train one on the <a href="#/train">Train</a> page.</p>;
  return (
    <label class="field inline">
      <span>{label}</span>
      <select data-testid="run-picker" value={picked?.id ?? ''} onChange={(e) => pickRun((e.currentTarget as HTMLSelectElement).value)}>
        {choices.map((r) => (
          <option key={r.id} value={r.id}>{`${r.id} (${r.status}, ${r.epochsDone} epoch${r.epochsDone === 1 ? '' : 's'}${r.config !== null ? `, latent ${r.config.latent}` : ''})`}</option>
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

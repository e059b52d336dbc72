// Text: a text run's model (vaekit train --preset text), every request answered by the studio's
// inference worker: type a sentence and see it as the model reads it, its reconstruction (greedy
// from its posterior mean) and the training sentences nearest it by code (cosine or Euclidean
// distance between posterior means); sentences from the prior (sampled at a temperature, greedy, or
// beam search); the sentences between two typed ones, each line with its t. A language model
// (text-lm) has no latent code: it only samples, and the page says why.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { INTERPOLATION_STEPS, MAX_BEAM_WIDTH, MAX_NEAREST, MAX_SENTENCE_CHARS } from '../../../src/studio/text-limits.js';
import {
  api, messageOf, type CodeDistance, type DecodeMode, type RunSummary, type TextInterpolation, type TextNearest, type TextReconstruction, type TextSamples,
} from '../api.js';
import { hasTextModel, refreshRuns, useInfo, usePickedRun } from '../store.js';
import { Card, dataWords, ErrorLine, modelWords, RunPicker, textConfigOf, textMetricsOf, textMetricsWords } from '../widgets.js';

/** What was typed, kept while the page is unmounted (another page shown), so coming back finds it. */
const kept = { sentence: '', from: '', to: '' };

/**
 * The answer of the newest of a series of requests: each call of `ask` supersedes the ones before,
 * whose answers (they may come later: one worker answers in order, but a slow first nearest search
 * is not the last word) are dropped.
 */
function useLatest<T>(): { value: T | null; error: string | null; busy: boolean; ask: (request: () => Promise<T>) => void; clear: () => void } {
  const [state, setState] = useState<{ value: T | null; error: string | null; busy: boolean }>({ value: null, error: null, busy: false });
  const asked = useRef(0);
  const ask = (request: () => Promise<T>): void => {
    const n = ++asked.current;
    setState((s) => ({ ...s, busy: true }));
    request().then(
      (value) => { if (n === asked.current) setState({ value, error: null, busy: false }); },
      (err: unknown) => { if (n === asked.current) setState({ value: null, error: messageOf(err), busy: false }); },
    );
  };
  const clear = (): void => {
    asked.current++;
    setState({ value: null, error: null, busy: false });
  };
  return { ...state, ask, clear };
}

/** A sentence with each <unk> marked. */
function Tokens({ text }: { text: string }) {
  const parts = text.split('<unk>');
  return <>{parts.map((p, i) => <span key={i}>{p}{i < parts.length - 1 ? <mark class="unk" title="not in the model's vocabulary">&lt;unk&gt;</mark> : null}</span>)}</>;
}

function SentenceLine({ label, children, testid }: { label: string; children: ComponentChildren; testid?: string }) {
  return (
    <div class="sentence-line">
      <span class="sentence-label">{label}</span>
      <span class="sentence" data-testid={testid}>{children}</span>
    </div>
  );
}

interface ModelProps {
  run: RunSummary;
  /** The class of a conditional model's sentences (its name), else undefined. */
  label: string | undefined;
}

const labelled = (label: string | undefined): { label?: string } => (label === undefined ? {} : { label });

function ReconstructCard({ run, label }: ModelProps) {
  const [sentence, setSentence] = useState(kept.sentence);
  const [metric, setMetric] = useState<CodeDistance>('cosine');
  const [count, setCount] = useState(8);
  const [asked, setAsked] = useState<string | null>(null);
  const reconstruction = useLatest<TextReconstruction>();
  const nearest = useLatest<TextNearest>();
  useEffect(() => { kept.sentence = sentence; }, [sentence]);
  useEffect(() => { setAsked(null); reconstruction.clear(); nearest.clear(); }, [run.id, run.epochsDone, label]);
  useEffect(() => {
    if (asked === null) return;
    nearest.ask(() => api.text.nearest(run.id, { sentence: asked, metric, count, ...labelled(label) }));
  }, [asked, metric, count]);

  const submit = (e: Event): void => {
    e.preventDefault();
    const typed = sentence;
    reconstruction.ask(() => api.text.reconstruct(run.id, { sentence: typed, ...labelled(label) }));
    setAsked(typed);
    // The same sentence again: the nearest search runs again too.
    if (typed === asked) nearest.ask(() => api.text.nearest(run.id, { sentence: typed, metric, count, ...labelled(label) }));
  };
  const r = reconstruction.value;
  const n = nearest.value;
  return (
    <Card title="Reconstruct a sentence" wide>
      <form class="sentence-form" onSubmit={submit} data-testid="reconstruct-form">
        <input type="text" value={sentence} maxLength={MAX_SENTENCE_CHARS} placeholder="Type a sentence, then Enter" data-testid="sentence" spellcheck={false}
          aria-label="sentence" onInput={(e) => setSentence((e.currentTarget as HTMLInputElement).value)} />
        <button type="submit" class="primary" disabled={sentence.trim() === ''} data-testid="reconstruct">Reconstruct</button>
      </form>
      <ErrorLine error={reconstruction.error} />
      <div class="text-columns">
        <div class="text-result" data-testid="reconstruction-box">
          {r !== null ? (
            <>
              <SentenceLine label="as the model reads it" testid="read"><Tokens text={r.read} /></SentenceLine>
              <p class="muted small">
                {r.tokens} token{r.tokens === 1 ? '' : 's'}{r.unknown > 0 ? `, ${r.unknown} not in its vocabulary (<unk>)` : ', all in its vocabulary'}
                {r.cut ? `; cut to its maximum length of ${textConfigOf(run)?.maxLength ?? '?'} tokens` : ''}
              </p>
              <SentenceLine label="reconstruction" testid="reconstruction"><Tokens text={r.reconstruction} /></SentenceLine>
              <p class="muted small">Encoded to its posterior mean and decoded greedily (the most likely token at each step) from it.</p>
            </>
          ) : reconstruction.busy ? <p class="muted">Reconstructing…</p> : <p class="muted">The sentence as the model reads it and its reconstruction appear here.</p>}
        </div>
        <div class="text-result">
          <div class="toolbar small-gap">
            <strong>Nearest training sentences</strong>
            <label class="field inline"><span>by</span>
              <select value={metric} data-testid="metric" onChange={(e) => setMetric((e.currentTarget as HTMLSelectElement).value as CodeDistance)}>
                <option value="cosine">cosine distance</option>
                <option value="euclidean">Euclidean distance</option>
              </select>
            </label>
            <label class="field inline"><span>show</span>
              <select value={count} data-testid="nearest-count" onChange={(e) => setCount(Number((e.currentTarget as HTMLSelectElement).value))}>
                {[5, 8, 12, 20, MAX_NEAREST].map((k) => <option key={k} value={k}>{k}</option>)}
              </select>
            </label>
          </div>
          <ErrorLine error={nearest.error} />
          {n !== null ? (
            <>
              <ol class="nearest" data-testid="nearest">
                {n.sentences.map((s) => (
                  <li key={s.index}><span class="distance" title={`${n.metric} distance between posterior means`}>{s.distance.toPrecision(3)}</span> <span class="sentence">{s.text}</span></li>
                ))}
              </ol>
              <p class="muted small">
                Distance between posterior means ({n.metric === 'cosine' ? '1 − cos, of their directions' : 'Euclidean'}), over {n.searched < n.total ? `the first ${n.searched.toLocaleString('en-US')} of ` : ''}
                the {n.total.toLocaleString('en-US')} sentences of {n.source.split(/[\\/]/).pop() ?? n.source}.
              </p>
            </>
          ) : nearest.busy ? <p class="muted">Searching the training sentences (the first search encodes them all)…</p> : <p class="muted">The training sentences whose codes are nearest the sentence's appear here.</p>}
        </div>
      </div>
    </Card>
  );
}

const MODES: { mode: DecodeMode; label: string }[] = [
  { mode: 'sample', label: 'sampled at a temperature' },
  { mode: 'greedy', label: 'greedy' },
  { mode: 'beam', label: 'beam search' },
];

function SamplesCard({ run, label }: ModelProps) {
  const [mode, setMode] = useState<DecodeMode>('sample');
  const [temperature, setTemperature] = useState(1);
  const [beamWidth, setBeamWidth] = useState(5);
  const [count, setCount] = useState(8);
  const [seed, setSeed] = useState(0);
  const samples = useLatest<TextSamples>();
  const lm = textConfigOf(run)?.latent === 0;
  useEffect(() => {
    // Settled for a moment before asking (the temperature slider moves in small steps).
    const timer = setTimeout(() => samples.ask(() => api.text.samples(run.id, { count, seed, mode, temperature, beamWidth, ...labelled(label) })), 150);
    return () => clearTimeout(timer);
  }, [run.id, run.epochsDone, label, mode, temperature, beamWidth, count, seed]);
  const s = samples.value;
  const how = s === null ? '' : s.mode === 'sample' ? `each token sampled at temperature ${s.temperature}` : s.mode === 'greedy' ? 'decoded greedily' : `decoded by beam search of width ${s.beamWidth}`;
  return (
    <Card title={lm ? 'Sentences from the language model' : 'Samples from the prior'} actions={<button type="button" onClick={() => setSeed((x) => x + 1)} data-testid="draw">Draw again</button>}>
      <div class="toolbar small-gap">
        <label class="field inline"><span>Decoding</span>
          <select value={mode} data-testid="sample-mode" onChange={(e) => setMode((e.currentTarget as HTMLSelectElement).value as DecodeMode)}>
            {MODES.map((m) => <option key={m.mode} value={m.mode}>{m.label}</option>)}
          </select>
        </label>
        <label class="field inline"><span>sentences</span>
          <select value={count} data-testid="sample-count" onChange={(e) => setCount(Number((e.currentTarget as HTMLSelectElement).value))}>
            {[4, 8, 16, 32].map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
      </div>
      <div class="row2">
        <label class={`field slider${mode === 'sample' ? '' : ' disabled'}`}>
          <span>temperature = {temperature.toFixed(2)}</span>
          <input type="range" min="0.1" max="2" step="0.05" value={temperature} disabled={mode !== 'sample'} data-testid="temperature"
            onInput={(e) => setTemperature(Number((e.currentTarget as HTMLInputElement).value))} />
        </label>
        <label class={`field${mode === 'beam' ? '' : ' disabled'}`}>
          <span>beam width</span>
          <input type="number" min="1" max={MAX_BEAM_WIDTH} step="1" value={beamWidth} disabled={mode !== 'beam'} data-testid="beam-width"
            onInput={(e) => { const v = Number((e.currentTarget as HTMLInputElement).value); if (Number.isInteger(v) && v >= 1 && v <= MAX_BEAM_WIDTH) setBeamWidth(v); }} />
        </label>
      </div>
      <ErrorLine error={samples.error} />
      {s !== null ? (
        <>
          <ol class="samples-list" data-testid="text-samples">{s.sentences.map((text, i) => <li key={i}><Tokens text={text} /></li>)}</ol>
          <p class="muted small">{lm ? 'Generated from the start token' : 'z drawn from N(0, I) for each sentence'}, {how} (seed {s.seed}).</p>
        </>
      ) : samples.busy ? <p class="muted">Drawing…</p> : null}
    </Card>
  );
}

function InterpolateCard({ run, label }: ModelProps) {
  const [from, setFrom] = useState(kept.from);
  const [to, setTo] = useState(kept.to);
  const [steps, setSteps] = useState<number>(INTERPOLATION_STEPS.fallback);
  const line = useLatest<TextInterpolation>();
  useEffect(() => { kept.from = from; kept.to = to; }, [from, to]);
  useEffect(() => { line.clear(); }, [run.id, run.epochsDone, label]);
  const submit = (e: Event): void => {
    e.preventDefault();
    line.ask(() => api.text.interpolate(run.id, { from, to, steps, ...labelled(label) }));
  };
  const choices = Array.from({ length: INTERPOLATION_STEPS.max - INTERPOLATION_STEPS.min + 1 }, (_, i) => INTERPOLATION_STEPS.min + i);
  return (
    <Card title="Interpolate between two sentences">
      <form class="interp-form" onSubmit={submit} data-testid="interpolate-form">
        <input type="text" value={from} maxLength={MAX_SENTENCE_CHARS} placeholder="From this sentence…" aria-label="from" data-testid="interp-from" spellcheck={false}
          onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
        <input type="text" value={to} maxLength={MAX_SENTENCE_CHARS} placeholder="…to this one" aria-label="to" data-testid="interp-to" spellcheck={false}
          onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
        <div class="buttons">
          <label class="field inline"><span>steps</span>
            <select value={steps} data-testid="interp-steps" onChange={(e) => setSteps(Number((e.currentTarget as HTMLSelectElement).value))}>
              {choices.map((k) => <option key={k} value={k}>{k}</option>)}
            </select>
          </label>
          <button type="submit" class="primary" disabled={from.trim() === '' || to.trim() === ''} data-testid="interpolate">Interpolate</button>
        </div>
      </form>
      <ErrorLine error={line.error} />
      {line.value !== null ? (
        <>
          <ol class="interp-lines" data-testid="interpolation">
            {line.value.steps.map((p, i) => <li key={i}><span class="t">t = {p.t.toFixed(2)}</span> <Tokens text={p.text} /></li>)}
          </ol>
          <p class="muted small">Decoded greedily at evenly spaced points (1 − t)·z₀ + t·z₁ of the line between the two sentences' posterior means.</p>
        </>
      ) : line.busy ? <p class="muted">Interpolating…</p> : <p class="muted">Each point of the line between the two codes, decoded, appears here with its t.</p>}
    </Card>
  );
}

export function TextPage() {
  const { route, run: picked } = usePickedRun();
  const { value: info } = useInfo();
  // The run picked on another page may be an image run: the picker then picks the newest text run.
  const run = picked !== null && hasTextModel(picked) ? picked : null;
  const config = run === null ? null : textConfigOf(run);
  const classes = config !== null && config.classes > 0 ? run?.data?.classNames ?? Array.from({ length: config.classes }, (_, i) => String(i)) : null;
  const [label, setLabel] = useState<string | undefined>(undefined);
  useEffect(() => { setLabel(classes?.[0]); }, [run?.id]);
  // Text runs are trained outside the studio (vaekit train), which tells no open tab: the runs are fetched again on every visit.
  useEffect(() => { void refreshRuns(); }, []);
  const lm = config?.latent === 0;
  const metrics = run === null ? null : textMetricsOf(run.testMetrics);
  const out = `${info?.runsDir ?? 'RUNS'}/NAME`;
  return (
    <div class="page text">
      <Card title="A text model" wide>
        <div class="toolbar">
          <RunPicker value={route.run} usable={hasTextModel} label="Text run"
            none={<>No trained text run yet: train one with <code>vaekit train --data corpus.txt --preset text --out {out}</code> (one sentence a line; the Train page trains image and table models), and it appears here.</>} />
          {classes !== null ? (
            <label class="field inline"><span>Class</span>
              <select value={label} data-testid="text-class" onChange={(e) => setLabel((e.currentTarget as HTMLSelectElement).value)}>
                {classes.map((c) => <option key={c} value={c}>{c}</option>)}
              </select>
            </label>
          ) : null}
        </div>
        {run !== null ? (
          <>
            <p class="muted" data-testid="text-model">{modelWords(run)} · trained on {dataWords(run)}, {run.epochsDone} epoch{run.epochsDone === 1 ? '' : 's'}</p>
            {metrics !== null ? <p class="metrics small">{textMetricsWords(metrics)}</p> : null}
          </>
        ) : null}
        {run !== null && lm ? (
          <p class="notice" data-testid="language-model-note">
            {run.id} is a language model (preset {config?.preset ?? 'text-lm'}): it has no encoder and no latent code, so it cannot reconstruct a sentence, find training sentences near one by code or interpolate between two; it only generates sentences, below.
          </p>
        ) : null}
      </Card>
      {run !== null && !lm ? <ReconstructCard run={run} label={label} /> : null}
      {run !== null ? (
        <div class={lm ? '' : 'columns even'}>
          <SamplesCard run={run} label={label} />
          {!lm ? <InterpolateCard run={run} label={label} /> : null}
        </div>
      ) : null}
    </div>
  );
}

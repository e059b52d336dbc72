// Latent space: the run's test codes in 2-D (PCA or UMAP, from the server), coloured by class;
// the point under the cursor decoded in the page; two clicks make an interpolation strip; sliders
// move an encoded example along the dimensions that carry the most KL; prior samples.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { interpolate, Tensor, type InterpolationMethod } from '../../../src/browser.js';
import { api, messageOf, type Examples, type ImageShape, type KlRanking, type LatentMap, type LatentMapQuery } from '../api.js';
import { ImageView } from '../images.js';
import { className, exampleTensor, isConditional, useRunModel, type BrowserModel } from '../model.js';
import { classColour, nearestPoint, Scatter, type Point2 } from '../scatter.js';
import { ownPage, usePickedRun } from '../store.js';
import { Card, ErrorLine, RunPicker, OwnPageNote } from '../widgets.js';

/** How the map projects the latent means: the server's choices (LatentMapQuery). */
type Method = NonNullable<LatentMapQuery['method']>;
const STEPS = 10;

/** The latent vector a point of the map stands for: PCA's inverse, z itself for a 2-D latent space, else the nearest code. */
function latentAt(map: LatentMap, p: Point2, latent: number, nearest: number | null): Float32Array | null {
  if (map.pca !== undefined) {
    const { center, axes } = map.pca;
    return Float32Array.from(center, (c, d) => c + p.x * axes[0][d]! + p.y * axes[1][d]!);
  }
  if (latent <= 2) return Float32Array.from(latent === 2 ? [p.x, p.y] : [p.x]);
  return nearest === null ? null : Float32Array.from(map.z[nearest]!);
}

function decodeOne(model: BrowserModel, z: Float32Array, label: number): Float32Array {
  return model.vae.decode(new Tensor(z, [1, model.vae.latent]), isConditional(model) ? [label] : null).data;
}

/** Rows of a decoded batch, one image's values each. */
function rows(data: Float32Array, n: number): Float32Array[] {
  const size = data.length / n;
  return Array.from({ length: n }, (_, i) => data.subarray(i * size, (i + 1) * size));
}

function Legend({ map }: { map: LatentMap }) {
  if (map.labels === null) return null;
  const present = [...new Set(map.labels)].sort((a, b) => a - b);
  const classes = Math.max(map.labelNames.length, present.length);
  return (
    <ul class="legend" data-testid="legend">
      {present.map((i) => (
        <li key={i}><span class="swatch" style={{ background: classColour(i, classes) }} />{map.labelNames[i] ?? String(i)}</li>
      ))}
    </ul>
  );
}

interface Hovered {
  p: Point2;
  nearest: number | null;
  image: Float32Array | null;
  z: Float32Array | null;
}

function zWords(z: Float32Array | null): string {
  if (z === null) return '';
  const shown = Array.from(z.subarray(0, 6), (v) => v.toFixed(2)).join(', ');
  return `z = (${shown}${z.length > 6 ? ', …' : ''})`;
}

function LatentMapCard({ model, runId, method, setMethod }: { model: BrowserModel; runId: string; method: Method; setMethod: (m: Method) => void }) {
  const [map, setMap] = useState<LatentMap | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [hovered, setHovered] = useState<Hovered | null>(null);
  const [ends, setEnds] = useState<{ p: Point2; z: Float32Array; label: number }[]>([]);
  const [path, setPath] = useState<InterpolationMethod>('spherical');
  const shape = model.image;

  useEffect(() => {
    setMap(null);
    setHovered(null);
    setEnds([]);
    let cancelled = false;
    api.latentMap(runId, { method, limit: 2000 })
      .then((m) => { if (!cancelled) { setMap(m); setError(null); } })
      .catch((err: unknown) => { if (!cancelled) setError(messageOf(err)); });
    return () => { cancelled = true; };
  }, [runId, method]);

  const labelNear = (nearest: number | null): number => (map?.labels != null && nearest !== null ? map.labels[nearest]! : 0);
  const hover = (p: Point2 | null): void => {
    if (map === null || p === null) { setHovered((h) => (h === null ? null : { ...h, nearest: null })); return; }
    const nearest = nearestPoint(map.x, map.y, p);
    const z = latentAt(map, p, model.vae.latent, nearest);
    let image: Float32Array | null = null;
    try {
      if (z !== null) image = decodeOne(model, z, labelNear(nearest));
    } catch (err) {
      setError(messageOf(err));
    }
    setHovered({ p, nearest, image, z });
  };
  const pick = (p: Point2): void => {
    if (map === null) return;
    const nearest = nearestPoint(map.x, map.y, p);
    const z = latentAt(map, p, model.vae.latent, nearest);
    if (z === null) return;
    const end = { p, z, label: labelNear(nearest) };
    setEnds((e) => (e.length >= 2 ? [end] : [...e, end]));
  };
  const strip = useMemo(() => {
    if (ends.length !== 2) return null;
    try {
      const run = interpolate(model.vae, ends[0]!.z, ends[1]!.z, STEPS, path, isConditional(model) ? ends[0]!.label : undefined);
      return rows(run.images.data, STEPS);
    } catch (err) {
      setError(messageOf(err));
      return null;
    }
  }, [ends, path, model]);

  const classes = map === null ? 0 : Math.max(map.labelNames.length, map.labels === null ? 0 : Math.max(...map.labels) + 1);
  const mapEnds = useMemo(() => ends.map((e) => e.p), [ends]);
  return (
    <Card title="Latent map" wide actions={
      <div class="segmented" role="group" aria-label="Projection">
        <label><input type="radio" name="method" checked={method === 'pca'} onChange={() => setMethod('pca')} /> PCA</label>
        <label><input type="radio" name="method" checked={method === 'umap'} onChange={() => setMethod('umap')} data-testid="method-umap" /> UMAP</label>
      </div>
    }>
      <ErrorLine error={error} />
      {map === null && error === null ? <p class="muted">Encoding the test examples and projecting them ({method === 'umap' ? 'UMAP takes a few seconds' : 'PCA'})…</p> : null}
      {map !== null ? (
        <div class="latent-map">
          <div class="map-column">
            <Scatter x={map.x} y={map.y} labels={map.labels} classes={classes} xTitle={map.xTitle} yTitle={map.yTitle} size={470}
              hover={hovered?.p ?? null} nearest={hovered?.nearest ?? null} ends={mapEnds} onHover={hover} onPick={pick} testid="latent-map" />
            <p class="muted small">{map.x.length.toLocaleString('en-US')} test examples' posterior means. Hover to decode; click two places to interpolate between them.</p>
          </div>
          <div class="latent-side">
            <Legend map={map} />
            {shape !== null ? (
              <div class="hover-box">
                <ImageView values={hovered?.image ?? null} shape={shape} size={168} testid="hover-decoded" label="Decoded under the cursor" />
                <p class={hovered?.z != null ? 'mono small' : 'muted small'}>{hovered?.z != null ? zWords(hovered.z) : 'Move the cursor over the map.'}</p>
                <p class="muted small">{map.pca !== undefined ? 'PCA: z = center + x·axis₁ + y·axis₂.' : model.vae.latent <= 2 ? 'The map is z itself.' : 'UMAP: the code of the nearest example.'}</p>
              </div>
            ) : <p class="muted">This run's examples are table rows; the decoded rows are not drawn.</p>}
          </div>
        </div>
      ) : null}
      <div class="interpolation">
        <div class="interp-head">
          <h3>Interpolation</h3>
          <label class="field inline"><span>Path</span>
            <select value={path} onChange={(e) => setPath((e.currentTarget as HTMLSelectElement).value as InterpolationMethod)}>
              <option value="spherical">spherical (slerp)</option>
              <option value="linear">linear</option>
            </select>
          </label>
          {ends.length > 0 ? <button type="button" onClick={() => setEnds([])}>Clear</button> : null}
        </div>
        {strip !== null && shape !== null ? (
          <div class="strip" data-testid="interpolation">
            {strip.map((values, i) => <ImageView key={i} values={values} shape={shape} size={72} label={i === 0 ? 'A' : i === STEPS - 1 ? 'B' : ''} />)}
          </div>
        ) : <p class="muted">{ends.length === 1 ? 'Now click the second end (B).' : 'Click two places on the map (A, then B).'}</p>}
      </div>
    </Card>
  );
}

function DimensionsCard({ model, runId }: { model: BrowserModel; runId: string }) {
  const [ranking, setRanking] = useState<KlRanking | null>(null);
  const [examples, setExamples] = useState<Examples | null>(null);
  const [picked, setPicked] = useState(0);
  const [z, setZ] = useState<Float32Array | null>(null);
  const [resets, setResets] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const shape = model.image;

  useEffect(() => {
    setRanking(null);
    setExamples(null);
    setZ(null);
    let cancelled = false;
    Promise.all([api.klRanking(runId), api.examples(runId, { start: 0, count: 10 })])
      .then(([r, e]) => {
        if (cancelled) return;
        setRanking(r);
        setExamples(e);
        setError(null);
      })
      .catch((err: unknown) => { if (!cancelled) setError(messageOf(err)); });
    return () => { cancelled = true; };
  }, [runId]);

  const label = examples?.labels?.[picked] ?? 0;
  useEffect(() => {
    if (examples === null || examples.images.length === 0) return;
    try {
      const values = Float32Array.from(examples.images[picked]!);
      const { mean } = model.vae.encode(exampleTensor(model, values), isConditional(model) ? [label] : null);
      setZ(mean.data.slice());
    } catch (err) {
      setError(messageOf(err));
    }
  }, [examples, picked, model, resets]);

  const decoded = useMemo(() => {
    if (z === null) return null;
    try {
      return decodeOne(model, z, label);
    } catch {
      return null;
    }
  }, [z, model, label]);

  const top = (ranking?.dims ?? []).slice(0, Math.min(6, model.vae.latent));
  const exampleShape: ImageShape | null = shape;
  return (
    <Card title="Latent dimensions">
      <ErrorLine error={error} />
      {examples !== null && exampleShape !== null ? (
        <div class="thumbs" data-testid="examples">
          {examples.images.map((values, i) => (
            <ImageView key={i} values={values} shape={exampleShape} size={44} selected={i === picked} onClick={() => setPicked(i)}
              title={examples.labels !== null ? `class ${examples.labelNames?.[examples.labels[i]!] ?? examples.labels[i]}` : `example ${i}`} />
          ))}
        </div>
      ) : null}
      {ranking === null && error === null ? <p class="muted">Ranking the dimensions by their KL on the test examples…</p> : null}
      <div class="dims">
        <div class="sliders">
          {z !== null ? top.map((d) => {
            const v = z[d.dim] ?? 0;
            const lo = Math.min(-3, Math.floor(v - 1));
            const hi = Math.max(3, Math.ceil(v + 1));
            return (
              <label key={d.dim} class={`field slider${d.inactive ? ' inactive' : ''}`}>
                <span>z<sub>{d.dim}</sub> = {v.toFixed(2)} <small class="muted">KL {d.kl.toFixed(2)} nats{d.inactive ? ' · inactive' : ''}</small></span>
                <input type="range" min={lo} max={hi} step="0.01" value={v} data-testid={`dim-${d.dim}`}
                  onInput={(e) => { const next = z.slice(); next[d.dim] = Number((e.currentTarget as HTMLInputElement).value); setZ(next); }} />
              </label>
            );
          }) : null}
        </div>
        {shape !== null && z !== null ? (
          <div>
            <ImageView values={decoded} shape={shape} size={150} label="Decoded" testid="dims-decoded" />
            <button type="button" onClick={() => setResets((n) => n + 1)}>Reset</button>
          </div>
        ) : null}
      </div>
      <p class="muted small">The example's posterior mean, moved along the {top.length} dimensions with the most KL to the prior (the ones the model uses).</p>
    </Card>
  );
}

function SamplesCard({ model }: { model: BrowserModel }) {
  const [seed, setSeed] = useState(0);
  const shape = model.image;
  const groups = useMemo(() => {
    if (!isConditional(model)) return [{ name: null as string | null, images: rows(model.vae.sample(16, seed).data, 16) }];
    return Array.from({ length: Math.min(model.vae.classes, 10) }, (_, c) => ({
      name: className(model, c), images: rows(model.vae.sample(8, seed + 1000 * c, c).data, 8),
    }));
  }, [model, seed]);
  if (shape === null) return null;
  return (
    <Card title="Prior samples" actions={<button type="button" onClick={() => setSeed((s) => s + 1)}>Draw again</button>}>
      <div class="samples" data-testid="samples">
        {groups.map((g, i) => (
          <div key={i} class={`sample-row${g.name !== null ? ' labelled' : ''}`}>
            {g.name !== null ? <span class="row-label">{g.name}</span> : null}
            {g.images.map((values, j) => <ImageView key={j} values={values} shape={shape} size={52} />)}
          </div>
        ))}
      </div>
      <p class="muted small">z drawn from the model's prior{isConditional(model) ? ', one row per class' : ''}, decoded in the page (seed {seed}).</p>
    </Card>
  );
}

export function LatentPage() {
  const { route, run } = usePickedRun();
  const [error, setError] = useState<string | null>(null);
  // A text or series run's model is not loaded here: the page says where it is explored instead.
  const elsewhere = run !== null && ownPage(run) !== null;
  const model = useRunModel(elsewhere ? null : run, setError);
  const [method, setMethod] = useState<Method>('pca');


  return (
    <div class="page latent">
      <div class="toolbar">
        <RunPicker value={route.run} preferred={(r) => ownPage(r) === null} />
        {model !== null ? <span class="muted">latent size {model.vae.latent}{isConditional(model) ? `, conditional on ${model.vae.classes} classes` : ''}</span> : null}
      </div>
      <ErrorLine error={error} />
      {run !== null && elsewhere ? <OwnPageNote run={run} /> : null}
      {run !== null && !elsewhere && model === null && error === null ? <p class="muted">Loading the model of {run.id}…</p> : null}
      {model !== null && run !== null ? (
        <>
          <LatentMapCard model={model} runId={run.id} method={method} setMethod={setMethod} />
          <div class="columns">
            <DimensionsCard model={model} runId={run.id} />
            <SamplesCard model={model} />
          </div>
        </>
      ) : null}
    </div>
  );
}

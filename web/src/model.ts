// A run's model in the page: its two bundle files fetched once and decoded on the js backend, so
// denoising, decoding, interpolating and sampling run in the browser without a server round trip.
import { decodeBundle, JsBackend, RUN_FILES, Tensor, type Bundle } from '../../src/browser.js';
import { useEffect, useState } from 'preact/hooks';
import { api, messageOf, type ImageShape, type RunSummary } from './api.js';

export interface BrowserModel {
  runId: string;
  vae: Bundle['vae'];
  data: Bundle['data'];
  /** [H, W, C] for an image model, null for a table model. */
  image: ImageShape | null;
  /** Values of one example. */
  size: number;
  /** Class names of a conditional model's labels (or of the data), or null. */
  classNames: string[] | null;
}

const cache = new Map<string, Promise<BrowserModel>>();

/** The key changes when a run trains further, so a resumed run's new weights are fetched again. */
function cacheKey(run: Pick<RunSummary, 'id' | 'epochsDone' | 'status'>): string {
  return `${run.id}\u0000${run.epochsDone}\u0000${run.status}`;
}

async function fetchModel(id: string): Promise<BrowserModel> {
  const [configBytes, weights] = await Promise.all([api.fileBytes(id, RUN_FILES.config), api.fileBytes(id, RUN_FILES.weights)]);
  const configText = new TextDecoder().decode(configBytes);
  const bundle = decodeBundle(configText, weights, { config: `${id}/${RUN_FILES.config}`, weights: `${id}/${RUN_FILES.weights}` }, { backend: new JsBackend() });
  const shape = bundle.data.shape;
  const image: ImageShape | null = shape.length === 3 ? [shape[0]!, shape[1]!, shape[2]!] : shape.length === 2 ? [shape[0]!, shape[1]!, 1] : null;
  return {
    runId: id,
    vae: bundle.vae,
    data: bundle.data,
    image,
    size: shape.reduce((a, b) => a * b, 1),
    classNames: bundle.data.classNames,
  };
}

/** The run's model, fetched and decoded once per trained state. */
export function loadModel(run: Pick<RunSummary, 'id' | 'epochsDone' | 'status'>): Promise<BrowserModel> {
  const key = cacheKey(run);
  let model = cache.get(key);
  if (model === undefined) {
    model = fetchModel(run.id);
    model.catch(() => cache.delete(key));
    cache.set(key, model);
  }
  return model;
}

/** One example's tensor as the model takes it: [1, H, W(, C)] or [1, features]. */
export function exampleTensor(model: BrowserModel, values: Float32Array, rows = 1): Tensor {
  if (model.image === null) return new Tensor(values, [rows, model.size]);
  const [h, w, c] = model.image;
  return new Tensor(values, c === 1 ? [rows, h, w] : [rows, h, w, c]);
}

/** Whether the model needs a class label with every input (a conditional VAE). */
export const isConditional = (model: BrowserModel): boolean => model.vae.classes > 0;

/** The name of class `i` of the model. */
export function className(model: BrowserModel, i: number): string {
  return model.classNames?.[i] ?? String(i);
}

/** The model of the picked run, loaded again when the run changes or trains on (null while loading or without a run). */
export function useRunModel(run: RunSummary | null, setError: (message: string | null) => void): BrowserModel | null {
  const [model, setModel] = useState<BrowserModel | null>(null);
  useEffect(() => {
    setModel(null);
    if (run === null) return undefined;
    let cancelled = false;
    loadModel(run)
      .then((m) => { if (!cancelled) { setModel(m); setError(null); } })
      .catch((err: unknown) => { if (!cancelled) setError(`Could not load the model of ${run.id}: ${messageOf(err)}`); });
    return () => { cancelled = true; };
  }, [run?.id, run?.epochsDone, run?.status]);
  return model;
}

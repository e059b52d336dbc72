// Denoise: draw (or drop an image, or load a test example), corrupt it with the noise picked, and
// denoise it with the run's model running in the page on the js backend: no server round trip per
// stroke. Three images side by side: the clean input, the noisy one and the denoised one.
import { useEffect, useRef, useState } from 'preact/hooks';
import { applyNoise, parseNoise } from '../../../src/browser.js';
import { api, messageOf, type Examples } from '../api.js';
import { areaResize, canvasValues, ImageView } from '../images.js';
import { className, exampleTensor, isConditional, useRunModel, type BrowserModel } from '../model.js';
import { ownPage, usePickedRun } from '../store.js';
import { Card, ErrorLine, NoiseControl, noiseText, RunPicker, OwnPageNote, type NoiseKind } from '../widgets.js';

const PAD = 280;

interface Result {
  clean: Float32Array;
  noisy: Float32Array;
  denoised: Float32Array;
  psnrNoisy: number;
  psnrDenoised: number;
}

function psnr(a: Float32Array, b: Float32Array): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i]! - b[i]!) ** 2;
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
}

/** Runs the model on the drawing: clean (area-averaged to the model's size) -> noisy -> denoised. */
function denoiseDrawing(model: BrowserModel, pad: HTMLCanvasElement, noise: string, seed: number, label: number): Result {
  const [h, w, c] = model.image!;
  const clean = areaResize(canvasValues(pad, c), pad.width, pad.height, c, w, h);
  const noisy = new Float32Array(clean.length);
  applyNoise(parseNoise(noise), clean, noisy, 1, clean.length, [0], seed, 0, model.vae.backend, 'unit');
  const labels = isConditional(model) ? [label] : null;
  const denoised = model.vae.denoise(exampleTensor(model, noisy), labels).data;
  return { clean, noisy, denoised, psnrNoisy: psnr(noisy, clean), psnrDenoised: psnr(denoised, clean) };
}

/** Draws an example (values [H, W, C]) onto the pad, each pixel a square block. */
function drawExample(pad: HTMLCanvasElement, values: ArrayLike<number>, shape: readonly number[]): void {
  const [h, w] = [shape[0]!, shape[1]!];
  const c = shape[2] ?? 1;
  const small = document.createElement('canvas');
  small.width = w;
  small.height = h;
  const sc = small.getContext('2d')!;
  const image = sc.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) image.data[i * 4 + k] = Math.round(255 * Math.min(1, Math.max(0, values[i * c + Math.min(k, c - 1)]!)));
    image.data[i * 4 + 3] = 255;
  }
  sc.putImageData(image, 0, 0);
  const context = pad.getContext('2d')!;
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, pad.width, pad.height);
}

function clearPad(pad: HTMLCanvasElement): void {
  const context = pad.getContext('2d')!;
  context.fillStyle = '#000';
  context.fillRect(0, 0, pad.width, pad.height);
}

export function DenoisePage() {
  const { route, run } = usePickedRun();
  const [error, setError] = useState<string | null>(null);
  // A text or series run's model is not loaded here: the page says where it is explored instead.
  const elsewhere = run !== null && ownPage(run) !== null;
  const model = useRunModel(elsewhere ? null : run, setError);
  const [noiseKind, setNoiseKind] = useState<NoiseKind>('gaussian');
  const [amount, setAmount] = useState(0.3);
  const [seed, setSeed] = useState(1);
  const [label, setLabel] = useState(0);
  const [brush, setBrush] = useState(0.09);
  const [result, setResult] = useState<Result | null>(null);
  const [examples, setExamples] = useState<Examples | null>(null);
  const [exampleIndex, setExampleIndex] = useState(0);
  const pad = useRef<HTMLCanvasElement>(null);
  const last = useRef<{ x: number; y: number } | null>(null);
  const frame = useRef(0);
  const noise = noiseText(noiseKind, amount);

  useEffect(() => {
    setResult(null);
    setExamples(null);
  }, [run?.id, run?.epochsDone, run?.status]);

  const update = (): void => {
    if (model === null || model.image === null || pad.current === null) return;
    try {
      setResult(denoiseDrawing(model, pad.current, noise, seed, label));
      setError(null);
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const schedule = (): void => {
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(update);
  };
  useEffect(() => {
    if (pad.current !== null && pad.current.dataset['ready'] !== '1') {
      clearPad(pad.current);
      pad.current.dataset['ready'] = '1';
    }
    update();
  }, [model, noise, seed, label]);

  const point = (e: PointerEvent): { x: number; y: number } => {
    const rect = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    return { x: ((e.clientX - rect.left) * PAD) / rect.width, y: ((e.clientY - rect.top) * PAD) / rect.height };
  };
  const stroke = (from: { x: number; y: number }, to: { x: number; y: number }): void => {
    const context = pad.current?.getContext('2d');
    if (context === undefined || context === null) return;
    context.strokeStyle = '#fff';
    context.fillStyle = '#fff';
    context.lineCap = 'round';
    context.lineJoin = 'round';
    context.lineWidth = brush * PAD;
    context.beginPath();
    context.moveTo(from.x, from.y);
    context.lineTo(to.x, to.y);
    context.stroke();
    schedule();
  };
  const onDown = (e: PointerEvent): void => {
    (e.currentTarget as HTMLCanvasElement).setPointerCapture(e.pointerId);
    const p = point(e);
    last.current = p;
    stroke(p, p);
  };
  const onMove = (e: PointerEvent): void => {
    if (last.current === null) return;
    const p = point(e);
    stroke(last.current, p);
    last.current = p;
  };
  const onUp = (): void => { last.current = null; };

  const clear = (): void => {
    if (pad.current === null) return;
    clearPad(pad.current);
    update();
  };
  const invert = (): void => {
    const canvas = pad.current;
    if (canvas === null) return;
    const context = canvas.getContext('2d')!;
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < image.data.length; i += 4) for (let k = 0; k < 3; k++) image.data[i + k] = 255 - image.data[i + k]!;
    context.putImageData(image, 0, 0);
    update();
  };
  const loadExample = async (): Promise<void> => {
    if (run === null || pad.current === null) return;
    try {
      const set = examples ?? await api.examples(run.id, { start: 0, count: 16 });
      setExamples(set);
      if (set.images.length === 0) { setError('The run\'s test split has no examples.'); return; }
      const i = exampleIndex % set.images.length;
      drawExample(pad.current, set.images[i]!, set.shape);
      if (set.labels !== null && model !== null && isConditional(model)) setLabel(set.labels[i]!);
      setExampleIndex(i + 1);
      update();
    } catch (err) {
      setError(messageOf(err));
    }
  };
  const dropImage = async (file: File): Promise<void> => {
    const canvas = pad.current;
    if (canvas === null) return;
    try {
      const bitmap = await createImageBitmap(file);
      clearPad(canvas);
      const scale = Math.min(canvas.width / bitmap.width, canvas.height / bitmap.height);
      const w = bitmap.width * scale;
      const h = bitmap.height * scale;
      const context = canvas.getContext('2d')!;
      context.imageSmoothingEnabled = true;
      context.drawImage(bitmap, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
      update();
    } catch {
      setError(`${file.name} is not an image this browser can open.`);
    }
  };

  const shape = model?.image ?? null;
  return (
    <div class="page denoise">
      <Card title="Denoise in the browser" wide>
        <div class="toolbar">
          <RunPicker value={route.run} preferred={(r) => ownPage(r) === null} />
          {model !== null && isConditional(model) ? (
            <label class="field inline"><span>Class</span>
              <select value={label} onChange={(e) => setLabel(Number((e.currentTarget as HTMLSelectElement).value))}>
                {Array.from({ length: model.vae.classes }, (_, i) => <option key={i} value={i}>{className(model, i)}</option>)}
              </select>
            </label>
          ) : null}
        </div>
        <ErrorLine error={error} />
        {run !== null && elsewhere ? <OwnPageNote run={run} /> : null}
        {run !== null && !elsewhere && model === null && error === null ? <p class="muted">Loading the model of {run.id}…</p> : null}
        {model !== null && shape === null ? <p class="muted">This run's examples are table rows, not images: denoise them with <code>vaekit denoise</code>.</p> : null}
        <div class={`denoise-body${shape === null ? ' hidden' : ''}`}>
          <div class="pad-column">
            <canvas ref={pad} width={PAD} height={PAD} class="pad" data-testid="draw-pad"
              onPointerDown={onDown} onPointerMove={onMove} onPointerUp={onUp} onPointerCancel={onUp}
              onDragOver={(e) => e.preventDefault()}
              onDrop={(e) => { e.preventDefault(); const f = e.dataTransfer?.files[0]; if (f !== undefined) void dropImage(f); }} />
            <p class="muted small">Draw with the mouse (white on black), or drop an image here.</p>
            <div class="buttons">
              <button type="button" onClick={clear} data-testid="clear">Clear</button>
              <button type="button" onClick={() => void loadExample()} data-testid="load-example">Example</button>
              <button type="button" onClick={invert}>Invert</button>
              <label class="file-button">Image…<input type="file" accept="image/*" onChange={(e) => { const f = (e.currentTarget as HTMLInputElement).files?.[0]; if (f !== undefined) void dropImage(f); }} /></label>
            </div>
            <label class="field slider"><span>Brush {Math.round(brush * PAD)} px</span>
              <input type="range" min="0.03" max="0.2" step="0.005" value={brush} onInput={(e) => setBrush(Number((e.currentTarget as HTMLInputElement).value))} />
            </label>
          </div>
          {shape !== null ? (
            <div class="result-column">
              <div class="triptych">
                <ImageView values={result?.clean ?? null} shape={shape} size={216} label={`Clean input (${shape[0]}×${shape[1]})`} testid="clean" />
                <ImageView values={result?.noisy ?? null} shape={shape} size={216} label={`Noisy: ${noise}${result !== null ? ` · PSNR ${result.psnrNoisy.toFixed(1)} dB` : ''}`} testid="noisy" />
                <ImageView values={result?.denoised ?? null} shape={shape} size={216} label={`Denoised${result !== null ? ` · PSNR ${result.psnrDenoised.toFixed(1)} dB` : ''}`} testid="denoised" />
              </div>
              <div class="noise-row">
                <NoiseControl kind={noiseKind} amount={amount} onChange={(k, a) => { setNoiseKind(k); setAmount(a); }} testid="noise" />
                <button type="button" onClick={() => setSeed((s) => s + 1)} disabled={noiseKind === 'none'}>New noise draw</button>
              </div>
              {model !== null ? (
                <p class="muted small">The model of {model.runId} runs in this page on vaekit's js backend: the drawing is averaged down to {shape[0]}×{shape[1]}, corrupted with the noise above, encoded to its posterior mean and decoded, on every stroke. PSNR against the clean input.</p>
              ) : null}
            </div>
          ) : null}
        </div>
      </Card>
    </div>
  );
}

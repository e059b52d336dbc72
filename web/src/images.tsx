// Images in the page: values in [0, 1], channels-last [H, W, C], drawn at their own size on a
// <canvas> and scaled up by CSS without smoothing; and the area-averaging resize that turns a
// drawing into the model's input.
import { useEffect, useRef } from 'preact/hooks';
import type { ImageShape } from './api.js';

/** Draws `values` ([H, W, C] flattened, in [0, 1]) into the canvas at H x W pixels. */
export function paintImage(canvas: HTMLCanvasElement, values: ArrayLike<number>, shape: ImageShape): void {
  const [h, w, c] = shape;
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  const context = canvas.getContext('2d');
  if (context === null) return;
  const image = context.createImageData(w, h);
  const px = image.data;
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) {
      const v = values[i * c + (c === 1 ? 0 : Math.min(k, c - 1))] ?? 0;
      px[i * 4 + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
    px[i * 4 + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

export interface ImageViewProps {
  values: ArrayLike<number> | null;
  shape: ImageShape;
  /** CSS width in pixels (the height follows the image's aspect). */
  size: number;
  testid?: string;
  label?: string;
  title?: string;
  onClick?: () => void;
  selected?: boolean;
}

/** One image on a canvas of its own size, shown `size` pixels wide; empty (dark) while values is null. */
export function ImageView({ values, shape, size, testid, label, title, onClick, selected }: ImageViewProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (canvas === null) return;
    paintImage(canvas, values ?? new Float32Array(shape[0] * shape[1] * shape[2]), shape);
  }, [values, shape[0], shape[1], shape[2]]);
  const canvas = (
    <canvas
      ref={ref}
      class={`pixels${selected === true ? ' selected' : ''}${onClick !== undefined ? ' clickable' : ''}`}
      style={{ width: `${size}px`, height: `${Math.round((size * shape[0]) / shape[1])}px` }}
      data-testid={testid}
      title={title}
      onClick={onClick}
    />
  );
  if (label === undefined) return canvas;
  return (
    <figure class="image">
      {canvas}
      <figcaption>{label}</figcaption>
    </figure>
  );
}

/**
 * Area-averaging resize of `src` (sw x sh, c channels, channels-last) to dw x dh: each output pixel
 * is the mean of the source area it covers, partly covered source pixels weighted by the part.
 */
export function areaResize(src: ArrayLike<number>, sw: number, sh: number, c: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh * c);
  const fx = sw / dw;
  const fy = sh / dh;
  for (let oy = 0; oy < dh; oy++) {
    const y0 = oy * fy;
    const y1 = y0 + fy;
    for (let ox = 0; ox < dw; ox++) {
      const x0 = ox * fx;
      const x1 = x0 + fx;
      const sum = new Float64Array(c);
      let area = 0;
      for (let sy = Math.floor(y0); sy < Math.min(sh, Math.ceil(y1)); sy++) {
        const wy = Math.min(y1, sy + 1) - Math.max(y0, sy);
        if (wy <= 0) continue;
        for (let sx = Math.floor(x0); sx < Math.min(sw, Math.ceil(x1)); sx++) {
          const wx = Math.min(x1, sx + 1) - Math.max(x0, sx);
          if (wx <= 0) continue;
          const weight = wx * wy;
          area += weight;
          const at = (sy * sw + sx) * c;
          for (let k = 0; k < c; k++) sum[k]! += weight * src[at + k]!;
        }
      }
      const o = (oy * dw + ox) * c;
      for (let k = 0; k < c; k++) out[o + k] = area > 0 ? sum[k]! / area : 0;
    }
  }
  return out;
}

/** A canvas's pixels as values in [0, 1] with `channels` channels (1: the mean of red, green and blue). */
export function canvasValues(canvas: HTMLCanvasElement, channels: number): Float32Array {
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (context === null) return new Float32Array(canvas.width * canvas.height * channels);
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  const n = canvas.width * canvas.height;
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    const r = data[i * 4]!;
    const g = data[i * 4 + 1]!;
    const b = data[i * 4 + 2]!;
    if (channels === 1) out[i] = (r + g + b) / (3 * 255);
    else for (let k = 0; k < channels; k++) out[i * channels + k] = [r, g, b][Math.min(k, 2)]! / 255;
  }
  return out;
}

/** A model's input shape [H, W, C] from a shape the server sent ([H, W, C], [H, W] or [features]). */
export function imageShapeOf(shape: readonly number[]): ImageShape | null {
  if (shape.length === 3) return [shape[0]!, shape[1]!, shape[2]!];
  if (shape.length === 2) return [shape[0]!, shape[1]!, 1];
  return null;
}

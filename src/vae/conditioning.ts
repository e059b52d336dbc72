/**
 * A conditional VAE's labels: each row's class enters as a one-hot vector appended to the encoder's
 * input (as constant planes, one per class, for a conv encoder) and to the decoder's input z. An
 * unconditional model (classes = 0) passes its inputs through unchanged and ignores labels.
 */
import { VaekitError } from '../errors.js';
import { imageSides, inputSize, type VaeConfig } from './config.js';

/** Labels of a batch's rows (class indices), or null for an unconditional model. */
export type Labels = ArrayLike<number> | null;

/** Row r's label, checked: an integer in [0, classes). */
export function labelOf(labels: Labels, r: number, classes: number): number {
  if (labels === null) throw new VaekitError(`This is a conditional model: give a label (0 to ${classes - 1}) with every image.`);
  const y = labels[r]!;
  if (!Number.isInteger(y) || y < 0 || y >= classes) {
    throw new VaekitError(`Label ${y} is out of range: this model's labels are 0 to ${classes - 1}.`);
  }
  return y;
}

/** out [rows, cols + classes] = each row of x [rows, cols] with its label's one-hot appended. */
function appendOneHot(x: Float32Array, rows: number, cols: number, labels: Labels, classes: number, out: Float32Array): Float32Array {
  const width = cols + classes;
  for (let r = 0; r < rows; r++) {
    out.set(x.subarray(r * cols, (r + 1) * cols), r * width);
    out.fill(0, r * width + cols, (r + 1) * width);
    out[r * width + cols + labelOf(labels, r, classes)] = 1;
  }
  return out;
}

/** out [rows, positions, channels + classes] = x [rows, positions, channels] with the label's one-hot appended at every position. */
function appendOneHotPlanes(x: Float32Array, rows: number, positions: number, channels: number, labels: Labels, classes: number,
  out: Float32Array): Float32Array {
  const width = channels + classes;
  out.fill(0, 0, rows * positions * width);
  for (let r = 0; r < rows; r++) {
    const label = labelOf(labels, r, classes);
    for (let p = 0; p < positions; p++) {
      const o = (r * positions + p) * width;
      for (let c = 0; c < channels; c++) out[o + c] = x[(r * positions + p) * channels + c]!;
      out[o + channels + label] = 1;
    }
  }
  return out;
}

/** The encoder's input: examples x [rows, D], with the labels' one-hot appended (as channel planes for conv and conv1d) into out. */
export function encoderInput(config: VaeConfig, x: Float32Array, rows: number, labels: Labels, out: Float32Array): Float32Array {
  const classes = config.classes;
  if (classes === 0) return x;
  if (config.architecture === 'dense') return appendOneHot(x, rows, inputSize(config), labels, classes, out);
  if (config.architecture === 'conv1d' || config.architecture === 'recurrent') {
    const { length, channels } = config.sequence!;
    return appendOneHotPlanes(x, rows, length, channels, labels, classes, out);
  }
  const { height, width, channels } = imageSides(config)!;
  return appendOneHotPlanes(x, rows, height * width, channels, labels, classes, out);
}

/** The decoder's input: z [rows, L], with the labels' one-hot appended into out [rows, L + classes]. */
export function decoderInput(z: Float32Array, rows: number, L: number, labels: Labels, classes: number, out: Float32Array): Float32Array {
  return classes === 0 ? z : appendOneHot(z, rows, L, labels, classes, out);
}

/** dL/dz [rows, L] from the decoder's input gradient [rows, L + classes]: the label columns dropped (into out). */
export function decoderInputGradToLatent(dInput: Float32Array, rows: number, L: number, classes: number, out: Float32Array): Float32Array {
  if (classes === 0) return dInput;
  const width = L + classes;
  for (let r = 0; r < rows; r++) out.set(dInput.subarray(r * width, r * width + L), r * L);
  return out;
}

/** Labels start..start+rows-1 (a copy), or null. */
export function sliceLabels(labels: Labels, start: number, rows: number): Labels {
  if (labels === null) return null;
  return Array.prototype.slice.call(labels, start, start + rows) as number[];
}

/** Each row's label k times in a row (for k samples per image), or null. */
export function repeatLabels(labels: Labels, rows: number, k: number): Labels {
  if (labels === null || k === 1) return labels;
  const out = new Uint8Array(rows * k);
  for (let r = 0; r < rows; r++) out.fill(labels[r]!, r * k, (r + 1) * k);
  return out;
}

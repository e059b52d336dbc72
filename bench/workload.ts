// The matrix products of a dense VAE training step, shared by the benchmark's "limit" (only these
// products, through the engine's sgemm) and its GFLOP/s figures.
import type { Backend } from '../src/engine/backend.js';
import type { Vae } from '../src/vae/model.js';

export interface LayerShape {
  inputs: number;
  outputs: number;
}

export function layerShapes(vae: Vae): LayerShape[] {
  return [...vae.encoder.layers, ...vae.decoder.layers].map((l) => ({ inputs: l.inputSize, outputs: l.outputSize }));
}

/**
 * FLOPs (2 per multiply-add) of the matrix products of one training step on `rows` images: the
 * forward product of every layer, its weight gradient, and its input gradient except for the
 * first layer (the encoder's input needs no gradient).
 */
export function stepFlops(layers: readonly LayerShape[], rows: number): number {
  let flops = 0;
  layers.forEach((l, i) => {
    const product = 2 * rows * l.inputs * l.outputs;
    flops += product * (i === 0 ? 2 : 3);
  });
  return flops;
}

/** FLOPs of one epoch over `count` images in batches of `batch` (the last one partial). */
export function epochFlops(layers: readonly LayerShape[], count: number, batch: number): number {
  const full = Math.floor(count / batch);
  const rest = count - full * batch;
  return full * stepFlops(layers, batch) + (rest > 0 ? stepFlops(layers, rest) : 0);
}

/** Buffers for runProducts, sized for `batch` rows. */
export interface ProductBuffers {
  activations: Float32Array[];
  gradients: Float32Array[];
  weights: Float32Array[];
  weightGrads: Float32Array[];
}

export function productBuffers(layers: readonly LayerShape[], batch: number): ProductBuffers {
  const fill = (n: number): Float32Array => new Float32Array(n).fill(0.01);
  return {
    activations: [fill(batch * layers[0]!.inputs), ...layers.map((l) => fill(batch * l.outputs))],
    gradients: [fill(batch * layers[0]!.inputs), ...layers.map((l) => fill(batch * l.outputs))],
    weights: layers.map((l) => fill(l.inputs * l.outputs)),
    weightGrads: layers.map((l) => fill(l.inputs * l.outputs)),
  };
}

/** Exactly the sgemm calls a training step on `rows` rows makes, and nothing else. */
export function runProducts(backend: Backend, layers: readonly LayerShape[], b: ProductBuffers, rows: number): void {
  layers.forEach((l, i) => {
    backend.gemm(false, false, rows, l.outputs, l.inputs, 1, b.activations[i]!, b.weights[i]!, 0, b.activations[i + 1]!);
  });
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]!;
    backend.gemm(true, false, l.inputs, l.outputs, rows, 1, b.activations[i]!, b.gradients[i + 1]!, 0, b.weightGrads[i]!);
    if (i > 0) backend.gemm(false, true, rows, l.inputs, l.outputs, 1, b.gradients[i + 1]!, b.weights[i]!, 0, b.gradients[i]!);
  }
}

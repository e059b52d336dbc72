/**
 * A 1-D layer over channels-last sequences [length, channels] that is a 2-D layer over images
 * [1, length, channels] (a 1 x k window): forward, backward, initialization and buffers are the
 * 2-D layer's, on the same memory. Only the shapes drop the height of 1: the output [length,
 * channels], and the kernel [1, k, ...] stored as [k, ...] (the same values in the same order).
 */
import type { ParameterSpec } from './parameters.js';
import { WrappedLayer } from './wrapped-layer.js';

export abstract class SequenceAsImage extends WrappedLayer {
  /** [length, channels]: the image's [1, length, channels]. */
  override get outputShape(): readonly number[] {
    return this.inner.outputShape.slice(1);
  }

  /** The image's parameters, the kernel's leading height of 1 dropped. */
  override parameterSpecs(): ParameterSpec[] {
    return this.inner.parameterSpecs().map((s) => (s.name === `${this.name}.kernel` ? { ...s, shape: s.shape.slice(1) } : s));
  }
}

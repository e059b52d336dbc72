/**
 * A 1-D convolution y = act(conv(x, W) + b) over channels-last sequences [length, channels]: the
 * 2-D convolution (conv2d.ts) over [1, length, channels] with a 1 x k window, stride 1 x s and
 * padding 0 x p. Its kernel is stored [k, inC, outC] (Keras' Conv1D layout), the memory of the 2-D
 * kernel [1, k, inC, outC].
 */
import type { Activation } from '../engine/backend.js';
import { checkIntegers, Conv2d, convOutputLength } from './conv2d.js';
import { SequenceAsImage } from './sequence-as-image.js';

export interface Conv1dSpec {
  name: string;
  inLength: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** Zeros added at both ends of the sequence. */
  padding: number;
  activation: Activation;
}

export class Conv1d extends SequenceAsImage {
  readonly kind = 'Conv1d';
  readonly inLength: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly outLength: number;

  constructor(spec: Conv1dSpec) {
    checkIntegers(spec.name, {
      inLength: spec.inLength, inChannels: spec.inChannels, outChannels: spec.outChannels,
      kernel: spec.kernel, stride: spec.stride,
    }, 1);
    checkIntegers(spec.name, { padding: spec.padding }, 0);
    const outLength = convOutputLength(spec.inLength, spec.kernel, spec.stride, spec.padding);
    if (outLength < 1) {
      throw new Error(`${spec.name}: a kernel of ${spec.kernel} with padding ${spec.padding} does not fit a sequence of length ${spec.inLength}.`);
    }
    super(new Conv2d({
      name: spec.name, inHeight: 1, inWidth: spec.inLength, inChannels: spec.inChannels, outChannels: spec.outChannels,
      kernel: [1, spec.kernel], stride: [1, spec.stride], padding: [0, spec.padding], activation: spec.activation,
    }));
    this.inLength = spec.inLength;
    this.inChannels = spec.inChannels;
    this.outChannels = spec.outChannels;
    this.kernelSize = spec.kernel;
    this.stride = spec.stride;
    this.padding = spec.padding;
    this.outLength = outLength;
  }
}

/**
 * A 1-D transposed convolution y = act(convT(x, W) + b) over channels-last sequences [length,
 * channels]: the gradient of a Conv1d with respect to its input, used to upsample in decoders, and
 * the 2-D one (conv-transpose2d.ts) over [1, length, channels] with a 1 x k window, stride 1 x s,
 * padding 0 x p and output padding 0 x op. Its kernel is stored [k, outC, inC] (Keras'
 * Conv1DTranspose layout), the memory of the 2-D kernel [1, k, outC, inC]. Output length
 * (PyTorch's formula): outLength = (inLength - 1) * stride - 2 * padding + kernel + outputPadding.
 */
import type { Activation } from '../engine/backend.js';
import { checkIntegers } from './conv2d.js';
import { ConvTranspose2d, convTransposeOutputLength, transposeFits } from './conv-transpose2d.js';
import { SequenceAsImage } from './sequence-as-image.js';

export interface ConvTranspose1dSpec {
  name: string;
  inLength: number;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  /** Extra positions at the end of the output (less than stride); default 0. */
  outputPadding?: number;
  activation: Activation;
}

export class ConvTranspose1d extends SequenceAsImage {
  readonly kind = 'ConvTranspose1d';
  readonly inLength: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly outputPadding: number;
  readonly outLength: number;

  constructor(spec: ConvTranspose1dSpec) {
    const outputPadding = spec.outputPadding ?? 0;
    checkIntegers(spec.name, {
      inLength: spec.inLength, inChannels: spec.inChannels, outChannels: spec.outChannels,
      kernel: spec.kernel, stride: spec.stride,
    }, 1);
    checkIntegers(spec.name, { padding: spec.padding, outputPadding }, 0);
    const outLength = convTransposeOutputLength(spec.inLength, spec.kernel, spec.stride, spec.padding, outputPadding);
    if (!transposeFits(spec.inLength, outLength, spec.kernel, spec.stride, spec.padding)) {
      throw new Error(`${spec.name}: kernel ${spec.kernel}, stride ${spec.stride}, padding ${spec.padding} and output padding ${outputPadding} ` +
        `do not map an input of length ${spec.inLength} onto a whole output sequence (output padding must be less than the stride).`);
    }
    super(new ConvTranspose2d({
      name: spec.name, inHeight: 1, inWidth: spec.inLength, inChannels: spec.inChannels, outChannels: spec.outChannels,
      kernel: [1, spec.kernel], stride: [1, spec.stride], padding: [0, spec.padding], outputPadding: [0, outputPadding],
      activation: spec.activation,
    }));
    this.inLength = spec.inLength;
    this.inChannels = spec.inChannels;
    this.outChannels = spec.outChannels;
    this.kernelSize = spec.kernel;
    this.stride = spec.stride;
    this.padding = spec.padding;
    this.outputPadding = outputPadding;
    this.outLength = outLength;
  }
}

/**
 * Builds the encoder and decoder layer stacks of a VaeConfig (see VaeConfig.architecture).
 * A conditional model's label enters as a one-hot vector appended to the encoder's input (as extra
 * channels, one plane per class, for a conv encoder) and to the decoder's input z.
 */
import { Conv2d } from '../nn/conv2d.js';
import { ConvTranspose2d } from '../nn/conv-transpose2d.js';
import { Dense } from '../nn/dense.js';
import type { Layer } from '../nn/layer.js';
import { denseLayers } from '../nn/sequential.js';
import { imageSides, inputSize, type VaeConfig } from './config.js';

/** Values per row the encoder takes: the image, plus the label's one-hot (planes for conv). */
export function encoderInputSize(c: VaeConfig): number {
  if (c.architecture === 'dense') return inputSize(c) + c.classes;
  const { height, width, channels } = imageSides(c)!;
  return height * width * (channels + c.classes);
}

export function buildEncoder(c: VaeConfig): Layer[] {
  if (c.architecture === 'dense') {
    return denseLayers('encoder', [encoderInputSize(c), ...c.encoderHidden, 2 * c.latent], c.activation, 'linear');
  }
  const layers: Layer[] = [];
  const image = imageSides(c)!;
  let [h, w, ch] = [image.height, image.width, image.channels + c.classes];
  c.convChannels.forEach((out, i) => {
    layers.push(new Conv2d({
      name: `encoder.conv_${i}`, inHeight: h, inWidth: w, inChannels: ch, outChannels: out,
      kernel: 4, stride: 2, padding: 1, activation: c.activation,
    }));
    [h, w, ch] = [h / 2, w / 2, out];
  });
  layers.push(...denseLayers('encoder', [h * w * ch, ...c.encoderHidden, 2 * c.latent], c.activation, 'linear'));
  return layers;
}

export function buildDecoder(c: VaeConfig): Layer[] {
  const input = c.latent + c.classes;
  if (c.architecture === 'dense') {
    return denseLayers('decoder', [input, ...c.decoderHidden, inputSize(c)], c.activation, 'linear');
  }
  const image = imageSides(c)!;
  const n = c.convChannels.length;
  const factor = 2 ** n;
  let [h, w, ch] = [image.height / factor, image.width / factor, c.convChannels[n - 1]!];
  const layers: Layer[] = [
    ...denseLayers('decoder', [input, ...c.decoderHidden], c.activation, c.activation),
    new Dense({ name: `decoder.dense_${c.decoderHidden.length}`, inputs: c.decoderHidden.at(-1) ?? input, outputs: h * w * ch, activation: c.activation }),
  ];
  for (let i = n - 1; i >= 0; i--) {
    const out = i === 0 ? image.channels : c.convChannels[i - 1]!;
    layers.push(new ConvTranspose2d({
      name: `decoder.deconv_${n - 1 - i}`, inHeight: h, inWidth: w, inChannels: ch, outChannels: out,
      kernel: 4, stride: 2, padding: 1, activation: i === 0 ? 'linear' : c.activation,
    }));
    [h, w, ch] = [h * 2, w * 2, out];
  }
  return layers;
}

// The denoising VAE notebook, step by step, with the vaekit library.
// Run it with:  npx tsx examples/denoising-notebook.ts  [epochs, default 10]
//
// Each step names the notebook cell it follows: load and scale MNIST, add Gaussian noise (factor
// 0.2, clipped to [0,1]), show five originals above their noisy versions, build the encoder and
// decoder, print the summary, fit with Adam (batch 128) on noisy inputs against clean targets,
// then show original / noisy / denoised test images.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  Tensor, Vae, applyNoise, denoisedExamplesPng, epochLogger, evaluateDenoising, fit, imagePsnr, loadMnist,
  noisyExamplesPng, parseNoise, presetConfig, resolveObjective, saveModel, samplesPng, validator, writeFileAtomic,
} from '../src/index.js';

const epochs = Number(process.argv[2] ?? 10);
const out = join('runs', 'example');
mkdirSync(out, { recursive: true });

// 1. The data: 60,000 training and 10,000 test images, kept as bytes and scaled to [0,1] per batch.
const train = loadMnist('train');
const test = loadMnist('test');
console.log(`train: ${train.count} images of shape [${train.shape.join(', ')}]; test: ${test.count}`);

// 2. The noise model: x_noisy = clip(x + 0.2 * N(0, 1), 0, 1).
const noise = parseNoise('gaussian:0.2');

// 3. Figure 1: five test images above their noisy versions.
writeFileAtomic(join(out, 'noisy-examples.png'), noisyExamplesPng(test, noise, 0));

// 4. The model: encoder 784 -> 512 relu -> 2*40, sample z = mean + exp(0.5 logvar) eps,
//    decoder 40 -> 512 relu -> 784 sigmoid.
const vae = new Vae(presetConfig('seed'), { seed: 0 });
console.log(vae.summary());

// 5. Training: Adam (lr 1e-3), batch 128, noisy in, clean target; the objective is the ELBO
//    (Bernoulli likelihood, beta 1). Use { loss: 'notebook-mse' } to reproduce the notebook's loss.
//    The validation loss on the test set after each epoch, and a line per epoch, are callbacks.
const objective = resolveObjective({ loss: 'elbo', beta: 1 });
await fit(vae, train, {
  epochs,
  batchSize: 128,
  learningRate: 1e-3,
  objective,
  noise,
  validate: validator(test, objective, { noise, seed: 0 }),
  callbacks: [epochLogger((line) => console.log(line))],
});

// 6. Denoise one noisy test image by hand, to show the Tensor API.
const pixels = 28 * 28;
const clean = new Float32Array(pixels);
test.gather(null, 0, 1, clean);
const noisy = new Float32Array(pixels);
applyNoise(noise, clean, noisy, 1, pixels, [0], 123, 0);
const denoised = vae.denoise(new Tensor(noisy, [1, 28, 28]));
console.log(`first test image: PSNR noisy ${imagePsnr(noisy, clean, 0, pixels).toFixed(2)} dB, denoised ${imagePsnr(denoised.data, clean, 0, pixels).toFixed(2)} dB`);

// 7. Test metrics over all 10,000 images, figure 2, samples from the prior, and the saved model.
const m = evaluateDenoising(vae, test, { noise, seed: 0 });
console.log(`test PSNR noisy ${m.psnrNoisyDb!.toFixed(2)} dB -> denoised ${m.psnrDenoisedDb!.toFixed(2)} dB; negative ELBO ${m.negElboNats.toFixed(2)} nats`);
writeFileAtomic(join(out, 'denoised-examples.png'), denoisedExamplesPng(vae, test, noise, 0));
writeFileAtomic(join(out, 'samples.png'), samplesPng(vae, 64, 0));
saveModel(vae, join(out, 'model'));
console.log(`figures and model in ${out}`);

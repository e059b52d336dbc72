// Train a VAE on your own folder of images with the vaekit library.
// Run it with:  npx tsx examples/own-images.ts PATH/TO/FOLDER [HEIGHTxWIDTH] [epochs]
//
// The folder holds PNG or JPEG files, either directly (unlabelled) or in one subfolder per class
// (the class is the folder's name, as Keras' image_dataset_from_directory reads it). Images are
// resized to HEIGHTxWIDTH (default 32x32). With classes, the model is conditional and draws each
// class on request. Everything is written under runs/own-images/.
import { join } from 'node:path';
import {
  epochLogger, loadImageFolder, notebookFigures, parseImageSize, parseNoise, imagePlan, planRun, samplesPng, trainRun, writeFileAtomic,
} from '../src/index.js';

const folder = process.argv[2];
if (folder === undefined) {
  console.error('usage: npx tsx examples/own-images.ts PATH/TO/FOLDER [HEIGHTxWIDTH] [epochs]');
  process.exit(1);
}
const [height, width] = parseImageSize(process.argv[3] ?? '32x32');
const epochs = Number(process.argv[4] ?? 20);
const out = join('runs', 'own-images');

// 1. The data: decoded once into bytes, [height, width, channels] per image, labels from subfolders.
const images = await loadImageFolder(folder, { imageSize: [height, width] });
console.log(`${images.count} images of shape [${images.shape.join(', ')}]${images.labelNames === null ? '' : `, classes ${images.labelNames.join(', ')}`}`);

// 2. The model: the conv preset (two stride-2 convolutions), conditional when there are classes, a
//    Gaussian likelihood (sharper colour images than the Bernoulli one), trained to denoise
//    salt-and-pepper noise. 10% of the images are held out for validation.
const noise = parseNoise('salt-and-pepper:0.05');
const plan = imagePlan(await planRun({
  data: { source: folder, imageSize: [height, width], validation: { fraction: 0.1 } },
  model: { preset: 'conv', latent: 16, likelihood: 'gaussian', sigma: 0.1, conditional: images.labels !== null },
  training: { epochs },
  noise: { input: 'salt-and-pepper:0.05' },
}, { train: images }), 'this example');
console.log(plan.vae.summary());
const { vae, testSet, test } = await trainRun(plan, { folder: out, callbacks: [epochLogger((line) => console.log(line))] });
console.log(`validation: PSNR noisy ${test!.psnrNoisyDb!.toFixed(2)} dB -> denoised ${test!.psnrDenoisedDb!.toFixed(2)} dB`);

// 3. Figures: originals, noisy and denoised validation images, and samples from the prior (one row
//    per class for a conditional model).
for (const [name, png] of notebookFigures(vae, testSet, noise, 0)) writeFileAtomic(join(out, name), png);
writeFileAtomic(join(out, 'samples.png'), samplesPng(vae, 64, 0));
console.log(`model, metrics and figures in ${out}; try: npx vaekit sample --model ${out} --out samples.png`);

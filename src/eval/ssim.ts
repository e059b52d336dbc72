/**
 * Structural similarity (Wang, Bovik, Sheikh & Simoncelli 2004) of greyscale images in [0,1]:
 * local means, variances and covariance under an 11x11 Gaussian window (sigma 1.5), over every
 * position where the window fits inside the image, with C1 = (0.01)^2 and C2 = (0.03)^2; the
 * image's SSIM is the mean of the local SSIM map.
 */
const WINDOW = 11;
const SIGMA = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

/** The normalized 1-D Gaussian taps; the 2-D window is their outer product. */
export const GAUSSIAN_TAPS: Float64Array = (() => {
  const taps = new Float64Array(WINDOW);
  const half = (WINDOW - 1) / 2;
  let s = 0;
  for (let i = 0; i < WINDOW; i++) {
    taps[i] = Math.exp(-((i - half) ** 2) / (2 * SIGMA * SIGMA));
    s += taps[i]!;
  }
  for (let i = 0; i < WINDOW; i++) taps[i] = taps[i]! / s;
  return taps;
})();

/** Separable 'valid' Gaussian filtering of an h x w map into (h-10) x (w-10). */
function filterValid(x: Float64Array, h: number, w: number, out: Float64Array, tmp: Float64Array): void {
  const ow = w - WINDOW + 1;
  const oh = h - WINDOW + 1;
  for (let y = 0; y < h; y++) {
    for (let xo = 0; xo < ow; xo++) {
      let s = 0;
      for (let t = 0; t < WINDOW; t++) s += GAUSSIAN_TAPS[t]! * x[y * w + xo + t]!;
      tmp[y * ow + xo] = s;
    }
  }
  for (let yo = 0; yo < oh; yo++) {
    for (let xo = 0; xo < ow; xo++) {
      let s = 0;
      for (let t = 0; t < WINDOW; t++) s += GAUSSIAN_TAPS[t]! * tmp[(yo + t) * ow + xo]!;
      out[yo * ow + xo] = s;
    }
  }
}

/** SSIM of image a against reference b (each h*w values from `offset`). Images need sides >= 11. */
export function imageSsim(a: Float32Array, b: Float32Array, offset: number, h: number, w: number): number {
  if (h < WINDOW || w < WINDOW) throw new RangeError(`SSIM needs images of at least ${WINDOW}x${WINDOW}, not ${h}x${w}.`);
  const n = h * w;
  const maps = [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) {
    const x = a[offset + i]!;
    const y = b[offset + i]!;
    maps[0]![i] = x;
    maps[1]![i] = y;
    maps[2]![i] = x * x;
    maps[3]![i] = y * y;
    maps[4]![i] = x * y;
  }
  const oh = h - WINDOW + 1;
  const ow = w - WINDOW + 1;
  const tmp = new Float64Array(h * ow);
  const [mx, my, mxx, myy, mxy] = maps.map((m) => {
    const out = new Float64Array(oh * ow);
    filterValid(m, h, w, out, tmp);
    return out;
  }) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  let s = 0;
  for (let i = 0; i < oh * ow; i++) {
    const ux = mx[i]!;
    const uy = my[i]!;
    const vx = mxx[i]! - ux * ux;
    const vy = myy[i]! - uy * uy;
    const cxy = mxy[i]! - ux * uy;
    s += ((2 * ux * uy + C1) * (2 * cxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
  }
  return s / (oh * ow);
}

/** Sum over `rows` images of their SSIM against the reference images. */
export function sumSsim(a: Float32Array, b: Float32Array, rows: number, h: number, w: number): number {
  let s = 0;
  for (let r = 0; r < rows; r++) s += imageSsim(a, b, r * h * w, h, w);
  return s;
}

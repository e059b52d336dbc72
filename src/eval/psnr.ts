/** Peak signal-to-noise ratio of images in [0,1] (peak 1.0), per image. */

/** PSNRs are capped at this value so that a perfect image does not make a mean infinite. */
export const PSNR_CAP_DB = 100;

/** PSNR in dB of one image `a` against reference `b`, each `pixels` values starting at offset. */
export function imagePsnr(a: Float32Array, b: Float32Array, offset: number, pixels: number): number {
  let se = 0;
  for (let j = 0; j < pixels; j++) {
    const d = a[offset + j]! - b[offset + j]!;
    se += d * d;
  }
  const mse = se / pixels;
  return mse <= 0 ? PSNR_CAP_DB : Math.min(PSNR_CAP_DB, -10 * Math.log10(mse));
}

/** Sum over `rows` images of their PSNR against the reference images. */
export function sumPsnr(a: Float32Array, b: Float32Array, rows: number, pixels: number): number {
  let s = 0;
  for (let r = 0; r < rows; r++) s += imagePsnr(a, b, r * pixels, pixels);
  return s;
}

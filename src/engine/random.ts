/**
 * A seeded random generator: xoshiro128** (32-bit state words, fast in JavaScript) seeded through
 * splitmix32, with Box-Muller normals. One seed drives every random number in vaekit; `fork`
 * derives independent streams (weights, shuffling, noise, sampling) so that changing how many
 * numbers one stage draws does not shift another stage's numbers.
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A new generator whose stream depends on this one's seed state and `stream`, not on later draws. */
  fork(stream: number): Random {
    return new Random((Math.imul(this.s0 ^ this.s2, 0x2545f491) + Math.imul(stream + 1, 0x9e3779b9)) >>> 0);
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0; this.s2 >>>= 0; this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const u1 = (this.nextUint32() + 1) / 4294967297; // in (0, 1): log is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /** Fills out[0..n) with standard normals. */
  fillNormal(out: Float32Array, n = out.length): void {
    for (let i = 0; i < n; i++) out[i] = this.normal();
  }

  /** Fills out[0..n) with uniforms in [0, 1). */
  fillUniform(out: Float32Array, n = out.length): void {
    for (let i = 0; i < n; i++) out[i] = this.uniform();
  }

  /** Shuffles indices in place (Fisher-Yates). */
  shuffle(indices: Uint32Array): void {
    for (let i = indices.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = indices[i]!;
      indices[i] = indices[j]!;
      indices[j] = t;
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

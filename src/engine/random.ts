/**
 * A seeded random generator: xoshiro128** (32-bit state words, fast in JavaScript) seeded through
 * splitmix32, with ziggurat normals. One seed drives every random number in vaekit; `fork`
 * derives independent streams (weights, shuffling, noise, sampling) so that changing how many
 * numbers one stage draws does not shift another stage's numbers.
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix32(x);
    };
    this.s0 = next() | 0;
    this.s1 = next() | 0;
    this.s2 = next() | 0;
    this.s3 = next() | 0;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The whole state, four 32-bit words: what a checkpoint keeps to go on with the same numbers. */
  getState(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Puts back a state from getState (throws a RangeError for anything else). */
  setState(state: readonly number[]): void {
    if (state.length !== 4 || state.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff) || state.every((w) => w === 0)) {
      throw new RangeError(`A generator state is four 32-bit words, not all 0; got [${state.join(', ')}].`);
    }
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w | 0) as [number, number, number, number];
  }

  /** A new generator whose stream depends on this one's seed state and `stream`, not on later draws. */
  fork(stream: number): Random {
    return new Random((Math.imul(this.s0 ^ this.s2, 0x2545f491) + Math.imul(stream + 1, 0x9e3779b9)) >>> 0);
  }

  /** A uniform 32-bit unsigned integer. The state words are kept as signed int32 (V8's fast path). */
  nextUint32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const s2 = this.s2 ^ s0;
    const s3 = this.s3 ^ s1;
    this.s1 = s1 ^ s2;
    this.s0 = s0 ^ s3;
    this.s2 = s2 ^ t;
    this.s3 = rotl(s3, 11);
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

  /** A standard normal (ziggurat: one 32-bit draw for almost every value). */
  normal(): number {
    return zigguratNormal(this);
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
  return (x << k) | (x >>> (32 - k));
}

/** A 32-bit mixing function (murmur3's finalizer); a bijection on 32-bit words. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/*
 * Normals by Marsaglia and Tsang's ziggurat (128 layers), several times faster than Box-Muller's
 * log, sqrt and cos per value: noise is drawn for every pixel of every batch. Each draw takes one
 * 32-bit word: the low 7 bits pick the layer, the high 25 bits (signed) the position in it, so the
 * layer and the value use different bits. The few draws outside a layer's box fall back to the
 * exact density test, or for layer 0 to the exponential tail method.
 */
const ZIGGURAT_LAYERS = 128;
const ZIGGURAT_R = 3.442619855899; // where the base strip's tail begins
const ZIGGURAT_AREA = 9.91256303526217e-3; // the area of each layer
const POSITION_SCALE = 2 ** 24; // |signed 25-bit position| < 2^24
const zigguratLimit = new Float64Array(ZIGGURAT_LAYERS); // |position| below this: inside the box
const zigguratWidth = new Float64Array(ZIGGURAT_LAYERS); // position * width = x
const zigguratDensity = new Float64Array(ZIGGURAT_LAYERS); // exp(-x^2/2) at each layer's right edge

(function buildZiggurat(): void {
  let edge = ZIGGURAT_R;
  let previous = edge;
  const q = ZIGGURAT_AREA / Math.exp(-0.5 * edge * edge);
  zigguratLimit[0] = (edge / q) * POSITION_SCALE;
  zigguratLimit[1] = 0;
  zigguratWidth[0] = q / POSITION_SCALE;
  zigguratWidth[ZIGGURAT_LAYERS - 1] = edge / POSITION_SCALE;
  zigguratDensity[0] = 1;
  zigguratDensity[ZIGGURAT_LAYERS - 1] = Math.exp(-0.5 * edge * edge);
  for (let i = ZIGGURAT_LAYERS - 2; i >= 1; i--) {
    edge = Math.sqrt(-2 * Math.log(ZIGGURAT_AREA / edge + Math.exp(-0.5 * edge * edge)));
    zigguratLimit[i + 1] = (edge / previous) * POSITION_SCALE;
    previous = edge;
    zigguratDensity[i] = Math.exp(-0.5 * edge * edge);
    zigguratWidth[i] = edge / POSITION_SCALE;
  }
})();

/** A uniform in (0, 1]: its log is finite. */
function uniformOpenZero(rng: Random): number {
  return 1 - rng.uniform();
}

/** A standard normal drawn from rng by the ziggurat method. */
function zigguratNormal(rng: Random): number {
  for (;;) {
    const word = rng.nextUint32();
    const layer = word & (ZIGGURAT_LAYERS - 1);
    const position = (word | 0) >> 7;
    if (Math.abs(position) < zigguratLimit[layer]!) return position * zigguratWidth[layer]!;
    const x = position * zigguratWidth[layer]!;
    if (layer === 0) {
      // The tail beyond R: Marsaglia's method for the normal tail.
      let tx: number;
      let ty: number;
      do {
        tx = -Math.log(uniformOpenZero(rng)) / ZIGGURAT_R;
        ty = -Math.log(uniformOpenZero(rng));
      } while (ty + ty < tx * tx);
      return position > 0 ? ZIGGURAT_R + tx : -ZIGGURAT_R - tx;
    }
    const low = zigguratDensity[layer]!;
    const high = zigguratDensity[layer - 1]!;
    if (low + rng.uniform() * (high - low) < Math.exp(-0.5 * x * x)) return x;
  }
}


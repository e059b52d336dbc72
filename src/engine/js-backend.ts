/**
 * The js backend: plain TypeScript kernels with no dependencies. It runs in browsers and it is the
 * oracle the native addon is tested against, so every kernel here is written for clarity first.
 */
import type { Activation, Backend, BackendInfo } from './backend.js';
import { Random } from './random.js';

export class JsBackend implements Backend {
  readonly name = 'js' as const;
  private readonly note: string | undefined;

  constructor(note?: string) {
    this.note = note;
  }

  info(): BackendInfo {
    const info: BackendInfo = {
      backend: 'js', blas: 'typescript', threads: 1,
      bf16: { available: false, reason: 'the js backend has no bf16 kernels (they are in the native addon, through oneDNN)' },
    };
    if (this.note !== undefined) info.note = this.note;
    return info;
  }

  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
  ): void {
    const size = m * n;
    if (beta === 0) c.fill(0, 0, size);
    else if (beta !== 1) for (let i = 0; i < size; i++) c[i] = c[i]! * beta;
    // Transposed operands are copied into row-major scratch (O(mk + kn), small beside the O(mnk)
    // product), so that one register-blocked kernel serves all four cases.
    const left = transA ? transposeInto(a, k, m, this.scratchA = grow(this.scratchA, m * k)) : a;
    const right = transB ? transposeInto(b, n, k, this.scratchB = grow(this.scratchB, k * n)) : b;
    gemmAccumulate(m, n, k, alpha, left, right, c);
  }

  private scratchA: Float32Array = new Float32Array(0);
  private scratchB: Float32Array = new Float32Array(0);

  toBf16(x: Float32Array, out: Uint16Array, n: number): void {
    const bits = new Uint32Array(x.buffer, x.byteOffset, n);
    for (let i = 0; i < n; i++) out[i] = bf16Bits(bits[i]!);
  }

  /** The bf16 operands widened back to float32 (exactly), then the float32 product. */
  gemmBf16(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Uint16Array, b: Uint16Array, beta: number, c: Float32Array,
  ): void {
    const wideA = widenBf16(a, m * k, this.wideA = grow(this.wideA, m * k));
    const wideB = widenBf16(b, k * n, this.wideB = grow(this.wideB, k * n));
    this.gemm(transA, transB, m, n, k, alpha, wideA, wideB, beta, c);
  }

  private wideA: Float32Array = new Float32Array(0);
  private wideB: Float32Array = new Float32Array(0);

  biasActivation(
    x: Float32Array, bias: Float32Array, y: Float32Array, rows: number, cols: number,
    act: Activation, slope: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let j = 0; j < cols; j++) y[o + j] = activate(x[o + j]! + bias[j]!, act, slope);
    }
  }

  activationBackward(
    dy: Float32Array, y: Float32Array, dx: Float32Array, n: number, act: Activation, slope: number,
  ): void {
    switch (act) {
      case 'linear':
        if (dx !== dy) dx.set(dy.subarray(0, n));
        return;
      case 'relu':
        for (let i = 0; i < n; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
        return;
      case 'leaky_relu':
        for (let i = 0; i < n; i++) dx[i] = y[i]! > 0 ? dy[i]! : dy[i]! * slope;
        return;
      case 'tanh':
        for (let i = 0; i < n; i++) dx[i] = dy[i]! * (1 - y[i]! * y[i]!);
        return;
      case 'sigmoid':
        for (let i = 0; i < n; i++) dx[i] = dy[i]! * y[i]! * (1 - y[i]!);
        return;
    }
  }

  gemmBiasActivation(
    m: number, n: number, k: number, x: Float32Array, w: Float32Array, bias: Float32Array,
    act: Activation, slope: number, y: Float32Array,
  ): void {
    this.gemm(false, false, m, n, k, 1, x, w, 0, y);
    this.biasActivation(y, bias, y, m, n, act, slope);
  }

  gemmBf16BiasActivation(
    m: number, n: number, k: number, x: Uint16Array, w: Uint16Array, bias: Float32Array,
    act: Activation, slope: number, y: Float32Array,
  ): void {
    this.gemmBf16(false, false, m, n, k, 1, x, w, 0, y);
    this.biasActivation(y, bias, y, m, n, act, slope);
  }

  activationBiasBackward(
    dy: Float32Array, y: Float32Array, dx: Float32Array, rows: number, cols: number,
    act: Activation, slope: number, biasGrad: Float32Array, dxHalf?: Uint16Array | null,
  ): void {
    this.activationBackward(dy, y, dx, rows * cols, act, slope);
    this.sumRows(dx, rows, cols, biasGrad);
    if (dxHalf !== undefined && dxHalf !== null) this.toBf16(dx, dxHalf, rows * cols);
  }

  sumRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
    const acc = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      for (let j = 0; j < cols; j++) acc[j] = acc[j]! + x[o + j]!;
    }
    for (let j = 0; j < cols; j++) out[j] = acc[j]!;
  }

  sumCols(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      const o = r * cols;
      for (let j = 0; j < cols; j++) s += x[o + j]!;
      out[r] = s;
    }
  }

  sum(x: Float32Array, n: number): number {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]!;
    return s;
  }

  countNonFinite(x: Float32Array, n: number): number {
    let bad = 0;
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]!)) bad++;
    return bad;
  }

  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
  }

  sub(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
  }

  mul(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
  }

  scale(a: Float32Array, s: number, out: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) out[i] = a[i]! * s;
  }

  axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) y[i] = y[i]! + alpha * x[i]!;
  }
  sumShards(stacked: Float32Array, weights: Float64Array, shards: number, n: number, out: Float32Array): void {
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let s = 0; s < shards; s++) acc += weights[s]! * stacked[s * n + i]!;
      out[i] = acc;
    }
  }

  serialKernels(): void {
    // one thread: nothing to do
  }


  bceWithLogits(
    logits: Float32Array, target: Float32Array, rows: number, cols: number,
    rowLoss: Float32Array, grad: Float32Array | null, gradScale: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const l = logits[o + j]!;
        const t = target[o + j]!;
        s += Math.max(l, 0) - l * t + Math.log1p(Math.exp(-Math.abs(l)));
        if (grad !== null) grad[o + j] = gradScale * (sigmoid(l) - t);
      }
      rowLoss[r] = s;
    }
  }

  squaredError(
    pred: Float32Array, target: Float32Array, rows: number, cols: number,
    rowLoss: Float32Array, grad: Float32Array | null, gradScale: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const d = pred[o + j]! - target[o + j]!;
        s += d * d;
        if (grad !== null) grad[o + j] = gradScale * 2 * d;
      }
      rowLoss[r] = s;
    }
  }

  gaussianNll(
    mean: Float32Array, logvar: Float32Array, target: Float32Array, rows: number, cols: number,
    rowLoss: Float32Array, gradMean: Float32Array | null, gradLogvar: Float32Array | null, gradScale: number,
  ): void {
    const shared = logvar.length === 1;
    const log2pi = Math.log(2 * Math.PI);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) {
        const lv = shared ? logvar[0]! : logvar[o + j]!;
        const d = mean[o + j]! - target[o + j]!;
        const precision = Math.exp(-lv);
        s += 0.5 * (log2pi + lv + d * d * precision);
        if (gradMean !== null) gradMean[o + j] = gradScale * d * precision;
        if (gradLogvar !== null && !shared) gradLogvar[o + j] = gradScale * 0.5 * (1 - d * d * precision);
      }
      rowLoss[r] = s;
    }
  }

  softmaxCrossEntropy(
    logits: Float32Array, targets: Int32Array, mask: Uint8Array | null, rows: number, vocab: number,
    rowNll: Float32Array, grad: Float32Array | null, gradScale: number, rowScale: Float32Array | null,
  ): number {
    const V = vocab;
    for (let r = 0; r < rows; r++) {
      if (mask !== null && mask[r] === 0) continue;
      const y = targets[r]!;
      if (!(y >= 0 && y < V)) throw new RangeError(`softmaxCrossEntropy: target ${y} of row ${r} is outside the vocabulary [0, ${V}).`);
    }
    let total = 0;
    for (let r = 0; r < rows; r++) {
      const base = r * V;
      if (mask !== null && mask[r] === 0) {
        rowNll[r] = 0;
        grad?.fill(0, base, base + V);
        continue;
      }
      const y = targets[r]!;
      let max = -Infinity;
      for (let j = 0; j < V; j++) if (logits[base + j]! > max) max = logits[base + j]!;
      const target = logits[base + y]!;
      let sum = 0;
      if (grad === null) {
        for (let j = 0; j < V; j++) sum += Math.exp(logits[base + j]! - max);
      } else {
        // exp(l - max) kept in the gradient's row, then scaled into softmax - onehot.
        for (let j = 0; j < V; j++) {
          const e = Math.exp(logits[base + j]! - max);
          grad[base + j] = e;
          sum += e;
        }
      }
      rowNll[r] = max + Math.log(sum) - target;
      total += rowNll[r]!;
      if (grad !== null) {
        const scale = gradScale * (rowScale === null ? 1 : rowScale[r]!);
        const k = scale / sum;
        for (let j = 0; j < V; j++) grad[base + j] = grad[base + j]! * k;
        grad[base + y] = scale * (Math.exp(target - max) / sum - 1);
      }
    }
    return total;
  }

  lstmForward(
    gates: Float32Array, hPrev: Float32Array, cPrev: Float32Array, h: Float32Array, c: Float32Array,
    tanhC: Float32Array, lengths: Int32Array, step: number, rows: number, hidden: number,
  ): void {
    const H = hidden;
    for (let b = 0; b < rows; b++) {
      const o = b * H;
      if (step >= lengths[b]!) {
        h.set(hPrev.subarray(o, o + H), o);
        c.set(cPrev.subarray(o, o + H), o);
        continue;
      }
      const g = b * 4 * H;
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gates[g + j]!);
        const f = sigmoid(gates[g + H + j]!);
        const gg = Math.tanh(gates[g + 2 * H + j]!);
        const og = sigmoid(gates[g + 3 * H + j]!);
        gates[g + j] = i;
        gates[g + H + j] = f;
        gates[g + 2 * H + j] = gg;
        gates[g + 3 * H + j] = og;
        const cn = f * cPrev[o + j]! + i * gg;
        c[o + j] = cn;
        const th = Math.tanh(cn);
        tanhC[o + j] = th;
        h[o + j] = og * th;
      }
    }
  }

  lstmBackward(
    gates: Float32Array, cPrev: Float32Array, tanhC: Float32Array, dh: Float32Array, dOut: Float32Array | null,
    dOutStride: number, dc: Float32Array, dGates: Float32Array, dhPrev: Float32Array,
    lengths: Int32Array, step: number, rows: number, hidden: number,
  ): void {
    const H = hidden;
    for (let b = 0; b < rows; b++) {
      const o = b * H;
      const g = b * 4 * H;
      if (step >= lengths[b]!) {
        dGates.fill(0, g, g + 4 * H);
        dhPrev.set(dh.subarray(o, o + H), o);
        continue;
      }
      const d = b * dOutStride;
      for (let j = 0; j < H; j++) {
        const i = gates[g + j]!;
        const f = gates[g + H + j]!;
        const gg = gates[g + 2 * H + j]!;
        const og = gates[g + 3 * H + j]!;
        const th = tanhC[o + j]!;
        const dH = dh[o + j]! + (dOut === null ? 0 : dOut[d + j]!);
        const dC = dc[o + j]! + dH * og * (1 - th * th);
        dGates[g + j] = dC * gg * i * (1 - i);
        dGates[g + H + j] = dC * cPrev[o + j]! * f * (1 - f);
        dGates[g + 2 * H + j] = dC * i * (1 - gg * gg);
        dGates[g + 3 * H + j] = dH * th * og * (1 - og);
        dc[o + j] = dC * f;
        dhPrev[o + j] = 0;
      }
    }
  }

  gruForward(
    gates: Float32Array, hh: Float32Array, biasHh: Float32Array, hPrev: Float32Array, h: Float32Array,
    hiddenN: Float32Array, lengths: Int32Array, step: number, rows: number, hidden: number,
  ): void {
    const H = hidden;
    for (let b = 0; b < rows; b++) {
      const o = b * H;
      if (step >= lengths[b]!) {
        h.set(hPrev.subarray(o, o + H), o);
        continue;
      }
      const g = b * 3 * H;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(gates[g + j]! + hh[g + j]! + biasHh[j]!);
        const z = sigmoid(gates[g + H + j]! + hh[g + H + j]! + biasHh[H + j]!);
        const hn = hh[g + 2 * H + j]! + biasHh[2 * H + j]!;
        const n = Math.tanh(gates[g + 2 * H + j]! + r * hn);
        gates[g + j] = r;
        gates[g + H + j] = z;
        gates[g + 2 * H + j] = n;
        hiddenN[o + j] = hn;
        h[o + j] = (1 - z) * n + z * hPrev[o + j]!;
      }
    }
  }

  gruBackward(
    gates: Float32Array, hiddenN: Float32Array, hPrev: Float32Array, dh: Float32Array, dOut: Float32Array | null,
    dOutStride: number, dGates: Float32Array, dGh: Float32Array, dhPrev: Float32Array,
    lengths: Int32Array, step: number, rows: number, hidden: number,
  ): void {
    const H = hidden;
    for (let b = 0; b < rows; b++) {
      const o = b * H;
      const g = b * 3 * H;
      if (step >= lengths[b]!) {
        dGates.fill(0, g, g + 3 * H);
        dGh.fill(0, g, g + 3 * H);
        dhPrev.set(dh.subarray(o, o + H), o);
        continue;
      }
      const d = b * dOutStride;
      for (let j = 0; j < H; j++) {
        const r = gates[g + j]!;
        const z = gates[g + H + j]!;
        const n = gates[g + 2 * H + j]!;
        const dH = dh[o + j]! + (dOut === null ? 0 : dOut[d + j]!);
        const dn = dH * (1 - z) * (1 - n * n);
        const dr = dn * hiddenN[o + j]! * r * (1 - r);
        const dz = dH * (hPrev[o + j]! - n) * z * (1 - z);
        dGates[g + j] = dr;
        dGates[g + H + j] = dz;
        dGates[g + 2 * H + j] = dn;
        dGh[g + j] = dr;
        dGh[g + H + j] = dz;
        dGh[g + 2 * H + j] = dn * r;
        dhPrev[o + j] = dH * z;
      }
    }
  }

  swapAxes(src: Float32Array, a: number, b: number, cols: number, dst: Float32Array, lengths: Int32Array | null): void {
    for (let j = 0; j < b; j++) {
      const n = lengths === null ? a : lengths[j]!;
      for (let i = 0; i < a; i++) {
        const to = (j * a + i) * cols;
        if (i < n) {
          const from = (i * b + j) * cols;
          dst.set(src.subarray(from, from + cols), to);
        } else {
          dst.fill(0, to, to + cols);
        }
      }
    }
  }

  embeddingGather(
    table: Float32Array, vocab: number, dim: number, ids: Int32Array, positions: number, out: Float32Array,
  ): void {
    checkIds('embeddingGather', ids, positions, vocab);
    for (let p = 0; p < positions; p++) {
      const id = ids[p]!;
      if (id === 0) out.fill(0, p * dim, (p + 1) * dim);
      else out.set(table.subarray(id * dim, (id + 1) * dim), p * dim);
    }
  }

  embeddingScatterAdd(
    dOut: Float32Array, ids: Int32Array, positions: number, dim: number, grad: Float32Array, vocab: number,
  ): void {
    checkIds('embeddingScatterAdd', ids, positions, vocab);
    for (let p = 0; p < positions; p++) {
      const id = ids[p]!;
      if (id === 0) continue;
      const g = id * dim;
      const d = p * dim;
      for (let j = 0; j < dim; j++) grad[g + j] = grad[g + j]! + dOut[d + j]!;
    }
  }

  reparameterize(meanLogvar: Float32Array, eps: Float32Array, z: Float32Array, rows: number, latent: number): void {
    for (let r = 0; r < rows; r++) {
      const o = r * 2 * latent;
      for (let l = 0; l < latent; l++) {
        z[r * latent + l] = meanLogvar[o + l]! + Math.exp(0.5 * meanLogvar[o + latent + l]!) * eps[r * latent + l]!;
      }
    }
  }

  klDiagonalGaussian(meanLogvar: Float32Array, rows: number, latent: number, klRow: Float32Array): void {
    for (let r = 0; r < rows; r++) {
      const o = r * 2 * latent;
      let s = 0;
      for (let l = 0; l < latent; l++) {
        const mu = meanLogvar[o + l]!;
        const lv = meanLogvar[o + latent + l]!;
        s += mu * mu + Math.exp(lv) - 1 - lv;
      }
      klRow[r] = 0.5 * s;
    }
  }

  reparameterizeBackward(
    meanLogvar: Float32Array, eps: Float32Array, dz: Float32Array | null, dMeanLogvar: Float32Array,
    rows: number, latent: number, klScale: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const o = r * 2 * latent;
      for (let l = 0; l < latent; l++) {
        const mu = meanLogvar[o + l]!;
        const lv = meanLogvar[o + latent + l]!;
        const g = dz === null ? 0 : dz[r * latent + l]!;
        const e = dz === null ? 0 : eps[r * latent + l]!;
        dMeanLogvar[o + l] = g + klScale * mu;
        dMeanLogvar[o + latent + l] = g * e * 0.5 * Math.exp(0.5 * lv) + klScale * 0.5 * (Math.exp(lv) - 1);
      }
    }
  }

  mixtureLogDensity(
    z: Float32Array, rows: number, latent: number, components: number,
    means: Float32Array, logvars: Float32Array, logits: Float32Array, out: Float64Array, gamma: Float64Array,
  ): void {
    const L = latent;
    const K = components;
    const logPi = logSoftmax(logits, K, this.logPi = grow64(this.logPi, K));
    // The per-component constant log pi_k - 0.5 (L log 2 pi + sum_d s_kd).
    const constant = this.constant = grow64(this.constant, K);
    const log2pi = Math.log(2 * Math.PI);
    for (let k = 0; k < K; k++) {
      let sum = 0;
      for (let d = 0; d < L; d++) sum += logvars[k * L + d]!;
      constant[k] = logPi[k]! - 0.5 * (L * log2pi + sum);
    }
    const precision = this.precisions(logvars, K * L);
    for (let r = 0; r < rows; r++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) {
        let q = 0;
        for (let d = 0; d < L; d++) {
          const diff = z[r * L + d]! - means[k * L + d]!;
          q += diff * diff * precision[k * L + d]!;
        }
        const lk = constant[k]! - 0.5 * q;
        gamma[r * K + k] = lk;
        if (lk > max) max = lk;
      }
      let total = 0;
      for (let k = 0; k < K; k++) total += Math.exp(gamma[r * K + k]! - max);
      const logp = max + Math.log(total);
      out[r] = logp;
      for (let k = 0; k < K; k++) gamma[r * K + k] = Math.exp(gamma[r * K + k]! - logp);
    }
  }

  mixtureBackward(
    z: Float32Array, rows: number, latent: number, components: number,
    means: Float32Array, logvars: Float32Array, logits: Float32Array, gamma: Float64Array,
    scale: number, rowScale: Float32Array | null,
    dz: Float32Array, dMeans: Float32Array, dLogvars: Float32Array, dLogits: Float32Array,
  ): void {
    const L = latent;
    const K = components;
    const logPi = logSoftmax(logits, K, this.logPi = grow64(this.logPi, K));
    const pi = this.constant = grow64(this.constant, K);
    for (let k = 0; k < K; k++) pi[k] = Math.exp(logPi[k]!);
    const precision = this.precisions(logvars, K * L);
    // Sums over the rows: means [K, L], log-variances [K, L], logits [K]; a row's dz over the components.
    const acc = (this.mixtureSums = grow64(this.mixtureSums, K * (2 * L + 1))).fill(0, 0, K * (2 * L + 1));
    const dzRow = this.dzRow = grow64(this.dzRow, L);
    for (let r = 0; r < rows; r++) {
      const c = rowScale === null ? scale : scale * rowScale[r]!;
      if (c === 0) continue;
      dzRow.fill(0, 0, L);
      for (let k = 0; k < K; k++) {
        const g = gamma[r * K + k]!;
        // -d log p / d a_k = pi_k - gamma_k (summed with weights c_r).
        acc[2 * K * L + k] = acc[2 * K * L + k]! + c * (pi[k]! - g);
        // Components this far from z (most of them) add nothing measurable.
        if (g < NEGLIGIBLE_RESPONSIBILITY) continue;
        const w = c * g;
        for (let d = 0; d < L; d++) {
          const i = k * L + d;
          const diff = z[r * L + d]! - means[i]!;
          const t = diff * precision[i]!;
          // -d log N_k / dz = (z - m) / v;  / dm = -(z - m) / v;  / ds = 0.5 (1 - (z - m)^2 / v).
          dzRow[d] = dzRow[d]! + w * t;
          acc[i] = acc[i]! - w * t;
          acc[K * L + i] = acc[K * L + i]! + w * 0.5 * (1 - t * diff);
        }
      }
      for (let d = 0; d < L; d++) dz[r * L + d] = dz[r * L + d]! + dzRow[d]!;
    }
    for (let i = 0; i < K * L; i++) {
      dMeans[i] = acc[i]!;
      dLogvars[i] = acc[K * L + i]!;
    }
    for (let k = 0; k < K; k++) dLogits[k] = acc[2 * K * L + k]!;
  }

  // The mixture kernels' work buffers, grown once: log pi, per-component constants (or pi), the
  // precisions exp(-s), the gradient sums and one row of dz.
  private logPi: Float64Array = new Float64Array(0);
  private constant: Float64Array = new Float64Array(0);
  private precision: Float64Array = new Float64Array(0);
  private mixtureSums: Float64Array = new Float64Array(0);
  private dzRow: Float64Array = new Float64Array(0);

  /** exp(-s) for the first n log-variances s, into a reused buffer. */
  private precisions(logvars: Float32Array, n: number): Float64Array {
    const precision = this.precision = grow64(this.precision, n);
    for (let i = 0; i < n; i++) precision[i] = Math.exp(-logvars[i]!);
    return precision;
  }

  adam(
    params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, step: number, half?: Uint16Array | null,
    _layout?: Int32Array | null, onlyIfFinite?: boolean,
  ): number {
    if (onlyIfFinite === true) {
      const bad = this.countNonFinite(grads, n);
      if (bad > 0) return bad;
    }
    const c1 = 1 - Math.pow(beta1, step);
    const c2 = 1 - Math.pow(beta2, step);
    for (let i = 0; i < n; i++) {
      const g = grads[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * g;
      const vi = beta2 * v[i]! + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] = params[i]! - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
    }
    if (half !== undefined && half !== null) this.toBf16(params, half, n);
    return 0;
  }

  gatherBytes(
    bytes: Uint8Array, rowIndex: Uint32Array | null, start: number, rows: number, cols: number, divisor: number, out: Float32Array,
  ): void {
    for (let r = 0; r < rows; r++) {
      const source = rowIndex === null ? start + r : rowIndex[start + r]!;
      if ((source + 1) * cols > bytes.length) {
        throw new RangeError(`gatherBytes: row ${source} is outside bytes, which hold ${Math.floor(bytes.length / cols)} rows of ${cols}.`);
      }
      const from = source * cols;
      const to = r * cols;
      for (let j = 0; j < cols; j++) out[to + j] = bytes[from + j]! / divisor;
    }
  }

  gaussianNoise(
    clean: Float32Array, out: Float32Array, rows: number, cols: number, rowSeeds: Uint32Array, factor: number,
  ): void {
    for (let r = 0; r < rows; r++) {
      const rng = new Random(rowSeeds[r]!);
      const end = (r + 1) * cols;
      for (let i = r * cols; i < end; i++) {
        const v = clean[i]! + factor * rng.normal();
        out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
  }

  binarize(clean: Float32Array, out: Float32Array, rows: number, cols: number, rowSeeds: Uint32Array): void {
    for (let r = 0; r < rows; r++) {
      const rng = new Random(rowSeeds[r]!);
      const end = (r + 1) * cols;
      for (let i = r * cols; i < end; i++) out[i] = rng.uniform() < clean[i]! ? 1 : 0;
    }
  }

  im2col(
    x: Float32Array, rows: number, height: number, width: number, channels: number,
    kernelH: number, kernelW: number, strideH: number, strideW: number, padH: number, padW: number,
    outH: number, outW: number, cols: Float32Array,
  ): void {
    let o = 0; // cols is written in order: image, oy, ox, ky, kx, c
    for (let r = 0; r < rows; r++) {
      const image = r * height * width * channels;
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          for (let ky = 0; ky < kernelH; ky++) {
            const iy = oy * strideH - padH + ky;
            for (let kx = 0; kx < kernelW; kx++) {
              const ix = ox * strideW - padW + kx;
              if (iy < 0 || iy >= height || ix < 0 || ix >= width) {
                for (let c = 0; c < channels; c++) cols[o++] = 0;
              } else {
                const from = image + (iy * width + ix) * channels;
                for (let c = 0; c < channels; c++) cols[o++] = x[from + c]!;
              }
            }
          }
        }
      }
    }
  }

  /** The fp32 patches, then rounded: the same bits as rounding each value where it is copied. */
  im2colBf16(
    x: Float32Array, rows: number, height: number, width: number, channels: number,
    kernelH: number, kernelW: number, strideH: number, strideW: number, padH: number, padW: number,
    outH: number, outW: number, cols: Uint16Array,
  ): void {
    const n = rows * outH * outW * kernelH * kernelW * channels;
    this.patches = grow(this.patches, n);
    this.im2col(x, rows, height, width, channels, kernelH, kernelW, strideH, strideW, padH, padW, outH, outW, this.patches);
    this.toBf16(this.patches, cols, n);
  }

  private patches: Float32Array = new Float32Array(0);

  col2im(
    cols: Float32Array, rows: number, height: number, width: number, channels: number,
    kernelH: number, kernelW: number, strideH: number, strideW: number, padH: number, padW: number,
    outH: number, outW: number, x: Float32Array,
  ): void {
    x.fill(0, 0, rows * height * width * channels);
    let o = 0; // cols is read in the order im2col writes it
    for (let r = 0; r < rows; r++) {
      const image = r * height * width * channels;
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          for (let ky = 0; ky < kernelH; ky++) {
            const iy = oy * strideH - padH + ky;
            for (let kx = 0; kx < kernelW; kx++) {
              const ix = ox * strideW - padW + kx;
              if (iy < 0 || iy >= height || ix < 0 || ix >= width) {
                o += channels;
              } else {
                const to = image + (iy * width + ix) * channels;
                for (let c = 0; c < channels; c++) x[to + c] = x[to + c]! + cols[o++]!;
              }
            }
          }
        }
      }
    }
  }
}

/** Throws a RangeError when one of the first `positions` ids lies outside [0, vocab). */
function checkIds(kernel: string, ids: Int32Array, positions: number, vocab: number): void {
  for (let p = 0; p < positions; p++) {
    const id = ids[p]!;
    if (!(id >= 0 && id < vocab)) throw new RangeError(`${kernel}: id ${id} at position ${p} is outside the vocabulary [0, ${vocab}).`);
  }
}

function grow(buffer: Float32Array, size: number): Float32Array {
  return buffer.length >= size ? buffer : new Float32Array(size);
}

function grow64(buffer: Float64Array, size: number): Float64Array {
  return buffer.length >= size ? buffer : new Float64Array(size);
}

/** Responsibilities below this are skipped in the mixture's backward pass (their terms are below float32 resolution). */
const NEGLIGIBLE_RESPONSIBILITY = 1e-12;

/** out[k] = log softmax(a)[k] = a[k] - log sum_j exp(a[j]) for k < n (stable); returns out. */
export function logSoftmax(a: Float32Array, n: number, out: Float64Array): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < n; k++) max = Math.max(max, a[k]!);
  let total = 0;
  for (let k = 0; k < n; k++) total += Math.exp(a[k]! - max);
  const lse = max + Math.log(total);
  for (let k = 0; k < n; k++) out[k] = a[k]! - lse;
  return out;
}

/** out (cols x rows) = x^T for x stored rows x cols. */
function transposeInto(x: Float32Array, rows: number, cols: number, out: Float32Array): Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) out[j * rows + r] = x[o + j]!;
  }
  return out;
}

/**
 * C[m,n] += alpha * A[m,k] B[k,n], all row-major. Two rows of C take four rows of B at a time, so
 * each loaded B value feeds two multiply-adds and each C value is loaded and stored once per four
 * steps of k: about 2.5x the speed of the plain triple loop in V8.
 */
function gemmAccumulate(m: number, n: number, k: number, alpha: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  const k4 = k - (k % 4);
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const a0 = i * k;
    const a1 = a0 + k;
    const c0 = i * n;
    const c1 = c0 + n;
    let p = 0;
    for (; p < k4; p += 4) {
      const x00 = alpha * a[a0 + p]!, x01 = alpha * a[a0 + p + 1]!, x02 = alpha * a[a0 + p + 2]!, x03 = alpha * a[a0 + p + 3]!;
      const x10 = alpha * a[a1 + p]!, x11 = alpha * a[a1 + p + 1]!, x12 = alpha * a[a1 + p + 2]!, x13 = alpha * a[a1 + p + 3]!;
      const b0 = p * n, b1 = b0 + n, b2 = b1 + n, b3 = b2 + n;
      for (let j = 0; j < n; j++) {
        const y0 = b[b0 + j]!, y1 = b[b1 + j]!, y2 = b[b2 + j]!, y3 = b[b3 + j]!;
        c[c0 + j] = c[c0 + j]! + (x00 * y0 + x01 * y1 + x02 * y2 + x03 * y3);
        c[c1 + j] = c[c1 + j]! + (x10 * y0 + x11 * y1 + x12 * y2 + x13 * y3);
      }
    }
    for (; p < k; p++) {
      const x0 = alpha * a[a0 + p]!, x1 = alpha * a[a1 + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) {
        const y = b[bp + j]!;
        c[c0 + j] = c[c0 + j]! + x0 * y;
        c[c1 + j] = c[c1 + j]! + x1 * y;
      }
    }
  }
  for (; i < m; i++) {
    const ai = i * k;
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const x = alpha * a[ai + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] = c[ci + j]! + x * b[bp + j]!;
    }
  }
}

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export function activate(x: number, act: Activation, slope: number): number {
  switch (act) {
    case 'linear': return x;
    case 'relu': return x > 0 ? x : 0;
    case 'leaky_relu': return x > 0 ? x : slope * x;
    case 'tanh': return Math.tanh(x);
    case 'sigmoid': return sigmoid(x);
  }
}

/** The bf16 nearest to a float32 (given as its bits): round to nearest even; a NaN stays a quiet NaN. */
function bf16Bits(bits: number): number {
  if ((bits & 0x7fffffff) >>> 0 > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bf16 bits to float32: the bits become the upper half of the float. */
function widenBf16(half: Uint16Array, n: number, out: Float32Array): Float32Array {
  const bits = new Uint32Array(out.buffer, out.byteOffset, n);
  for (let i = 0; i < n; i++) bits[i] = half[i]! << 16;
  return out;
}

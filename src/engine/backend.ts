/**
 * The compute backend interface. Two implementations: `js` (plain TypeScript, the reference and the
 * browser path) and `native` (a Node-API addon with OpenBLAS sgemm, and oneDNN for bf16 products). All matrices are row-major
 * Float32Arrays; sizes are passed explicitly so kernels never allocate. Output arrays are written,
 * never resized. Where a comment says "may alias", the output may be the same array as that input.
 */

export type Activation = 'linear' | 'relu' | 'leaky_relu' | 'tanh' | 'sigmoid';

/** Stable integer codes for activations, shared with the native addon. */
export const ACTIVATION_CODE: Readonly<Record<Activation, number>> = {
  linear: 0,
  relu: 1,
  leaky_relu: 2,
  tanh: 3,
  sigmoid: 4,
};

export const ACTIVATIONS: readonly Activation[] = ['linear', 'relu', 'leaky_relu', 'tanh', 'sigmoid'];

/** Whether bf16 mixed-precision products (gemmBf16) run natively here, and on what. */
export interface Bf16Support {
  /** True where oneDNN is in the addon and the CPU has AMX or AVX512-BF16. */
  available: boolean;
  /** Why not, when not (one sentence). */
  reason?: string;
  /** oneDNN's version, e.g. "2.6.3". */
  oneDnn?: string;
  /** The instruction set oneDNN dispatches to on this CPU, e.g. "avx512_core_amx". */
  isa?: string;
  /** The implementation oneDNN picked for the bf16 products made so far, e.g. "brg:avx512_core_amx_bf16". */
  kernel?: string;
}

export interface BackendInfo {
  backend: 'js' | 'native';
  /**
   * Which fp32 matrix-product kernel runs: oneDNN's matmul (where the addon has it), OpenBLAS'
   * cblas_sgemm, the addon's portable kernel, or plain TypeScript.
   */
  blas: 'onednn' | 'openblas' | 'portable' | 'typescript';
  threads: number;
  /** Why the native backend is not in use, when it is not. */
  note?: string;
  bf16: Bf16Support;
}

export interface Backend {
  readonly name: 'js' | 'native';
  info(): BackendInfo;

  /** C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C. op(X) is X or X^T (row-major storage). */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
  ): void;

  /**
   * out[i] = x[i] rounded to bfloat16 (round to nearest even; NaN stays NaN), as the upper 16 bits
   * of a float32: the copy of an operand that gemmBf16 reads.
   */
  toBf16(x: Float32Array, out: Uint16Array, n: number): void;

  /**
   * Mixed precision: C[m,n] = alpha * op(A) * op(B) + beta * C with A and B in bfloat16 (their bits,
   * from toBf16), products accumulated in float32 and C in float32. The native backend runs it
   * through oneDNN (AMX or AVX512-BF16) and throws where info().bf16.available is false; the js
   * backend computes the same thing in float32 (the reference the native one is tested against).
   */
  gemmBf16(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Uint16Array, b: Uint16Array, beta: number, c: Float32Array,
  ): void;

  /**
   * A dense layer's forward: y[m,n] = act(x[m,k] w[k,n] + bias), with the bits of gemm(false, false,
   * m, n, k, 1, x, w, 0, y) then biasActivation(y, bias, y, m, n, act, slope). The native backend
   * applies the bias and activation to each part of y as its product finishes it, while it is in
   * cache. y must not alias x or w.
   */
  gemmBiasActivation(
    m: number, n: number, k: number, x: Float32Array, w: Float32Array, bias: Float32Array,
    act: Activation, slope: number, y: Float32Array,
  ): void;

  /** gemmBiasActivation with x and w in bfloat16 (gemmBf16's operands): the bits of gemmBf16 then biasActivation. */
  gemmBf16BiasActivation(
    m: number, n: number, k: number, x: Uint16Array, w: Uint16Array, bias: Float32Array,
    act: Activation, slope: number, y: Float32Array,
  ): void;

  /** y[r,j] = act(x[r,j] + bias[j]) for r < rows, j < cols. y may alias x. `slope` is leaky relu's negative slope. */
  biasActivation(
    x: Float32Array, bias: Float32Array, y: Float32Array, rows: number, cols: number,
    act: Activation, slope: number,
  ): void;

  /**
   * dx[i] = dy[i] * act'(pre-activation), computed from the activation's output y (relu: y > 0;
   * leaky relu: y > 0 ? 1 : slope; tanh: 1 - y^2; sigmoid: y (1 - y); linear: 1). dx may alias dy.
   */
  activationBackward(
    dy: Float32Array, y: Float32Array, dx: Float32Array, n: number, act: Activation, slope: number,
  ): void;

  /**
   * A layer's backward through its activation and bias: dx = activationBackward(dy, y) over `rows`
   * rows of `cols`, and biasGrad[j] = sum over r of dx[r,j] as sumRows gives it, in one pass where
   * it can. The same bits as the two calls. dx may alias dy. With `dxHalf`, dx rounded to bf16
   * (toBf16's rounding) is written there too: mixed precision's copy for the layer's products.
   */
  activationBiasBackward(
    dy: Float32Array, y: Float32Array, dx: Float32Array, rows: number, cols: number,
    act: Activation, slope: number, biasGrad: Float32Array, dxHalf?: Uint16Array | null,
  ): void;

  /** out[j] = sum over r of x[r,j] (column sums; the bias gradient). */
  sumRows(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  /** out[r] = sum over j of x[r,j] (row sums). */
  sumCols(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  /** Sum of the first n elements, accumulated in double precision. */
  sum(x: Float32Array, n: number): number;
  /** How many of the first n elements are NaN or infinite (the training step's health check). */
  countNonFinite(x: Float32Array, n: number): number;

  /** out = a + b, a - b, a * b elementwise over n elements; out may alias a or b. */
  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;
  sub(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;
  mul(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;
  /** out = s * a; out may alias a. */
  scale(a: Float32Array, s: number, out: Float32Array, n: number): void;
  /** y += alpha * x. */
  axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void;
  /**
   * out[i] = sum over s < shards of weights[s] * stacked[s * n + i], accumulated in double in the
   * order of s and rounded once: the data-parallel step's gradient from its shards' (train/shards.ts).
   */
  sumShards(stacked: Float32Array, weights: Float64Array, shards: number, n: number, out: Float32Array): void;
  /**
   * Kernels called from this thread run on it alone (true) or over the backend's thread pool
   * (false, the default): the data-parallel step's threads run their shards serially. Results are
   * the same bits either way; the js backend has one thread and ignores it.
   */
  serialKernels(on: boolean): void;

  /**
   * Bernoulli negative log-likelihood from logits, summed per row:
   * rowLoss[r] = sum_j softplus(l) - l * t  (stable form: max(l,0) - l t + log1p(exp(-|l|))),
   * grad[r,j] = gradScale * (sigmoid(l) - t). grad may be null (loss only).
   */
  bceWithLogits(
    logits: Float32Array, target: Float32Array, rows: number, cols: number,
    rowLoss: Float32Array, grad: Float32Array | null, gradScale: number,
  ): void;

  /** rowLoss[r] = sum_j (p - t)^2, grad = gradScale * 2 (p - t). grad may be null. */
  squaredError(
    pred: Float32Array, target: Float32Array, rows: number, cols: number,
    rowLoss: Float32Array, grad: Float32Array | null, gradScale: number,
  ): void;

  /**
   * Gaussian negative log-likelihood summed per row:
   * rowLoss[r] = sum_j 0.5 (log(2 pi) + lv + (t - m)^2 exp(-lv)), where lv = logvar[0] when
   * logvar.length == 1 (one shared variance) and logvar[r*cols+j] otherwise.
   * gradMean = gradScale * (m - t) exp(-lv); gradLogvar (only when logvar is per element and
   * gradLogvar is not null) = gradScale * 0.5 (1 - (t - m)^2 exp(-lv)). Either gradient may be null.
   */
  gaussianNll(
    mean: Float32Array, logvar: Float32Array, target: Float32Array, rows: number, cols: number,
    rowLoss: Float32Array, gradMean: Float32Array | null, gradLogvar: Float32Array | null, gradScale: number,
  ): void;

  /**
   * The categorical negative log-likelihood over a vocabulary, fused with its gradient, for logits
   * [rows, vocab] and target ids [rows]: a counted row (mask null, or mask[r] = 1) gets
   *   rowNll[r] = logsumexp(l_r) - l_r[targets[r]]          (max-subtracted; sums in float64)
   *   grad[r, j] = scale_r (softmax(l_r)[j] - [j = targets[r]]), scale_r = gradScale * (rowScale[r], or 1);
   * a row whose mask is 0 (padding) gets rowNll 0 and a zero gradient row, and its target is not read.
   * grad may be the logits themselves (in place) or null (loss only). Returns the sum of rowNll as
   * written (float32 values), accumulated in float64. Throws a RangeError, before writing anything,
   * when a counted row's target lies outside [0, vocab).
   */
  softmaxCrossEntropy(
    logits: Float32Array, targets: Int32Array, mask: Uint8Array | null, rows: number, vocab: number,
    rowNll: Float32Array, grad: Float32Array | null, gradScale: number, rowScale: Float32Array | null,
  ): number;

  /**
   * One LSTM step (PyTorch's gate order i, f, g, o) for a block of `rows` rows with H = hidden units.
   * gates [rows, 4H] holds the pre-activations (x W_ih^T + b_ih + b_hh + h W_hh^T). Row b runs when
   * step < lengths[b]: its gates become the activations i = sigmoid, f = sigmoid, g = tanh,
   * o = sigmoid (in place: what lstmBackward reads), and
   *   c[b] = f cPrev[b] + i g,   tanhC[b] = tanh(c[b]),   h[b] = o tanhC[b].
   * Any other row carries its state (h[b] = hPrev[b], c[b] = cPrev[b]); its gates and tanhC are left
   * as they were. hPrev, cPrev, h, c, tanhC: [rows, H]; lengths: at least rows. No two arrays may overlap.
   */
  lstmForward(
    gates: Float32Array, hPrev: Float32Array, cPrev: Float32Array, h: Float32Array, c: Float32Array,
    tanhC: Float32Array, lengths: Int32Array, step: number, rows: number, hidden: number,
  ): void;

  /**
   * Back through one LSTM step for the block lstmForward ran, from its gates (the activations), cPrev
   * and tanhC. For a running row (step < lengths[b]), with dH = dh[b] + dOut[b * dOutStride + j]
   * (dOut null: dh alone; dOut is the loss's gradient of this step's output, dh the one flowing back
   * from later steps) and dC = dc[b] + dH o (1 - tanhC^2):
   *   dGates[b] = [dC g i (1 - i), dC cPrev f (1 - f), dC i (1 - g^2), dH tanhC o (1 - o)]  (gate order i f g o)
   *   dc[b] = dC f (in place: dL/dc before the step),   dhPrev[b] = 0.
   * For any other row: dGates[b] = 0, dhPrev[b] = dh[b], dc[b] unchanged. The caller then adds
   * dGates W_hh to dhPrev (a product with beta 1) for dL/dh before the step. gates, dGates [rows, 4H];
   * cPrev, tanhC, dh, dc, dhPrev [rows, H]. No two arrays may overlap.
   */
  lstmBackward(
    gates: Float32Array, cPrev: Float32Array, tanhC: Float32Array, dh: Float32Array, dOut: Float32Array | null,
    dOutStride: number, dc: Float32Array, dGates: Float32Array, dhPrev: Float32Array,
    lengths: Int32Array, step: number, rows: number, hidden: number,
  ): void;

  /**
   * One GRU step (PyTorch's gate order r, z, n) for a block of `rows` rows with H = hidden units.
   * gates [rows, 3H] holds the input side's pre-activations (x W_ih^T + b_ih), hh [rows, 3H] the hidden
   * side's product h W_hh^T (without its bias), biasHh [3H] b_hh. Row b runs when step < lengths[b]:
   *   r = sigmoid(gx_r + hh_r + b_hr),  z = sigmoid(gx_z + hh_z + b_hz),  hn = hh_n + b_hn,
   *   n = tanh(gx_n + r hn),  h[b] = (1 - z) n + z hPrev[b];  gates[b] = [r, z, n], hiddenN[b] = hn
   * (what gruBackward reads). Any other row carries its state (h[b] = hPrev[b]); its gates and
   * hiddenN are left as they were. hPrev, h, hiddenN: [rows, H]. No two arrays may overlap.
   */
  gruForward(
    gates: Float32Array, hh: Float32Array, biasHh: Float32Array, hPrev: Float32Array, h: Float32Array,
    hiddenN: Float32Array, lengths: Int32Array, step: number, rows: number, hidden: number,
  ): void;

  /**
   * Back through one GRU step for the block gruForward ran, from its gates (r, z, n), hiddenN and
   * hPrev. For a running row, with dH = dh[b] + dOut[b * dOutStride + j] (dOut null: dh alone):
   *   dn = dH (1 - z)(1 - n^2),  dr = dn hn r (1 - r),  dz = dH (hPrev - n) z (1 - z)
   *   dGates[b] = [dr, dz, dn] (input side),  dGh[b] = [dr, dz, dn r] (hidden side),  dhPrev[b] = dH z.
   * For any other row: dGates[b] = dGh[b] = 0, dhPrev[b] = dh[b]. The caller then adds dGh W_hh to
   * dhPrev (a product with beta 1). gates, dGates, dGh [rows, 3H]; hiddenN, hPrev, dh, dhPrev
   * [rows, H]. No two arrays may overlap.
   */
  gruBackward(
    gates: Float32Array, hiddenN: Float32Array, hPrev: Float32Array, dh: Float32Array, dOut: Float32Array | null,
    dOutStride: number, dGates: Float32Array, dGh: Float32Array, dhPrev: Float32Array,
    lengths: Int32Array, step: number, rows: number, hidden: number,
  ): void;

  /**
   * The first two axes of src [a, b, cols] swapped into dst [b, a, cols] (batch-major [batch, time,
   * cols] to time-major [time, batch, cols] and back): dst[j, i] = src[i, j] when lengths is null or
   * i < lengths[j], else zeros (lengths, at least b of them, masks the steps past each row's length
   * when time-major states become batch-major outputs). dst must not overlap src.
   */
  swapAxes(src: Float32Array, a: number, b: number, cols: number, dst: Float32Array, lengths: Int32Array | null): void;

  /**
   * The embedding lookup: out[p] = table[ids[p]] (dim values) for p < positions, and zeros where
   * ids[p] is 0 (<pad>). table is [vocab, dim]. Throws a RangeError, before writing, on an id outside
   * [0, vocab). out must not overlap table.
   */
  embeddingGather(
    table: Float32Array, vocab: number, dim: number, ids: Int32Array, positions: number, out: Float32Array,
  ): void;

  /**
   * The embedding's backward: grad[ids[p]] += dOut[p] (dim values) for p < positions where ids[p] is
   * not 0 (<pad> sends no gradient), each element's additions made in position order (so the bits
   * do not depend on how the work is split). grad is [vocab, dim], added to, not overwritten.
   * Throws a RangeError, before writing, on an id outside [0, vocab).
   */
  embeddingScatterAdd(
    dOut: Float32Array, ids: Int32Array, positions: number, dim: number, grad: Float32Array, vocab: number,
  ): void;

  /**
   * The reparameterized sample. meanLogvar is rows x 2L (first L columns the mean, last L the
   * log-variance); eps and z are rows x L: z = mean + exp(0.5 logvar) * eps.
   */
  reparameterize(meanLogvar: Float32Array, eps: Float32Array, z: Float32Array, rows: number, latent: number): void;

  /** klRow[r] = KL(N(mean, exp(logvar)) || N(0, I)) = 0.5 sum_l (mean^2 + exp(logvar) - 1 - logvar). */
  klDiagonalGaussian(meanLogvar: Float32Array, rows: number, latent: number, klRow: Float32Array): void;

  /**
   * Gradient of (loss through z) + klScale * sum of KL with respect to meanLogvar, written to
   * dMeanLogvar (rows x 2L): dmean = dz + klScale * mean;
   * dlogvar = dz * eps * 0.5 exp(0.5 logvar) + klScale * 0.5 (exp(logvar) - 1). dz may be null (KL only).
   */
  reparameterizeBackward(
    meanLogvar: Float32Array, eps: Float32Array, dz: Float32Array | null, dMeanLogvar: Float32Array,
    rows: number, latent: number, klScale: number,
  ): void;

  /**
   * The log density of a mixture of `components` (K) diagonal Gaussians over `latent` (L) dimensions,
   * p(z) = sum_k pi_k N(z; m_k, diag(exp(s_k))) with pi = softmax(logits), for `rows` vectors z
   * (rows x L): out[r] = log p(z_r) by a log-sum-exp over the components, and gamma[r*K + k] =
   * pi_k N(z_r; m_k, exp(s_k)) / p(z_r), the responsibilities mixtureBackward needs. means and
   * logvars (the m and s) are K x L, logits K. Float64 arithmetic throughout.
   */
  mixtureLogDensity(
    z: Float32Array, rows: number, latent: number, components: number,
    means: Float32Array, logvars: Float32Array, logits: Float32Array, out: Float64Array, gamma: Float64Array,
  ): void;

  /**
   * The gradient of sum_r c_r * (-log p(z_r)) for mixtureLogDensity's mixture, c_r = scale *
   * (rowScale[r], or 1 when rowScale is null), given the gamma that mixtureLogDensity wrote for the
   * same z and parameters: added to dz (rows x L); written to dMeans and dLogvars (K x L) and
   * dLogits (K), overwriting them (zeros when every c_r is 0). Responsibilities below 1e-12 add
   * nothing to dz, dMeans or dLogvars (their terms are below float32 resolution). Sums are in float64.
   */
  mixtureBackward(
    z: Float32Array, rows: number, latent: number, components: number,
    means: Float32Array, logvars: Float32Array, logits: Float32Array, gamma: Float64Array,
    scale: number, rowScale: Float32Array | null,
    dz: Float32Array, dMeans: Float32Array, dLogvars: Float32Array, dLogits: Float32Array,
  ): void;

  /**
   * One Adam step over n parameters with bias correction (step counts from 1):
   * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * (m / (1-b1^step)) / (sqrt(v / (1-b2^step)) + eps).
   * With `half`, also writes the new parameters rounded to bf16 there (toBf16's rounding): mixed
   * precision's copy of the weights, made in the same pass. `layout` (each tensor's size and rows,
   * in order, the sizes summing to n) lets threads update the rows of each tensor that their
   * products read (native/adam.cc); the result is the same with it or without. With `onlyIfFinite`,
   * the gradients are first checked for NaN and infinities (the training step's health check, in
   * the threads' cut of the update): when any is not finite nothing is changed, and their count is
   * returned. Returns 0 otherwise.
   */
  adam(
    params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, n: number,
    lr: number, beta1: number, beta2: number, eps: number, step: number, half?: Uint16Array | null, layout?: Int32Array | null,
    onlyIfFinite?: boolean,
  ): number;

  /**
   * Gaussian input noise: out[r,j] = clip(clean[r,j] + factor * n, 0, 1), where row r's normals n
   * come from `new Random(rowSeeds[r]).normal()` (the same algorithm in both backends). out may
   * alias clean.
   */
  gaussianNoise(
    clean: Float32Array, out: Float32Array, rows: number, cols: number, rowSeeds: Uint32Array, factor: number,
  ): void;

  /**
   * Dynamic binarization: out[r,j] = 1 if u < clean[r,j] else 0, where row r's uniforms u come from
   * `new Random(rowSeeds[r]).uniform()` (the same algorithm in both backends, so the same bits).
   * out may alias clean.
   */
  binarize(clean: Float32Array, out: Float32Array, rows: number, cols: number, rowSeeds: Uint32Array): void;

  /**
   * Batching bytes into floats: out[r*cols + j] = bytes[source*cols + j] / divisor for r < rows, where
   * source = rowIndex[start + r], or start + r when rowIndex is null. Throws when a row lies outside bytes.
   */
  gatherBytes(
    bytes: Uint8Array, rowIndex: Uint32Array | null, start: number, rows: number, cols: number, divisor: number, out: Float32Array,
  ): void;

  /**
   * Convolution patches (im2col) of `rows` images x[rows, height, width, channels] (channels-last)
   * for a kernelH x kernelW window moved by strideH down and strideW across, with padH rows of zeros
   * above and below each image and padW columns of zeros left and right of it:
   * cols[((r*outH + oy)*outW + ox), (ky*kernelW + kx)*channels + c] = x[r, oy*strideH - padH + ky, ox*strideW - padW + kx, c],
   * 0 where that position lies outside the image. cols is rows*outH*outW x kernelH*kernelW*channels;
   * outH and outW are the caller's (a convolution uses floor((height + 2 padH - kernelH) / strideH) + 1,
   * and the same across). Every element of cols in that range is written. cols must not alias x.
   * A 1-D convolution over [length, channels] is the 2-D one over [1, length, channels] with a
   * 1 x k window (kernelH 1, strideH 1, padH 0, outH 1).
   */
  im2col(
    x: Float32Array, rows: number, height: number, width: number, channels: number,
    kernelH: number, kernelW: number, strideH: number, strideW: number, padH: number, padW: number,
    outH: number, outW: number, cols: Float32Array,
  ): void;

  /** im2col with the patches rounded to bf16 (toBf16's rounding), for gemmBf16. */
  im2colBf16(
    x: Float32Array, rows: number, height: number, width: number, channels: number,
    kernelH: number, kernelW: number, strideH: number, strideW: number, padH: number, padW: number,
    outH: number, outW: number, cols: Uint16Array,
  ): void;

  /**
   * The adjoint of im2col with the same geometry: x (rows x height*width*channels, zeroed first) gets
   * the sum of every cols value at the image position that im2col would have read it from; values
   * at padding positions are dropped. Sums run in a fixed order (image, oy, ox, ky, kx), so both
   * backends give the same bits. x must not alias cols.
   */
  col2im(
    cols: Float32Array, rows: number, height: number, width: number, channels: number,
    kernelH: number, kernelW: number, strideH: number, strideW: number, padH: number, padW: number,
    outH: number, outW: number, x: Float32Array,
  ): void;
}

/**
 * `backend` with its fp32 products taken by `gemm` (OpenBLAS' or the bundled kernel's in place of
 * oneDNN's, for bench/ and the tests): gemm itself, and the product of gemmBiasActivation, whose
 * bias and activation then follow through biasActivation (the same bits). Everything else as it is.
 */
export function withGemm(backend: Backend, gemm: Backend['gemm']): Backend {
  const gemmBiasActivation: Backend['gemmBiasActivation'] = (m, n, k, x, w, bias, act, slope, y) => {
    gemm(false, false, m, n, k, 1, x, w, 0, y);
    backend.biasActivation(y, bias, y, m, n, act, slope);
  };
  return new Proxy(backend, {
    get: (target, prop, receiver) =>
      prop === 'gemm' ? gemm : prop === 'gemmBiasActivation' ? gemmBiasActivation : Reflect.get(target, prop, receiver) as unknown,
  });
}

/** A dense float32 tensor: row-major data and a shape. The engine's kernels work on `data` directly. */
export class Tensor {
  readonly data: Float32Array;
  readonly shape: readonly number[];

  constructor(data: Float32Array, shape: readonly number[]) {
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new Error(`Tensor data has ${data.length} values but shape [${shape.join(', ')}] needs ${size}.`);
    }
    this.data = data;
    this.shape = shape;
  }

  static zeros(shape: readonly number[]): Tensor {
    return new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
  }

  get size(): number {
    return this.data.length;
  }

  /** Number of rows when viewed as a matrix [shape[0], rest]. */
  get rows(): number {
    return this.shape[0] ?? 1;
  }

  /** Number of columns when viewed as a matrix [shape[0], rest]. */
  get cols(): number {
    return this.shape.length === 0 ? 1 : this.data.length / (this.shape[0] ?? 1);
  }

  /** Row r as a view (no copy). */
  row(r: number): Float32Array {
    const c = this.cols;
    return this.data.subarray(r * c, (r + 1) * c);
  }
}

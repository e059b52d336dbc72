// The latent map as a canvas scatter plot: points coloured by class, axes with ticks, and an
// overlay for the point under the cursor and the two ends of an interpolation. The pointer's
// position comes back in the map's own coordinates.
import { useEffect, useMemo, useRef } from 'preact/hooks';

const CATEGORY10 = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const TABLEAU20 = [
  '#4e79a7', '#a0cbe8', '#f28e2b', '#ffbe7d', '#59a14f', '#8cd17d', '#b6992d', '#f1ce63', '#499894', '#86bcb6',
  '#e15759', '#ff9d9a', '#79706e', '#bab0ac', '#d37295', '#fabfd2', '#b07aa1', '#d4a6c8', '#9d7660', '#d7b5a6',
];

/** The colour of class `i` of `classes` (Vega's category10, tableau20 beyond 10 classes). */
export function classColour(i: number, classes: number): string {
  const palette = classes <= 10 ? CATEGORY10 : TABLEAU20;
  return palette[i % palette.length]!;
}

export interface Point2 {
  x: number;
  y: number;
}

export interface ScatterProps {
  x: number[];
  y: number[];
  labels: number[] | null;
  classes: number;
  xTitle: string;
  yTitle: string;
  /** CSS size of the square plot. */
  size: number;
  hover: Point2 | null;
  /** The point nearest the cursor (an index into x, y), highlighted. */
  nearest: number | null;
  ends: Point2[];
  onHover: (p: Point2 | null) => void;
  onPick: (p: Point2) => void;
  testid?: string;
}

const MARGIN = { left: 56, right: 14, top: 14, bottom: 44 };

function niceStep(range: number, target: number): number {
  const raw = range / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * power;
}

function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [-1, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = 0.05 * (hi - lo);
  return [lo - pad, hi + pad];
}

interface Frame {
  toPx(p: Point2): Point2;
  fromPx(p: Point2): Point2;
  xDomain: [number, number];
  yDomain: [number, number];
  plot: { left: number; top: number; width: number; height: number };
}

function frameOf(x: number[], y: number[], size: number): Frame {
  const xDomain = extent(x);
  const yDomain = extent(y);
  const plot = { left: MARGIN.left, top: MARGIN.top, width: size - MARGIN.left - MARGIN.right, height: size - MARGIN.top - MARGIN.bottom };
  return {
    xDomain, yDomain, plot,
    toPx: (p) => ({
      x: plot.left + ((p.x - xDomain[0]) / (xDomain[1] - xDomain[0])) * plot.width,
      y: plot.top + (1 - (p.y - yDomain[0]) / (yDomain[1] - yDomain[0])) * plot.height,
    }),
    fromPx: (p) => ({
      x: xDomain[0] + ((p.x - plot.left) / plot.width) * (xDomain[1] - xDomain[0]),
      y: yDomain[0] + (1 - (p.y - plot.top) / plot.height) * (yDomain[1] - yDomain[0]),
    }),
  };
}

function prepare(canvas: HTMLCanvasElement, size: number): CanvasRenderingContext2D | null {
  const dpr = window.devicePixelRatio || 1;
  const px = Math.round(size * dpr);
  if (canvas.width !== px) canvas.width = px;
  if (canvas.height !== px) canvas.height = px;
  const context = canvas.getContext('2d');
  if (context === null) return null;
  context.setTransform(dpr, 0, 0, dpr, 0, 0);
  context.clearRect(0, 0, size, size);
  return context;
}

function tickLabel(v: number, step: number): string {
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  return (Math.abs(v) < step * 1e-6 ? 0 : v).toFixed(Math.min(digits, 6));
}

function drawBase(canvas: HTMLCanvasElement, props: ScatterProps, frame: Frame): void {
  const context = prepare(canvas, props.size);
  if (context === null) return;
  const { plot } = frame;
  context.fillStyle = '#fff';
  context.fillRect(0, 0, props.size, props.size);
  // Grid and ticks.
  context.font = '11px system-ui, sans-serif';
  context.fillStyle = '#333';
  context.strokeStyle = '#e6e6e6';
  context.lineWidth = 1;
  const xStep = niceStep(frame.xDomain[1] - frame.xDomain[0], 6);
  context.textAlign = 'center';
  context.textBaseline = 'top';
  for (let v = Math.ceil(frame.xDomain[0] / xStep) * xStep; v <= frame.xDomain[1]; v += xStep) {
    const { x } = frame.toPx({ x: v, y: 0 });
    context.beginPath();
    context.moveTo(Math.round(x) + 0.5, plot.top);
    context.lineTo(Math.round(x) + 0.5, plot.top + plot.height);
    context.stroke();
    context.fillText(tickLabel(v, xStep), x, plot.top + plot.height + 5);
  }
  const yStep = niceStep(frame.yDomain[1] - frame.yDomain[0], 6);
  context.textAlign = 'right';
  context.textBaseline = 'middle';
  for (let v = Math.ceil(frame.yDomain[0] / yStep) * yStep; v <= frame.yDomain[1]; v += yStep) {
    const { y } = frame.toPx({ x: 0, y: v });
    context.beginPath();
    context.moveTo(plot.left, Math.round(y) + 0.5);
    context.lineTo(plot.left + plot.width, Math.round(y) + 0.5);
    context.stroke();
    context.fillText(tickLabel(v, yStep), plot.left - 5, y);
  }
  context.strokeStyle = '#bbb';
  context.strokeRect(plot.left + 0.5, plot.top + 0.5, plot.width - 1, plot.height - 1);
  // Axis titles.
  context.fillStyle = '#222';
  context.font = '12px system-ui, sans-serif';
  context.textAlign = 'center';
  context.textBaseline = 'bottom';
  context.fillText(props.xTitle, plot.left + plot.width / 2, props.size - 4);
  context.save();
  context.translate(14, plot.top + plot.height / 2);
  context.rotate(-Math.PI / 2);
  context.textBaseline = 'middle';
  context.fillText(props.yTitle, 0, 0);
  context.restore();
  // The points.
  const n = props.x.length;
  const r = n > 1500 ? 1.8 : n > 500 ? 2.4 : 3.2;
  context.globalAlpha = n > 1500 ? 0.6 : 0.78;
  context.save();
  context.beginPath();
  context.rect(plot.left, plot.top, plot.width, plot.height);
  context.clip();
  for (let i = 0; i < n; i++) {
    const p = frame.toPx({ x: props.x[i]!, y: props.y[i]! });
    context.fillStyle = props.labels === null ? '#1f77b4' : classColour(props.labels[i]!, props.classes);
    context.beginPath();
    context.arc(p.x, p.y, r, 0, 2 * Math.PI);
    context.fill();
  }
  context.restore();
  context.globalAlpha = 1;
}

function drawOverlay(canvas: HTMLCanvasElement, props: ScatterProps, frame: Frame): void {
  const context = prepare(canvas, props.size);
  if (context === null) return;
  const { plot } = frame;
  context.save();
  context.beginPath();
  context.rect(plot.left, plot.top, plot.width, plot.height);
  context.clip();
  if (props.ends.length === 2) {
    const a = frame.toPx(props.ends[0]!);
    const b = frame.toPx(props.ends[1]!);
    context.strokeStyle = '#111';
    context.setLineDash([5, 4]);
    context.lineWidth = 1.5;
    context.beginPath();
    context.moveTo(a.x, a.y);
    context.lineTo(b.x, b.y);
    context.stroke();
    context.setLineDash([]);
  }
  props.ends.forEach((end, i) => {
    const p = frame.toPx(end);
    context.fillStyle = '#111';
    context.beginPath();
    context.arc(p.x, p.y, 6, 0, 2 * Math.PI);
    context.fill();
    context.fillStyle = '#fff';
    context.font = 'bold 9px system-ui, sans-serif';
    context.textAlign = 'center';
    context.textBaseline = 'middle';
    context.fillText(i === 0 ? 'A' : 'B', p.x, p.y + 0.5);
  });
  if (props.nearest !== null && props.nearest < props.x.length) {
    const p = frame.toPx({ x: props.x[props.nearest]!, y: props.y[props.nearest]! });
    context.strokeStyle = '#111';
    context.lineWidth = 1.5;
    context.beginPath();
    context.arc(p.x, p.y, 5.5, 0, 2 * Math.PI);
    context.stroke();
  }
  if (props.hover !== null) {
    const p = frame.toPx(props.hover);
    context.strokeStyle = 'rgba(0, 0, 0, 0.45)';
    context.lineWidth = 1;
    context.beginPath();
    context.moveTo(p.x, plot.top);
    context.lineTo(p.x, plot.top + plot.height);
    context.moveTo(plot.left, p.y);
    context.lineTo(plot.left + plot.width, p.y);
    context.stroke();
  }
  context.restore();
}

export function Scatter(props: ScatterProps) {
  const base = useRef<HTMLCanvasElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const frame = useMemo(() => frameOf(props.x, props.y, props.size), [props.x, props.y, props.size]);
  useEffect(() => { if (base.current !== null) drawBase(base.current, props, frame); }, [frame, props.labels, props.xTitle, props.yTitle]);
  useEffect(() => { if (overlay.current !== null) drawOverlay(overlay.current, props, frame); }, [frame, props.hover, props.nearest, props.ends]);

  const at = (e: PointerEvent): Point2 | null => {
    const rect = (e.currentTarget as HTMLCanvasElement).getBoundingClientRect();
    const px = { x: ((e.clientX - rect.left) * props.size) / rect.width, y: ((e.clientY - rect.top) * props.size) / rect.height };
    const { plot } = frame;
    if (px.x < plot.left || px.x > plot.left + plot.width || px.y < plot.top || px.y > plot.top + plot.height) return null;
    return frame.fromPx(px);
  };
  return (
    <div class="scatter" style={{ width: `${props.size}px`, height: `${props.size}px` }}>
      <canvas ref={base} style={{ width: `${props.size}px`, height: `${props.size}px` }} />
      <canvas ref={overlay} style={{ width: `${props.size}px`, height: `${props.size}px` }} data-testid={props.testid}
        onPointerMove={(e) => props.onHover(at(e))}
        onPointerLeave={() => props.onHover(null)}
        onClick={(e) => { const p = at(e as unknown as PointerEvent); if (p !== null) props.onPick(p); }} />
    </div>
  );
}

/** The index of the point nearest p, distances measured in shares of each axis' range. */
export function nearestPoint(x: number[], y: number[], p: Point2): number | null {
  const [x0, x1] = extent(x);
  const [y0, y1] = extent(y);
  const sx = 1 / (x1 - x0);
  const sy = 1 / (y1 - y0);
  let best = -1;
  let bestD = Infinity;
  for (let i = 0; i < x.length; i++) {
    const dx = (x[i]! - p.x) * sx;
    const dy = (y[i]! - p.y) * sy;
    const d = dx * dx + dy * dy;
    if (d < bestD) { bestD = d; best = i; }
  }
  return best < 0 ? null : best;
}

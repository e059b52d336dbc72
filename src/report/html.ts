/**
 * The pieces of a self-contained HTML page: escaping, data URIs, tables and the page itself with
 * its inline style sheet. Nothing here refers to anything outside the page: no external style
 * sheets, fonts, scripts or images.
 */

/** Text made safe for HTML content and for attribute values in double quotes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A data: URI holding `bytes` (base64), for an <img> that needs no file and no network. */
export function dataUri(mime: string, bytes: Uint8Array): string {
  return `data:${mime};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`;
}

/** The image MIME types the page inlines, by file extension (lower case, with the dot). */
export const IMAGE_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
};

/** A cell: text (escaped) or HTML made by this module's callers (not escaped again). */
export type Cell = string | number | { html: string };

function cellHtml(cell: Cell): string {
  if (typeof cell === 'object') return cell.html;
  return escapeHtml(String(cell));
}

/** A table with a header row; `numeric` names the columns to right-align. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[], options: { numeric?: readonly number[]; className?: string } = {}): string {
  const numeric = new Set(options.numeric ?? []);
  const td = (cell: Cell, i: number, tag: 'td' | 'th'): string => `<${tag}${numeric.has(i) ? ' class="num"' : ''}>${cellHtml(cell)}</${tag}>`;
  const head = `<tr>${headers.map((h, i) => td(h, i, 'th')).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c, i) => td(c, i, 'td')).join('')}</tr>`).join('\n');
  return `<table${options.className !== undefined ? ` class="${escapeHtml(options.className)}"` : ''}>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** The width and height of a PNG (from its IHDR chunk), or null for bytes that are not a PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/**
 * An image from a data URI with its caption; `alt` describes the picture for those who cannot see
 * it; `width` is the width to show it at in CSS pixels (the style sheet still keeps it within the column).
 */
export function figure(uri: string, alt: string, captionHtml: string, options: { className?: string; width?: number } = {}): string {
  const className = options.className !== undefined ? ` class="${escapeHtml(options.className)}"` : '';
  const width = options.width !== undefined ? ` width="${Math.round(options.width)}"` : '';
  return `<figure${className}><img src="${escapeHtml(uri)}" alt="${escapeHtml(alt)}"${width}><figcaption>${captionHtml}</figcaption></figure>`;
}

/** A section with an id (the contents' anchor) and a heading. */
export function section(id: string, heading: string, bodyHtml: string): string {
  return `<section id="${escapeHtml(id)}">\n<h2>${escapeHtml(heading)}</h2>\n${bodyHtml}\n</section>`;
}

/** A short paragraph saying why a part is not there (and how to get it). */
export function missing(text: string): string {
  return `<p class="missing">${escapeHtml(text)}</p>`;
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f6f4; color: #1d1d1f; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
main { max-width: 62rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; background: #fff; min-height: 100vh; }
h1 { font-size: 1.6rem; margin: 0 0 0.25rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 0.6rem; padding-bottom: 0.2rem; border-bottom: 2px solid #d7d7d2; }
h3 { font-size: 1.05rem; margin: 1.3rem 0 0.4rem; }
p { margin: 0.4rem 0 0.8rem; }
.meta { color: #55554f; margin-bottom: 1rem; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.88em; }
code { background: #f0f0ec; padding: 0 0.25em; border-radius: 3px; overflow-wrap: anywhere; }
pre { background: #f4f4f0; border: 1px solid #ddddd6; padding: 0.7rem; overflow-x: auto; line-height: 1.35; }
nav ol { margin: 0.3rem 0 0; padding-left: 1.4rem; columns: 2; }
nav a { color: #1f4f8f; }
table { border-collapse: collapse; margin: 0.4rem 0 1rem; width: 100%; font-size: 0.92rem; }
th, td { border: 1px solid #c9c9c2; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #efefea; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv, table.metrics { table-layout: fixed; }
table.kv td, table.metrics td { overflow-wrap: anywhere; }
table.kv th:nth-child(1) { width: 24%; }
table.kv th:nth-child(2) { width: 26%; }
table.metrics th:nth-child(1) { width: 19%; }
table.metrics th:nth-child(2) { width: 14%; }
table.files td:first-child code { white-space: nowrap; }
table.kv td:first-child { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.86em; }
table.summary td:first-child, table.summary td:nth-child(2) { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.86em; }
.words { color: #4a4a45; }
figure { margin: 0.8rem 0 1.4rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #d7d7d2; }
figcaption { color: #4a4a45; font-size: 0.9rem; margin-top: 0.35rem; }
.missing { color: #6b5b2a; background: #fbf6e4; border-left: 3px solid #d8c27a; padding: 0.4rem 0.7rem; }
details { margin: 0.4rem 0 1rem; }
summary { cursor: pointer; color: #1f4f8f; }
footer { margin-top: 2.5rem; color: #6a6a64; font-size: 0.85rem; }
`;

/** The whole page: a title, the style sheet and the body (HTML). */
export function page(title: string, bodyHtml: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // The page loads nothing: images are data URIs, the style sheet is inline, there are no scripts.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    bodyHtml,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

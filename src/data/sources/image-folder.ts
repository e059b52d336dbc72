/**
 * A Dataset from a folder of PNG, JPEG or WebP images, laid out as Keras' image_dataset_from_directory
 * and torchvision's ImageFolder read it:
 *
 *   flat       photos/a.png, photos/b.png, ...          unlabelled
 *   classes    photos/cat/a.png, photos/dog/b.png, ...  one class per subfolder, named by it
 *
 * Classes are the subfolders sorted by name (code-point order, as Python's sorted()); a class's
 * images are every image below its folder, sorted by path; examples go class by class. Hidden files
 * and folders (".DS_Store") are skipped; any other file that is not an image is an error.
 *
 * Colour, as Keras' color_mode: `channels` 3 (Keras' 'rgb') gives RGB, a greyscale image repeated in
 * each channel; 1 gives greyscale, an RGB image converted by the ITU-R 601-2 luma
 * L = (299 R + 587 G + 114 B) / 1000 as PIL's convert('L') does it. An alpha channel is dropped, not
 * composited, as PIL's convert('RGB') drops it. Without `channels` the folder's images decide: when
 * every image is greyscale (a greyscale file, or RGB with R = G = B in every pixel as decoded) it
 * loads as 1 channel, the same bytes as `channels` 1, else as RGB; `report` gets a line saying which.
 * The test is on the decoded pixels themselves, not on the file's colour type (an RGB PNG of a grey
 * scan is greyscale; a palette PNG may be either), so it is exact.
 *
 * Size: with `imageSize` [height, width] every image is resized to it, stretched without keeping its
 * aspect ratio (fit 'fill') with a bilinear kernel, as Keras' image_size does; without it every image
 * must already have the first image's size.
 *
 * Decoding: PNG by pngjs (already vaekit's PNG writer), JPEG and WebP by sharp on libuv's thread pool,
 * resizing by sharp; a few dozen files in flight, each written straight into one byte array. sharp
 * costs about 1 ms of CPU per image whatever its size, which capped 28x28 PNGs at about 1,300
 * images/s on two cores; pngjs reads them about five times as fast. EXIF orientation is not applied (as in
 * Keras). A header claiming more pixels than sharp's limit, or than the file's bytes can hold (a
 * PNG inflates at most 1032-fold, a Huffman-coded JPEG spends a bit on each 8x8 block), is refused
 * before a decoder allocates the image. A second load of an unchanged folder (same files, sizes and times) with the same options in
 * the same process returns the same Dataset: it is shared, so do not write into its values.
 */
import { createHash } from 'node:crypto';
import { realpathSync, statSync, type Stats } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname, relative, sep } from 'node:path';
import pngjs from 'pngjs';
import sharp, { type ResizeOptions } from 'sharp';
import { VaekitError } from '../../errors.js';
import { describeFsError } from '../../io/fs-errors.js';
import { arrayDataset, type Dataset } from '../dataset.js';
import { byName, entries, type Entry } from './folder-entries.js';

export interface ImageFolderOptions {
  /** 3 for RGB (as Keras' color_mode 'rgb'), 1 for greyscale; by default 1 when every image is greyscale, else 3. */
  channels?: 1 | 3;
  /** Receives one line saying which channels the images decided on, when `channels` is not given (also for a cached load). */
  report?: (line: string) => void;
  /** [height, width] to resize every image to; without it all images must share one size. */
  imageSize?: readonly [number, number];
}

const { PNG } = pngjs;
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp']);
/** Decodes in flight at once: enough to keep libuv's thread pool busy, few enough to bound memory. */
const IN_FLIGHT = 32;
/** Loaded folders kept for a second load in this process. */
const CACHE_ENTRIES = 2;
/** A loaded folder and, when its images chose the channels, the line that says so. */
interface Loaded {
  set: Dataset;
  note: string | null;
}
const cache = new Map<string, Promise<Loaded>>();

/** The images of a folder, in example order, with their classes (or null for a flat folder). */
export interface Listing {
  files: string[];
  classes: Int32Array | null;
  classNames: string[] | null;
  /** Every file's path, size and modification time, to tell a changed folder from a cached one. */
  signature: string;
}

/** Loads a folder of images (flat, or one subfolder per class) as one byte Dataset of [height, width, channels]. */
export async function loadImageFolder(dir: string, options: ImageFolderOptions = {}, listing = listImageFolder(dir)): Promise<Dataset> {
  checkFolderOptions(dir, options);
  const channels = options.channels ?? null;
  const size = options.imageSize;
  const key = createHash('sha256')
    .update(`${realpathSync(dir)}\0${channels ?? 'detect'}\0${size?.join('x') ?? ''}\0${listing.signature}`)
    .digest('hex');
  let loading = cache.get(key);
  if (loading === undefined) {
    const started = decodeAll(dir, listing, channels, size);
    loading = started;
    cache.set(key, started);
    started.catch(() => cache.delete(key));
    if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  }
  const { set, note } = await loading;
  if (note !== null) options.report?.(note);
  return set;
}

/** Throws when the channels or the image size asked for are not ones vaekit loads. */
export function checkFolderOptions(dir: string, options: ImageFolderOptions): void {
  const channels = options.channels ?? null;
  if (channels !== null && channels !== 1 && channels !== 3) {
    throw new VaekitError(`Cannot load ${dir} with ${String(channels)} channels: choose 1 (greyscale) or 3 (RGB).`);
  }
  const size = options.imageSize;
  if (size !== undefined && (size.length !== 2 || size.some((d) => !Number.isInteger(d) || d < 1))) {
    throw new VaekitError(`Cannot resize the images of ${dir} to ${size.join('x')}: the image size must be two whole numbers >= 1, height x width.`);
  }
}

/**
 * The size every image of a folder is stored at: data.imageSize, else the first image's (decoded,
 * which checks it) as [height, width].
 */
export async function folderImageSize(listing: Listing, size: readonly [number, number] | undefined): Promise<[number, number]> {
  if (size !== undefined) return [size[0], size[1]];
  const first = await decode(listing.files[0]!, undefined);
  return [first.height, first.width];
}

function notAnImage(path: string): VaekitError {
  return new VaekitError(`${path} is not a PNG, JPEG or WebP image; remove it or move it out of the image folder.`);
}

/** The images of a folder (see the top of this file); one sentence when it holds something else or nothing. */
export function listImageFolder(dir: string): Listing {
  let stats: Stats;
  try {
    stats = statSync(dir);
  } catch (err) {
    throw new VaekitError(`Cannot read the image folder ${dir}: ${describeFsError(err).replace('file', 'folder')}.`);
  }
  if (!stats.isDirectory()) throw new VaekitError(`${dir} is not a folder; pass a folder of images, or of one subfolder of images per class.`);
  const signature: string[] = [];
  /** The images among `found` (every other file is an error), noted in the signature. */
  const imagesOf = (found: Entry[]): string[] =>
    found.map((e) => {
      if (!IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) throw notAnImage(e.path);
      signature.push(`${e.path}\0${e.stats.size}\0${e.stats.mtimeMs}`);
      return e.path;
    });
  const top = entries(dir, 'image');
  const folders = top.filter((e) => e.stats.isDirectory());
  const images = imagesOf(top.filter((e) => !e.stats.isDirectory()));
  if (folders.length > 0 && images.length > 0) {
    throw new VaekitError(
      `${dir} holds both image files (${basename(images[0]!)}) and subfolders (${folders[0]!.name}); put every image in a class subfolder, or remove the subfolders for an unlabelled folder.`,
    );
  }
  if (images.length > 0) return { files: images, classes: null, classNames: null, signature: signature.join('\n') };
  if (folders.length === 0) throw new VaekitError(`${dir} holds no images (PNG, JPEG or WebP) and no class subfolders of images.`);

  const files: string[] = [];
  const classes: number[] = [];
  const imagesBelow = (folder: string): string[] => {
    const found = entries(folder, 'image');
    const below = found.filter((e) => e.stats.isDirectory()).flatMap((e) => imagesBelow(e.path));
    return [...imagesOf(found.filter((e) => !e.stats.isDirectory())), ...below].sort(byName);
  };
  folders.forEach((folder, k) => {
    const found = imagesBelow(folder.path);
    if (found.length === 0) throw new VaekitError(`The class folder ${folder.path} holds no images; add some or remove the folder.`);
    for (const file of found) {
      files.push(file);
      classes.push(k);
    }
  });
  return { files, classes: Int32Array.from(classes), classNames: folders.map((f) => f.name), signature: signature.join('\n') };
}

/** An image at its stored size and channels: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. */
interface Decoded {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Keras' resize: to exactly [height, width], the aspect ratio not kept, by a bilinear kernel. */
function stretchTo(height: number, width: number): ResizeOptions {
  return { height, width, fit: 'fill', kernel: 'linear' };
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Channels per PNG colour type (grey, RGB, palette, grey + alpha, RGBA). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** The most pixels decoded: sharp's default limitInputPixels. */
const MAX_PIXELS = 0x3fff * 0x3fff;

/**
 * The pixels an image's header claims and the most its bytes can hold, or null when the header is not
 * one of these: a PNG's deflated data inflates at most 1032 times; a Huffman-coded JPEG spends at
 * least one bit on each 8x8 block, 512 pixels a byte (twice that allowed, for a margin). WebP has no
 * such floor (a lossless one can code pixels in no bits): sharp's limit alone bounds it.
 */
function claimedPixels(bytes: Buffer): { width: number; height: number; most: number } | null {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) {
    if (bytes.length < 29 || bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
    const bitsPerPixel = bytes[24]! * (PNG_CHANNELS[bytes[25]!] ?? 4);
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), most: (1032 * 8 * bytes.length) / bitsPerPixel };
  }
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  for (let at = 2; at + 9 <= bytes.length;) {
    const marker = bytes[at + 1]!;
    if (bytes[at] !== 0xff) return null;
    if (marker === 0xff) at++; // fill byte
    else if (marker >= 0xc0 && marker <= 0xc3) return { height: bytes.readUInt16BE(at + 5), width: bytes.readUInt16BE(at + 7), most: 1024 * bytes.length };
    else at += 2 + bytes.readUInt16BE(at + 2);
  }
  return null;
}

/** Throws when an image claims more pixels than vaekit decodes or its bytes can hold, before a decoder allocates them. */
function checkClaim(bytes: Buffer, file: string): void {
  const claim = claimedPixels(bytes);
  if (claim === null) return;
  const pixels = claim.width * claim.height;
  if (pixels > MAX_PIXELS || pixels > claim.most) {
    const why = pixels > MAX_PIXELS ? `the ${MAX_PIXELS.toLocaleString('en-US')} vaekit decodes` : `its ${bytes.length} bytes can hold (it is damaged)`;
    throw new VaekitError(`${file} claims ${claim.width}x${claim.height} pixels, more than ${why}; remove or replace it.`);
  }
}

/**
 * Decodes one image file: a PNG by pngjs on this thread, at its stored size (sharp's per-image cost
 * would cap small PNGs at about 1,300 images/s on two cores); anything else, and a PNG pngjs cannot
 * read, by sharp on the thread pool, resized to `size` in the same pass (a JPEG shrinks as it decodes).
 */
async function decode(file: string, size: readonly [number, number] | undefined): Promise<Decoded> {
  try {
    const bytes = await readFile(file);
    checkClaim(bytes, file);
    const png = PNG_SIGNATURE.every((b, i) => bytes[i] === b) ? readPng(bytes) : null;
    if (png !== null) return png;
    let image = sharp(bytes);
    if (size !== undefined) image = image.resize(stretchTo(size[0], size[1]));
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    if (err instanceof VaekitError) throw err;
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').replace(/[\s.:]+$/, '');
    throw new VaekitError(`${file} could not be decoded as an image (${reason}); remove or replace it.`);
  }
}

/** A PNG decoded by pngjs as RGBA, or null where pngjs fails (sharp then decodes it, or says why not). */
function readPng(bytes: Buffer): Decoded | null {
  try {
    const png = PNG.sync.read(bytes);
    return { data: png.data, width: png.width, height: png.height, channels: 4 };
  } catch {
    return null;
  }
}

/** A decoded PNG, already in the loader's channels, stretched to [height, width] by a bilinear kernel. */
async function resize(image: Decoded, height: number, width: number): Promise<Uint8Array> {
  const raw = { width: image.width, height: image.height, channels: image.channels as 1 | 3 };
  const stretched = sharp(image.data, { raw }).resize(stretchTo(height, width));
  return stretched.toColourspace(image.channels === 1 ? 'b-w' : 'srgb').raw().toBuffer();
}

/** A decoded image written into `out` in `channels`, stretched to [height, width] where it is another size. */
async function fitInto(image: Decoded, channels: 1 | 3, height: number, width: number, out: Uint8Array): Promise<void> {
  if (image.height === height && image.width === width) {
    convertChannels(image.data, image.channels, out, channels);
    return;
  }
  const converted = new Uint8Array(image.height * image.width * channels);
  convertChannels(image.data, image.channels, converted, channels);
  out.set(await resize({ data: converted, width: image.width, height: image.height, channels }, height, width));
}

/**
 * One image file read as an image folder's images are with --image-size: checked, decoded, in
 * `channels`, stretched to [height, width]; bytes [height, width, channels].
 */
export async function loadImageFile(file: string, channels: 1 | 3, height: number, width: number): Promise<Uint8Array> {
  const out = new Uint8Array(height * width * channels);
  await fitInto(await decode(file, [height, width]), channels, height, width, out);
  return out;
}

/** How a folder's images are stored: what streamed reading needs to decode them as loading does. */
export interface FolderImages {
  /** The image files in example order. */
  files: readonly string[];
  /** The channels they are decoded in (3 while the images still decide: see loadImageFolder). */
  channels: 1 | 3;
  height: number;
  width: number;
  /** data.imageSize, or null: every image must have the first one's size. */
  resize: readonly [number, number] | null;
}

/** A decoded image `i` of a folder written into `out` as the folder stores it; one sentence when its size is not the folder's. */
async function storeImage(image: Decoded, f: FolderImages, i: number, out: Uint8Array): Promise<void> {
  if (f.resize === null && (image.height !== f.height || image.width !== f.width)) {
    throw new VaekitError(
      `${f.files[i]} is ${image.height}x${image.width} but ${f.files[0]} is ${f.height}x${f.width}; give data.imageSize HxW to resize every image to one size.`,
    );
  }
  await fitInto(image, f.channels, f.height, f.width, out);
}

/** Image `i` of a folder decoded into `out` ([height, width, channels] bytes) exactly as loading the folder stores it. */
export async function decodeFolderImage(f: FolderImages, i: number, out: Uint8Array): Promise<void> {
  await storeImage(await decode(f.files[i]!, f.resize ?? undefined), f, i, out);
}

/** Each image's id: its file's path in the folder ("cat/a.png"), with forward slashes. */
export function imageIds(dir: string, files: readonly string[]): string[] {
  return files.map((f) => relative(dir, f).split(sep).join('/'));
}

/** The line that says which channels a folder's images decided on: `colour` of them in colour, the first at `firstColour`. */
export function channelsNote(dir: string, files: readonly string[], colour: number, firstColour: number): string {
  const n = files.length;
  return colour === 0
    ? `${dir}: ${n === 1 ? 'its image is' : `all ${n} images are`} greyscale, so ${n === 1 ? 'it loads' : 'they load'} as 1 channel (data.channels 3 loads ${n === 1 ? 'it' : 'them'} as RGB)`
    : `${dir}: ${colour} of ${n} images ${colour === 1 ? 'is' : 'are'} in colour (${basename(files[firstColour]!)}${colour > 1 ? ' and more' : ''}), so the images load as RGB, 3 channels (data.channels 1 loads them as greyscale)`;
}

/**
 * The red channel of RGB pixels into `out` (one byte a pixel): how a folder whose images all turned
 * out grey keeps them, the red value being the luma of a grey pixel.
 */
export function keepRed(rgb: Uint8Array, out: Uint8Array): void {
  for (let p = 0; p < out.length; p++) out[p] = rgb[3 * p]!;
}

/** Whether an RGB image's every pixel has R = G = B. */
export function isGrey(rgb: Uint8Array): boolean {
  for (let i = 0; i < rgb.length; i += 3) if (rgb[i] !== rgb[i + 1] || rgb[i] !== rgb[i + 2]) return false;
  return true;
}

/**
 * Decodes every image into one array of `channels`; with `channels` null, as RGB, noting which images
 * are in colour, and kept as 1 channel (the red one, equal to the luma of a grey pixel) when none is.
 */
async function decodeAll(dir: string, listing: Listing, wanted: 1 | 3 | null, size: readonly [number, number] | undefined): Promise<Loaded> {
  const { files } = listing;
  const channels = wanted ?? 3;
  const first = await decode(files[0]!, size);
  const [height, width] = size ?? [first.height, first.width];
  const bytes = height * width * channels;
  if (files.length * bytes > 2 ** 32 - 1) {
    throw new VaekitError(`${dir} holds ${files.length} images of ${height}x${width}, too many bytes for one array; give a smaller data.imageSize.`);
  }
  const values = new Uint8Array(files.length * bytes);
  let colour = 0;
  let firstColour = files.length;
  const store = async (i: number, image: Decoded): Promise<void> => {
    const out = values.subarray(i * bytes, (i + 1) * bytes);
    await storeImage(image, { files, channels, height, width, resize: size ?? null }, i, out);
    if (wanted === null && !isGrey(out)) {
      colour++;
      firstColour = Math.min(firstColour, i);
    }
  };
  await store(0, first);
  let next = 1;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      try {
        await store(i, await decode(files[i]!, size));
      } catch (err) {
        next = files.length; // the other workers stop at their next image
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, files.length) }, worker));
  const names = imageIds(dir, files);
  const grey = wanted === null && colour === 0;
  let kept = values;
  if (grey) {
    kept = new Uint8Array(values.length / 3);
    keepRed(values, kept);
  }
  const note = wanted !== null ? null : channelsNote(dir, files, colour, firstColour);
  const set = arrayDataset({
    values: kept,
    shape: [height, width, grey ? 1 : channels],
    labels: listing.classes,
    labelNames: listing.classNames,
    source: dir,
    ids: (i) => names[i]!,
  });
  return { set, note };
}

/**
 * Writes an image of `from` channels (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA) into `out` as `to`
 * channels: alpha dropped, grey repeated into RGB, RGB to grey by PIL's fixed-point luma.
 */
function convertChannels(src: Uint8Array, from: number, out: Uint8Array, to: 1 | 3): void {
  if (from === to) {
    out.set(src);
    return;
  }
  const pixels = out.length / to;
  for (let p = 0, s = 0; p < pixels; p++, s += from) {
    if (from >= 3) {
      if (to === 3) {
        out[3 * p] = src[s]!;
        out[3 * p + 1] = src[s + 1]!;
        out[3 * p + 2] = src[s + 2]!;
      } else {
        out[p] = (src[s]! * 19595 + src[s + 1]! * 38470 + src[s + 2]! * 7471 + 0x8000) >> 16;
      }
    } else if (to === 3) {
      out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = src[s]!;
    } else {
      out[p] = src[s]!;
    }
  }
}

/** Output folders: a model folder is not replaced unless the user asked. */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { VaekitError } from '../errors.js';
import { CONFIG_FILE } from './bundle.js';

/** Makes `dir` (and its parents) unless it is a file or, without `overwrite`, already holds a model. */
export function prepareModelFolder(dir: string, overwrite: boolean): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new VaekitError(`The output path ${dir} exists and is not a folder.`);
  if (!overwrite && existsSync(join(dir, CONFIG_FILE))) {
    throw new VaekitError(`${dir} already holds a model; pass --overwrite to replace it or choose another --out.`);
  }
  mkdirSync(dir, { recursive: true });
}

/** Makes the folder a file will be written to; refuses when the path is a folder. */
export function prepareOutputFile(path: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) throw new VaekitError(`The output path ${path} is a folder, not a file.`);
  const parent = join(path, '..');
  if (existsSync(parent) && !statSync(parent).isDirectory()) throw new VaekitError(`Cannot write ${path}: ${parent} is not a folder.`);
  mkdirSync(parent, { recursive: true });
}

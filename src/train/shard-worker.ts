/**
 * A thread of the data-parallel step (shards.ts): builds a replica of the model over the main
 * thread's shared weights, says it is ready, then runs its shards of every step until told to stop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { JsBackend } from '../engine/js-backend.js';
import { loadNativeBackend } from '../engine/native-backend.js';
import { Vae } from '../vae/model.js';
import { TextVae } from '../vae/text/model.js';
import type { Trainable } from '../vae/trainable.js';
import { serveShards, shardRows, type ShardWorkerData } from './shards.js';

const data = workerData as ShardWorkerData;
const backend = data.backend === 'js' ? new JsBackend() : loadNativeBackend();
const model: Trainable = data.recipe.kind === 'vae' ? new Vae(data.recipe.config, { backend }) : new TextVae(data.recipe.config, { backend });
model.setPrecision(data.precision);
model.params.adopt(data.values, data.half);
model.reserve(shardRows(data.batchSize, data.shards));
parentPort!.postMessage('ready');
serveShards(model, data);

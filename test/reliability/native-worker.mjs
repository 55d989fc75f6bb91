// Trains one network with the raw native addon inside a worker thread and posts back its
// parameters: the addon must load and run in several threads at once.
import { parentPort, workerData } from 'node:worker_threads';
import { trainWithRawModel } from './raw-training.mjs';
import * as binding from '../../ts/backends/native/generated/index.js';

parentPort.postMessage(trainWithRawModel(binding.Model, workerData));

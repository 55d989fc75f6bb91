/**
 * The playground's training worker. trainInWorker (ferronet's worker helper) runs one fit from
 * freshly initialized weights to its end or to a stop after the batches in flight; the
 * playground needs to pause at an epoch's end and carry on from there (play, pause, one step),
 * so this worker keeps its own Network and Trainer and calls fit again on the same trainer,
 * which continues the shuffling and dropout streams: N epochs in pieces train exactly as one
 * fit of N epochs (the end-to-end test checks it against the shown code).
 */

import { Network, Trainer, type LayerWeights } from 'ferronet';
import { makeData, networkOptions, trainerOptions, type PlaygroundState } from './playground-state.js';

/** Messages from the page. `run` numbers each reset; messages about an older run are ignored. */
export type ToWorker =
  | { type: 'reset'; run: number; state: PlaygroundState }
  /** Train up to epoch `until` (or on and on), then stop. `command` numbers the commands of a run; updates say the latest. */
  | { type: 'play'; run: number; command: number; until?: number }
  | { type: 'pause'; run: number; command: number }
  | { type: 'step'; run: number; command: number };

/** Messages to the page. */
export type FromWorker =
  | {
      type: 'update';
      run: number;
      backend: string;
      /** Epochs trained so far. */
      epoch: number;
      /** Per-epoch training loss (`EpochLogs.loss`) and test loss (`valLoss`) of the epochs since the previous update. */
      loss: number[];
      testLoss: number[];
      weights: LayerWeights[];
      /** The latest command the worker has taken (0: none since the reset). */
      command: number;
      /** Whether more epochs are coming. */
      training: boolean;
    }
  | { type: 'failed'; run: number; message: string };

/** The most epochs a run trains. */
const MAX_EPOCHS = 100_000;
/** Updates are at most this often while training. */
const UPDATE_MS = 40;

interface Session {
  run: number;
  net: Network;
  trainer: Trainer;
  data: ReturnType<typeof makeData>;
  epoch: number;
  target: number;
  busy: boolean;
  command: number;
  pendingLoss: number[];
  pendingTestLoss: number[];
}

const scope = globalThis as unknown as {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<ToWorker>) => void): void;
};

let current: Session | null = null;
let starting: Promise<Session | null> = Promise.resolve(null);

function post(session: Session, training: boolean): void {
  const weights = session.net.getWeights();
  const message: FromWorker = {
    type: 'update',
    run: session.run,
    backend: session.net.backend,
    epoch: session.epoch,
    loss: session.pendingLoss.splice(0),
    testLoss: session.pendingTestLoss.splice(0),
    weights,
    command: session.command,
    training,
  };
  scope.postMessage(
    message,
    weights.flatMap((layer) => Object.values(layer).map((values) => values.buffer as ArrayBuffer)),
  );
}

function fail(run: number, error: unknown): void {
  scope.postMessage({ type: 'failed', run, message: error instanceof Error ? error.message : String(error) });
}

/** Trains `session` up to its target, in fits that end at an epoch's end when the target moves. */
async function train(session: Session): Promise<void> {
  if (session.busy) return;
  session.busy = true;
  const { trainInputs, train: points, testInputs, test } = session.data;
  let lastPost = performance.now();
  try {
    while (session === current && session.epoch < session.target) {
      await session.trainer.fit(trainInputs, points.y, {
        epochs: session.target - session.epoch,
        validationData: { x: testInputs, y: test.y },
        onEpochEnd: (_, logs) => {
          session.epoch += 1;
          session.pendingLoss.push(logs.loss);
          session.pendingTestLoss.push(logs.valLoss ?? Number.NaN);
          const more = session === current && session.epoch < session.target;
          if (more && performance.now() - lastPost >= UPDATE_MS) {
            post(session, true);
            lastPost = performance.now();
          }
          return more;
        },
      });
    }
    if (session === current) post(session, false);
  } catch (error) {
    if (session === current) fail(session.run, error);
  } finally {
    session.busy = false;
    if (session !== current) session.net.dispose();
  }
}

async function reset(run: number, state: PlaygroundState): Promise<Session | null> {
  const previous = current;
  current = null;
  if (previous && !previous.busy) previous.net.dispose();
  try {
    const net = await Network.create(networkOptions(state));
    const session: Session = {
      run,
      net,
      trainer: new Trainer(net, trainerOptions(state)),
      data: makeData(state),
      epoch: 0,
      target: 0,
      busy: false,
      command: 0,
      pendingLoss: [],
      pendingTestLoss: [],
    };
    current = session;
    post(session, false);
    return session;
  } catch (error) {
    fail(run, error);
    return null;
  }
}

scope.addEventListener('message', (event) => {
  const message = event.data;
  if (message.type === 'reset') {
    starting = starting.then(() => reset(message.run, message.state));
    return;
  }
  void starting.then((session) => {
    if (!session || session !== current || session.run !== message.run) return;
    session.command = message.command;
    if (message.type === 'pause') {
      session.target = session.epoch;
      return;
    }
    session.target = message.type === 'step' ? session.epoch + 1 : Math.min(message.until ?? MAX_EPOCHS, MAX_EPOCHS);
    if (session.busy) return; // the fit in progress sees the new target
    if (session.target <= session.epoch) post(session, false);
    else void train(session);
  });
});

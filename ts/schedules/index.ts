/**
 * Learning-rate schedules: the rate of each epoch, from the optimizer's base rate. `epoch`
 * counts every epoch a Trainer has trained, across `fit` calls and after resuming from a
 * checkpoint, so a schedule continues where it left off.
 */

import { checkFinite, checkInRange, checkOneOf, checkPositiveInteger, describe, fail } from '../validation.js';

/** `base * gamma^floor(epoch / stepEpochs)`. */
export interface StepSchedule {
  /** Selects this schedule. */
  name: 'step';
  /** Epochs between decays; a positive integer. */
  stepEpochs: number;
  /** Factor per step, in (0, 1]. */
  gamma: number;
}

/** `base * gamma^epoch`. */
export interface ExponentialSchedule {
  /** Selects this schedule. */
  name: 'exponential';
  /** Factor per epoch, in (0, 1]. */
  gamma: number;
}

/** Cosine annealing: `min + (base - min) (1 + cos(pi * min(epoch, epochs) / epochs)) / 2`. */
export interface CosineSchedule {
  /** Selects this schedule. */
  name: 'cosine';
  /** Epochs from the base rate down to `minLearningRate`; the rate stays there afterwards. */
  epochs: number;
  /** Non-negative, at most the base rate; default 0. */
  minLearningRate?: number;
}

/**
 * Keras's ReduceLROnPlateau: after `patience` epochs in which `monitor` did not improve by more
 * than `minDelta`, the rate is multiplied by `factor` (never below `minLearningRate`) and the
 * count starts again.
 */
export interface PlateauSchedule {
  /** Selects this schedule. */
  name: 'reduceOnPlateau';
  /** Default `'valLoss'` when the fit has validation data, else `'loss'`. */
  monitor?: 'loss' | 'valLoss';
  /** In (0, 1); default 0.1. */
  factor?: number;
  /** Epochs without improvement before a reduction; a positive integer, default 10. */
  patience?: number;
  /** How much lower than the best a value must be to count as better; default 1e-4. */
  minDelta?: number;
  /** Default 0. */
  minLearningRate?: number;
}

/** `(epoch, baseLearningRate) => rate`: any rule; it must return a positive finite number. */
export type ScheduleFunction = (epoch: number, baseLearningRate: number) => number;

/** A schedule by config, or a function. */
export type ScheduleConfig = StepSchedule | ExponentialSchedule | CosineSchedule | PlateauSchedule | ScheduleFunction;

/** The schedules that have a name (a function has none). */
export const SCHEDULES = ['step', 'exponential', 'cosine', 'reduceOnPlateau'] as const;

/** A reduceOnPlateau schedule with its defaults filled in; `'auto'` watches valLoss when a fit has validation data, else loss. */
export type ResolvedPlateauSchedule = Required<Omit<PlateauSchedule, 'monitor'>> & {
  /** `'auto'` unless given: valLoss when a fit has validation data, else loss. */
  monitor: 'loss' | 'valLoss' | 'auto';
};

/** A schedule with every default filled in. */
export type ResolvedSchedule = StepSchedule | ExponentialSchedule | Required<CosineSchedule> | ResolvedPlateauSchedule;

const ALLOWED_KEYS: Record<(typeof SCHEDULES)[number], readonly string[]> = {
  step: ['name', 'stepEpochs', 'gamma'],
  exponential: ['name', 'gamma'],
  cosine: ['name', 'epochs', 'minLearningRate'],
  reduceOnPlateau: ['name', 'monitor', 'factor', 'patience', 'minDelta', 'minLearningRate'],
};

/** Validates the `schedule` option against the optimizer's base rate; a function is kept as it is. */
export function resolveSchedule(config: unknown, baseLearningRate: number): ResolvedSchedule | ScheduleFunction {
  if (typeof config === 'function') return config as ScheduleFunction;
  if (typeof config !== 'object' || config === null) {
    fail('type', 'schedule', "a schedule config like { name: 'cosine', epochs: 20 } or a function (epoch, baseLearningRate) => rate", config);
  }
  const { name } = config as { name?: unknown };
  checkOneOf('schedule.name', name, SCHEDULES);
  for (const key of Object.keys(config)) {
    if (!ALLOWED_KEYS[name].includes(key)) fail('range', `schedule.${key}`, `one of ${ALLOWED_KEYS[name].join(', ')}`, key);
  }
  const minimum = (value: unknown): number => {
    checkFinite('schedule.minLearningRate', value);
    if (value < 0 || value > baseLearningRate) fail('range', 'schedule.minLearningRate', `a number in [0, ${baseLearningRate}] (the base learning rate)`, value);
    return value;
  };
  switch (name) {
    case 'step': {
      const { stepEpochs, gamma } = config as StepSchedule;
      checkPositiveInteger('schedule.stepEpochs', stepEpochs);
      checkInRange('schedule.gamma', gamma, 0, 1, { low: true });
      return { name, stepEpochs, gamma };
    }
    case 'exponential': {
      const { gamma } = config as ExponentialSchedule;
      checkInRange('schedule.gamma', gamma, 0, 1, { low: true });
      return { name, gamma };
    }
    case 'cosine': {
      const { epochs, minLearningRate = 0 } = config as CosineSchedule;
      checkPositiveInteger('schedule.epochs', epochs);
      return { name, epochs, minLearningRate: minimum(minLearningRate) };
    }
    case 'reduceOnPlateau': {
      const { monitor = 'auto', factor = 0.1, patience = 10, minDelta = 1e-4, minLearningRate = 0 } = config as PlateauSchedule & { monitor?: 'auto' };
      checkOneOf('schedule.monitor', monitor, ['loss', 'valLoss', 'auto'] as const);
      checkInRange('schedule.factor', factor, 0, 1, { low: true, high: true });
      checkPositiveInteger('schedule.patience', patience);
      checkFinite('schedule.minDelta', minDelta);
      if (minDelta < 0) fail('range', 'schedule.minDelta', 'a non-negative number', minDelta);
      return { name, monitor, factor, patience, minDelta, minLearningRate: minimum(minLearningRate) };
    }
  }
}

/** Where a plateau schedule stands: the best monitored value, epochs since it, and the rate now. */
export interface PlateauState {
  /** The best monitored value so far (Infinity before the first epoch). */
  best: number;
  /** Epochs since the best one, or since the last reduction. */
  wait: number;
  /** The current rate. */
  learningRate: number;
}

/** The learning rate of `epoch` under a schedule that depends on the epoch alone. */
export function scheduledRate(schedule: Exclude<ResolvedSchedule, ResolvedPlateauSchedule> | ScheduleFunction, epoch: number, base: number): number {
  if (typeof schedule === 'function') {
    const rate = schedule(epoch, base);
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
      throw new RangeError(`schedule: expected the function to return a positive finite learning rate for epoch ${epoch}, got ${describe(rate)}`);
    }
    return rate;
  }
  switch (schedule.name) {
    case 'step':
      return base * schedule.gamma ** Math.floor(epoch / schedule.stepEpochs);
    case 'exponential':
      return base * schedule.gamma ** epoch;
    case 'cosine': {
      const { epochs, minLearningRate } = schedule;
      return minLearningRate + ((base - minLearningRate) * (1 + Math.cos((Math.PI * Math.min(epoch, epochs)) / epochs))) / 2;
    }
  }
}

/**
 * Moves a plateau schedule past an epoch whose monitored value was `value`, as Keras's
 * ReduceLROnPlateau does at the end of an epoch; the new rate applies from the next epoch.
 */
export function afterPlateauEpoch(schedule: ResolvedPlateauSchedule, state: PlateauState, value: number): PlateauState {
  if (value < state.best - schedule.minDelta) return { ...state, best: value, wait: 0 };
  const wait = state.wait + 1;
  if (wait < schedule.patience) return { ...state, wait };
  const reduced = state.learningRate > schedule.minLearningRate ? Math.max(state.learningRate * schedule.factor, schedule.minLearningRate) : state.learningRate;
  return { ...state, wait: 0, learningRate: reduced };
}

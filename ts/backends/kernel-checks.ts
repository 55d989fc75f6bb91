/**
 * Argument checks for every kernel, run once at the public boundary of each backend. The
 * Rust bindings check lengths again only to protect memory; these checks are the ones users
 * see, and they are the same for all three backends.
 */

import type { KernelName, Kernels, Tensor } from './backend.js';
import { checkBoolean, checkFinite, checkSize, fail, reject } from '../validation.js';

export type KernelChecks = { [K in KernelName]: (...args: Parameters<Kernels<Tensor>[K]>) => void };

/** Builds the checks for a backend whose tensors satisfy `isOwnTensor`. */
export function kernelChecks(isOwnTensor: (value: unknown) => value is Tensor): KernelChecks {
  /** A live tensor of this backend, of `length` floats when a length is given. */
  function tensor(argument: string, value: unknown, length?: number, rule?: string): void {
    const expected =
      length === undefined ? 'a tensor of this backend' : `a tensor of this backend of length ${length} (${rule ?? ''})`;
    if (!isOwnTensor(value)) fail('type', argument, expected, value);
    if (value.disposed) reject('range', argument, expected, 'a disposed tensor');
    if (length !== undefined && value.length !== length) {
      reject('range', argument, expected, `a tensor of length ${value.length}`);
    }
  }

  /** A matrix dimension: the bindings take 32-bit unsigned integers. */
  function dimension(argument: string, value: unknown): void {
    checkSize(argument, value);
    if (value > 0xffff_ffff) fail('range', argument, 'an integer in [0, 4294967295]', value);
  }

  /**
   * An output must not share memory with another argument of the same call. Written as one
   * call per pair, with no arrays or objects to allocate: kernels are called in tight loops.
   */
  function separate(outputName: string, output: Tensor, otherName: string, other: Tensor): void {
    if (output.overlaps(other)) throw new RangeError(`${outputName}: must not share memory with ${otherName}`);
  }

  function elementwiseForward(x: Tensor, y: Tensor): void {
    tensor('x', x);
    tensor('y', y, x.length, 'length of x');
    separate('y', y, 'x', x);
  }

  function elementwiseBackward(y: Tensor, dy: Tensor, dx: Tensor): void {
    tensor('y', y);
    tensor('dy', dy, y.length, 'length of y');
    tensor('dx', dx, y.length, 'length of y');
    separate('dx', dx, 'y', y);
    separate('dx', dx, 'dy', dy);
  }

  function matrix(rows: number, cols: number): void {
    dimension('rows', rows);
    dimension('cols', cols);
  }

  function loss(predictions: Tensor, targets: Tensor, gradient: Tensor, length?: number, rule?: string): void {
    tensor('predictions', predictions, length, rule);
    tensor('targets', targets, predictions.length, 'length of predictions');
    tensor('gradient', gradient, predictions.length, 'length of predictions');
    separate('gradient', gradient, 'predictions', predictions);
    separate('gradient', gradient, 'targets', targets);
  }

  function learningRate(value: number): void {
    checkFinite('learningRate', value);
    if (value < 0) fail('range', 'learningRate', 'a finite number >= 0', value);
  }

  return {
    gemm(transA, transB, m, n, k, alpha, a, b, beta, c) {
      checkBoolean('transA', transA);
      checkBoolean('transB', transB);
      dimension('m', m);
      dimension('n', n);
      dimension('k', k);
      checkFinite('alpha', alpha);
      checkFinite('beta', beta);
      tensor('a', a, m * k, 'm*k');
      tensor('b', b, k * n, 'k*n');
      tensor('c', c, m * n, 'm*n');
      separate('c', c, 'a', a);
      separate('c', c, 'b', b);
    },
    biasAdd(rows, cols, bias, x) {
      matrix(rows, cols);
      tensor('bias', bias, cols, 'cols');
      tensor('x', x, rows * cols, 'rows*cols');
      separate('x', x, 'bias', bias);
    },
    columnSums(rows, cols, x, sums) {
      matrix(rows, cols);
      tensor('x', x, rows * cols, 'rows*cols');
      tensor('sums', sums, cols, 'cols');
      separate('sums', sums, 'x', x);
    },
    linearForward: elementwiseForward,
    linearBackward: elementwiseBackward,
    reluForward: elementwiseForward,
    reluBackward: elementwiseBackward,
    leakyReluForward(alpha, x, y) {
      checkFinite('alpha', alpha);
      elementwiseForward(x, y);
    },
    leakyReluBackward(alpha, y, dy, dx) {
      checkFinite('alpha', alpha);
      elementwiseBackward(y, dy, dx);
    },
    tanhForward: elementwiseForward,
    tanhBackward: elementwiseBackward,
    sigmoidForward: elementwiseForward,
    sigmoidBackward: elementwiseBackward,
    softmaxForward(rows, cols, x, y) {
      matrix(rows, cols);
      tensor('x', x, rows * cols, 'rows*cols');
      tensor('y', y, rows * cols, 'rows*cols');
      separate('y', y, 'x', x);
    },
    softmaxBackward(rows, cols, y, dy, dx) {
      matrix(rows, cols);
      tensor('y', y, rows * cols, 'rows*cols');
      tensor('dy', dy, rows * cols, 'rows*cols');
      tensor('dx', dx, rows * cols, 'rows*cols');
      separate('dx', dx, 'y', y);
      separate('dx', dx, 'dy', dy);
    },
    meanSquaredError(predictions, targets, gradient) {
      loss(predictions, targets, gradient);
    },
    binaryCrossEntropy(predictions, targets, gradient) {
      loss(predictions, targets, gradient);
    },
    softmaxCrossEntropy(rows, cols, predictions, targets, gradient) {
      matrix(rows, cols);
      loss(predictions, targets, gradient, rows * cols, 'rows*cols');
    },
    sgdUpdate(rate, params, gradients) {
      learningRate(rate);
      tensor('params', params);
      tensor('gradients', gradients, params.length, 'length of params');
      separate('params', params, 'gradients', gradients);
    },
    momentumUpdate(rate, momentum, params, gradients, velocity) {
      learningRate(rate);
      checkFinite('momentum', momentum);
      tensor('params', params);
      tensor('gradients', gradients, params.length, 'length of params');
      tensor('velocity', velocity, params.length, 'length of params');
      separate('params', params, 'velocity', velocity);
      separate('params', params, 'gradients', gradients);
      separate('velocity', velocity, 'gradients', gradients);
    },
    rmspropUpdate(rate, rho, epsilon, params, gradients, v) {
      learningRate(rate);
      checkFinite('rho', rho);
      checkFinite('epsilon', epsilon);
      tensor('params', params);
      tensor('gradients', gradients, params.length, 'length of params');
      tensor('v', v, params.length, 'length of params');
      separate('params', params, 'v', v);
      separate('params', params, 'gradients', gradients);
      separate('v', v, 'gradients', gradients);
    },
    adamUpdate(rate, beta1, beta2, epsilon, step, params, gradients, m, v) {
      learningRate(rate);
      checkFinite('beta1', beta1);
      checkFinite('beta2', beta2);
      checkFinite('epsilon', epsilon);
      dimension('step', step);
      if (step < 1) fail('range', 'step', 'an integer in [1, 4294967295]', step);
      tensor('params', params);
      tensor('gradients', gradients, params.length, 'length of params');
      tensor('m', m, params.length, 'length of params');
      tensor('v', v, params.length, 'length of params');
      separate('params', params, 'm', m);
      separate('params', params, 'v', v);
      separate('params', params, 'gradients', gradients);
      separate('m', m, 'v', v);
      separate('m', m, 'gradients', gradients);
      separate('v', v, 'gradients', gradients);
    },
  };
}

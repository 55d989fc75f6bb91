/** Drawing for the demo: the decision boundary with the points, and the loss curve. */

import type { Dataset } from 'ferronet';

const CLASS_COLORS = [
  [43, 108, 176], // class 0: blue
  [221, 107, 32], // class 1: orange
] as const;

/** The square region of the plane the boundary canvas shows, with a grid of points to classify. */
export interface View {
  left: number;
  top: number;
  size: number;
  /** Cells per side of the grid. */
  resolution: number;
  /** The centre of every cell, `[resolution * resolution][2]` row-major, top row first. */
  grid: Float32Array;
}

/** A view that frames the data set with a margin. */
export function viewOf(data: Dataset, resolution = 100): View {
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < data.samples; i++) {
    const px = data.x[2 * i] as number;
    const py = data.x[2 * i + 1] as number;
    minX = Math.min(minX, px);
    maxX = Math.max(maxX, px);
    minY = Math.min(minY, py);
    maxY = Math.max(maxY, py);
  }
  const size = 1.15 * Math.max(maxX - minX, maxY - minY);
  const left = (minX + maxX) / 2 - size / 2;
  const top = (minY + maxY) / 2 + size / 2;
  const grid = new Float32Array(resolution * resolution * 2);
  for (let row = 0; row < resolution; row++) {
    for (let col = 0; col < resolution; col++) {
      const cell = row * resolution + col;
      grid[2 * cell] = left + ((col + 0.5) / resolution) * size;
      grid[2 * cell + 1] = top - ((row + 0.5) / resolution) * size;
    }
  }
  return { left, top, size, resolution, grid };
}

/**
 * Paints the probability of class 1 over the view (pale blue to pale orange, `null` for a plain
 * background before any network exists) and the data set's points on top.
 */
export function drawBoundary(canvas: HTMLCanvasElement, view: View, data: Dataset, probabilities: Float32Array | null): void {
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (probabilities) {
    const cells = new ImageData(view.resolution, view.resolution);
    const [blue, orange] = CLASS_COLORS;
    for (let cell = 0; cell < probabilities.length; cell++) {
      const p = probabilities[cell] as number;
      for (let channel = 0; channel < 3; channel++) {
        const mixed = (1 - p) * (blue[channel] as number) + p * (orange[channel] as number);
        cells.data[4 * cell + channel] = 255 - 0.45 * (255 - mixed); // pale: the points must stand out
      }
      cells.data[4 * cell + 3] = 255;
    }
    // Paint the grid at its own size, then scale it up smoothly onto the canvas.
    const small = new OffscreenCanvas(view.resolution, view.resolution);
    (small.getContext('2d') as OffscreenCanvasRenderingContext2D).putImageData(cells, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(small, 0, 0, canvas.width, canvas.height);
  }
  const scale = canvas.width / view.size;
  for (let i = 0; i < data.samples; i++) {
    const [r, g, b] = CLASS_COLORS[data.y[i] as 0 | 1];
    context.beginPath();
    context.arc(((data.x[2 * i] as number) - view.left) * scale, (view.top - (data.x[2 * i + 1] as number)) * scale, 3, 0, 2 * Math.PI);
    context.fillStyle = `rgb(${r} ${g} ${b})`;
    context.fill();
    context.strokeStyle = 'white';
    context.stroke();
  }
}

/** Draws the loss of each epoch so far across the whole run's `epochs`, from 0 to the largest loss. */
export function drawLoss(canvas: HTMLCanvasElement, losses: readonly number[], epochs: number): void {
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  const { width, height } = canvas;
  const pad = 24;
  const left = 36; // room for the scale's labels
  context.clearRect(0, 0, width, height);
  context.fillStyle = '#4a5568';
  context.font = '12px system-ui, sans-serif';
  context.fillText('loss per epoch', left, 14);
  context.strokeStyle = '#cbd5e0';
  context.beginPath();
  context.moveTo(left, pad);
  context.lineTo(left, height - pad);
  context.lineTo(width - 8, height - pad);
  context.stroke();
  if (losses.length === 0) return;
  const top = losses.reduce((largest, loss) => Math.max(largest, loss), Number.MIN_VALUE);
  context.fillText(top.toFixed(2), 4, pad + 4);
  context.fillText('0', 4, height - pad + 4);
  context.fillText(String(epochs), width - 8 - 7 * String(epochs).length, height - 8);
  context.strokeStyle = '#2b6cb0';
  context.lineWidth = 1.5;
  context.beginPath();
  // One vertex per pixel column at most: a long run would otherwise draw thousands of them.
  const step = Math.max(1, Math.floor(losses.length / (width - left)));
  for (let epoch = 0; epoch < losses.length; epoch += step) {
    const px = left + (epoch / Math.max(1, epochs - 1)) * (width - 8 - left);
    const py = height - pad - Math.min(1, (losses[epoch] as number) / top) * (height - 2 * pad);
    if (epoch === 0) context.moveTo(px, py);
    else context.lineTo(px, py);
  }
  context.stroke();
  context.lineWidth = 1;
}

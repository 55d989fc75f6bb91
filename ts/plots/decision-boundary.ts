/**
 * The decision boundary of a classifier of 2-D inputs: the plane shaded by the predicted class
 * (deeper where the network is surer), the boundaries traced as smooth lines, and the data
 * points on top in their true classes' colours.
 */

import { base64, encodePng } from './png.js';
import { axes, escapeXml, fixed, legend, linearScale, PALETTE, svgDocument, type Frame } from './svg.js';

/** What to draw. */
export interface DecisionBoundaryOptions {
  /** The chart's title. */
  title: string;
  /** The points, `[samples][2]`, in the units the axes show. */
  points: Float32Array;
  /** Each point's class index. */
  labels: ArrayLike<number>;
  /** Class names, by index. */
  classes: readonly string[];
  /** The axes' titles (the two features' names). */
  axisTitles: readonly [string, string];
  /**
   * Class probabilities for positions `[m][2]` (in the points' units): `[m][1]` from a sigmoid
   * output (the probability of class 1) or `[m][classes]` from a softmax.
   */
  predict: (positions: Float32Array) => Float32Array;
}

/** Grid cells per side of the shaded plane: fine enough for smooth lines, few enough for a small file. */
const CELLS = 160;
/** More points than this are thinned (every k-th) so that the picture stays readable and small. */
const MAX_POINTS = 3000;

/** An SVG of the classifier's regions and boundaries over the data points. */
export async function decisionBoundarySvg(options: DecisionBoundaryOptions): Promise<string> {
  const { title, points, labels, classes, axisTitles, predict } = options;
  const samples = points.length / 2;
  let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < samples; i++) {
    const px = points[2 * i] as number;
    const py = points[2 * i + 1] as number;
    [minX, maxX, minY, maxY] = [Math.min(minX, px), Math.max(maxX, px), Math.min(minY, py), Math.max(maxY, py)];
  }
  const frame: Frame = { left: 80, top: 56, width: 520, height: 520 };
  const x = linearScale(minX - 0.05 * (maxX - minX), maxX + 0.05 * (maxX - minX), frame.left, frame.left + frame.width);
  const y = linearScale(minY - 0.05 * (maxY - minY), maxY + 0.05 * (maxY - minY), frame.top + frame.height, frame.top);
  const [x0, x1] = [x.ticks[0] as number, x.ticks.at(-1) as number];
  const [y0, y1] = [y.ticks[0] as number, y.ticks.at(-1) as number];

  // Class scores at the cell corners: (CELLS + 1)^2 positions, row 0 at the top.
  const side = CELLS + 1;
  const positions = new Float32Array(side * side * 2);
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      positions[2 * (row * side + col)] = x0 + ((x1 - x0) * col) / CELLS;
      positions[2 * (row * side + col) + 1] = y1 - ((y1 - y0) * row) / CELLS;
    }
  }
  const probabilities = classProbabilities(predict(positions), side * side, classes.length);

  // Each grid point is one pixel of a raster that the viewer smooths: the shading needs no rectangles.
  const cell = frame.width / CELLS;
  const png = await encodePng(side, side, shade(probabilities, classes.length, side));
  const clip = `<clipPath id="plane"><rect x="${frame.left}" y="${frame.top}" width="${frame.width}" height="${frame.height}"/></clipPath>`;
  const image =
    `<image x="${fixed(frame.left - cell / 2)}" y="${fixed(frame.top - cell / 2)}" width="${fixed(frame.width + cell)}" height="${fixed(frame.height + cell)}" ` +
    `preserveAspectRatio="none" clip-path="url(#plane)" href="data:image/png;base64,${base64(png)}"/>`;

  let body = axes(frame, x, y, axisTitles[0], axisTitles[1]);
  body += `${clip}\n${image}\n`;
  body += `<path d="${boundaryPath(probabilities, classes.length, side, frame)}" fill="none" stroke="#1f2933" stroke-width="2" stroke-linecap="round" stroke-opacity="0.85"/>\n`;
  const stride = Math.ceil(samples / MAX_POINTS);
  let dots = '';
  for (let i = 0; i < samples; i += stride) {
    const color = PALETTE[(labels[i] as number) % PALETTE.length] as string;
    dots += `<circle cx="${fixed(x(points[2 * i] as number))}" cy="${fixed(y(points[2 * i + 1] as number))}" r="4" fill="${color}" stroke="#ffffff" stroke-width="1"/>`;
    if ((i / stride) % 20 === 19) dots += '\n';
  }
  body += `${dots}\n<rect x="${frame.left}" y="${frame.top}" width="${frame.width}" height="${frame.height}" fill="none" stroke="#9aa5b1"/>\n`;
  body += legend(
    frame.left + frame.width - 8,
    frame.top + 8,
    classes.map((name, c) => ({ name, color: PALETTE[c % PALETTE.length] as string, mark: 'dot' as const })),
  );
  if (stride > 1) {
    body += `<text x="${frame.left}" y="${frame.top + frame.height + 58}" font-size="12" fill="#5f6b7a">${escapeXml(`every ${stride}th of ${samples.toLocaleString('en-US')} points shown`)}</text>\n`;
  }
  return svgDocument(frame.left + frame.width + 40, frame.top + frame.height + 70, title, body);
}

/** `[positions][classes]` probabilities, whichever output the network has. */
function classProbabilities(outputs: Float32Array, positions: number, classes: number): Float32Array {
  if (outputs.length === positions * classes) return outputs;
  // One sigmoid output: the probability of class 1, so class 0 has the rest.
  const out = new Float32Array(positions * 2);
  for (let i = 0; i < positions; i++) {
    out[2 * i + 1] = outputs[i] as number;
    out[2 * i] = 1 - (outputs[i] as number);
  }
  return out;
}

/** RGB pixels: each position in its predicted class's colour, deeper where the network is surer. */
function shade(probabilities: Float32Array, classes: number, side: number): Uint8Array {
  const colors = PALETTE.map((hex) => [1, 3, 5].map((offset) => parseInt(hex.slice(offset, offset + 2), 16)));
  const rgb = new Uint8Array(side * side * 3);
  for (let i = 0; i < side * side; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if ((probabilities[i * classes + c] as number) > (probabilities[i * classes + best] as number)) best = c;
    const confidence = ((probabilities[i * classes + best] as number) - 1 / classes) / (1 - 1 / classes);
    const amount = 0.12 + 0.33 * confidence;
    const color = colors[best % colors.length] as number[];
    for (let k = 0; k < 3; k++) rgb[3 * i + k] = Math.round(255 + ((color[k] as number) - 255) * amount);
  }
  return rgb;
}

/**
 * Marching squares over each class's margin (its probability minus the best other class's):
 * where the margin crosses zero the predicted class changes. Segments end on cell edges at the
 * linearly interpolated crossing, which is what makes the lines smooth.
 */
function boundaryPath(probabilities: Float32Array, classes: number, side: number, frame: Frame): string {
  const cells = side - 1;
  const segments: string[] = [];
  const margin = new Float32Array(side * side);
  for (let c = classes === 2 ? 1 : 0; c < classes; c++) {
    for (let i = 0; i < side * side; i++) {
      let other = -Infinity;
      for (let k = 0; k < classes; k++) if (k !== c) other = Math.max(other, probabilities[i * classes + k] as number);
      margin[i] = (probabilities[i * classes + c] as number) - other;
    }
    for (let row = 0; row < cells; row++) {
      for (let col = 0; col < cells; col++) {
        const corners = [row * side + col, row * side + col + 1, (row + 1) * side + col + 1, (row + 1) * side + col];
        const values = corners.map((corner) => margin[corner] as number);
        const crossings: [number, number][] = [];
        // Edges: top (0-1), right (1-2), bottom (2-3), left (3-0); corner positions in cell units.
        const at = [
          [col, row],
          [col + 1, row],
          [col + 1, row + 1],
          [col, row + 1],
        ] as const;
        for (let edge = 0; edge < 4; edge++) {
          const a = values[edge] as number;
          const b = values[(edge + 1) % 4] as number;
          if (a > 0 !== b > 0) {
            const t = a / (a - b);
            const [ax, ay] = at[edge] as readonly [number, number];
            const [bx, by] = at[(edge + 1) % 4] as readonly [number, number];
            crossings.push([ax + t * (bx - ax), ay + t * (by - ay)]);
          }
        }
        // Two crossings make one segment; four (a saddle) make two, paired around the cell.
        for (let k = 0; k + 1 < crossings.length; k += 2) {
          const [p, q] = [crossings[k] as [number, number], crossings[k + 1] as [number, number]];
          const px = (u: number): string => fixed(frame.left + (u * frame.width) / cells);
          const py = (v: number): string => fixed(frame.top + (v * frame.height) / cells);
          segments.push(`M${px(p[0])} ${py(p[1])}L${px(q[0])} ${py(q[1])}`);
        }
      }
    }
  }
  return segments.join('');
}

/** Loss and accuracy per epoch, training and validation, side by side in one SVG. */

import type { History } from '../trainer.js';
import { axes, escapeXml, fixed, legend, linearScale, PALETTE, svgDocument, type Frame, type LegendEntry, type Scale } from './svg.js';

/** What to draw: a fit's history, and whether its accuracy means anything (not for regression). */
export interface TrainingCurvesOptions {
  /** The chart's title, e.g. the data set and the network. */
  title: string;
  /** Per-epoch figures. */
  history: History;
  /** Draw the accuracy panel (classification) or only the loss (regression). */
  accuracy: boolean;
  /** The 1-based epoch whose weights were kept, when not the last: marked with a vertical line. */
  keptEpoch?: number;
}

/** Past this many epochs a curve is thinned to evenly spaced epochs; the eye sees no difference. */
const MAX_POINTS = 1000;
/** Up to this many epochs each one gets a dot, so that short runs read as measurements. */
const MAX_MARKERS = 30;

const TRAIN_COLOR = PALETTE[0] as string;
const VALIDATION_COLOR = PALETTE[3] as string;
const KEPT_COLOR = '#7b8794';

/** An SVG of the loss (and accuracy) curves of a fit. */
export function trainingCurvesSvg({ title, history, accuracy, keptEpoch }: TrainingCurvesOptions): string {
  const panels = accuracy ? 2 : 1;
  const panelWidth = 460;
  const width = 40 + panels * (panelWidth + 40);
  const height = 416;
  let body = '';
  const panel = (index: number, name: string, train: number[], validation: number[], percent: boolean): void => {
    const frame: Frame = { left: 80 + index * (panelWidth + 40), top: 72, width: panelWidth - 80, height: 276 };
    body += lineChart(frame, name, history.epochs, train, validation, percent, keptEpoch);
  };
  panel(0, 'loss', history.loss, history.valLoss, false);
  if (accuracy) panel(1, 'accuracy', history.accuracy, history.valAccuracy, true);
  return svgDocument(width, height, title, body);
}

function lineChart(frame: Frame, name: string, epochs: number, train: number[], validation: number[], percent: boolean, keptEpoch: number | undefined): string {
  const values = [...train, ...validation];
  const low = percent ? Math.min(...values) : Math.min(0, ...values);
  const high = percent ? Math.min(1, Math.max(...values)) : Math.max(...values);
  const x = linearScale(1, Math.max(epochs, 2), frame.left, frame.left + frame.width, 6);
  const y = linearScale(low, high, frame.top + frame.height, frame.top, 5);
  const format = percent ? (v: number): string => `${(v * 100).toFixed(Math.max(0, -Math.floor(Math.log10(y.step * 100) + 1e-9)))}%` : undefined;
  let out = axes(frame, x, y, 'epoch', '', format);
  out += `<text x="${frame.left}" y="${frame.top - 10}" font-size="14" font-weight="bold">${escapeXml(name === 'loss' ? 'Loss' : 'Accuracy')}</text>\n`;
  const entries: LegendEntry[] = [{ name: 'training', color: TRAIN_COLOR, mark: 'line' }];
  out += series(train, x, y, TRAIN_COLOR, false);
  if (validation.length > 0) {
    entries.push({ name: 'validation', color: VALIDATION_COLOR, mark: 'dashed' });
    out += series(validation, x, y, VALIDATION_COLOR, true);
  }
  if (keptEpoch !== undefined) {
    const px = fixed(x(keptEpoch));
    out += `<line x1="${px}" x2="${px}" y1="${frame.top}" y2="${frame.top + frame.height}" stroke="${KEPT_COLOR}" stroke-width="1.5" stroke-dasharray="2 3"/>\n`;
    entries.push({ name: `kept (epoch ${keptEpoch})`, color: KEPT_COLOR, mark: 'dotted' });
  }
  // Put the legend where the curves are not: loss falls (legend top right), accuracy rises (bottom right).
  const legendTop = name === 'loss' ? frame.top + 8 : frame.top + frame.height - 8 - (10 + 20 * entries.length);
  return out + legend(frame.left + frame.width - 8, legendTop, entries);
}

function series(values: number[], x: Scale, y: Scale, color: string, dashed: boolean): string {
  const stride = Math.max(1, Math.ceil(values.length / MAX_POINTS));
  const kept = values.flatMap((value, i) => (i % stride === 0 || i === values.length - 1 ? [[i + 1, value] as const] : []));
  const points = kept.map(([epoch, value]) => `${fixed(x(epoch))},${fixed(y(value))}`).join(' ');
  let out = `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"${dashed ? ' stroke-dasharray="7 4"' : ''}/>\n`;
  if (values.length <= MAX_MARKERS) {
    out += kept.map(([epoch, value]) => `<circle cx="${fixed(x(epoch))}" cy="${fixed(y(value))}" r="3.5" fill="${color}" stroke="#ffffff" stroke-width="1.5"/>`).join('') + '\n';
  }
  return out;
}

/** What every ferronet chart shares: the look (fonts, colours), axes with nice ticks, a legend. */

/** Text is escaped here, once, so that column and class names cannot break the markup. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Coordinates with two decimals: enough for the eye, small files. */
export function fixed(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Series and class colours (Tableau 10): distinct, colour-blind friendly, calm. */
export const PALETTE = ['#4e79a7', '#e15759', '#59a14f', '#f28e2b', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];

const INK = '#1f2933';
const MUTED = '#5f6b7a';
const GRID = '#e4e7eb';

/** Opens a chart: white background, the font for every text in it, and a title. */
export function svgDocument(width: number, height: number, title: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>\n` +
    `<g font-family="DejaVu Sans, Helvetica, Arial, sans-serif" fill="${INK}">\n` +
    `<text x="${width / 2}" y="28" font-size="17" font-weight="bold" text-anchor="middle">${escapeXml(title)}</text>\n` +
    `${body}</g>\n</svg>\n`
  );
}

/** Ticks at round numbers (1, 2 or 5 times a power of ten) covering `[low, high]`, about `count` of them. */
export function niceTicks(low: number, high: number, count = 5): { ticks: number[]; low: number; high: number; step: number } {
  if (!(high > low)) {
    const pad = Math.abs(low) > 0 ? Math.abs(low) * 0.1 : 1;
    return niceTicks(low - pad, high + pad, count);
  }
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((multiple) => multiple * power >= rough) ?? 10) * power;
  const first = Math.floor(low / step + 1e-9) * step;
  const last = Math.ceil(high / step - 1e-9) * step;
  // Counted in steps and rounded to 12 digits, so that 3 x 0.1 is written 0.3.
  const ticks = Array.from({ length: Math.round((last - first) / step) + 1 }, (_, i) => Number((first + i * step).toPrecision(12)) || 0);
  return { ticks, low: first, high: last, step };
}

/** Past this many decimals a tick label is written with an exponent: 1.5e-7, not 0.00000015. */
const MOST_DECIMALS = 6;

/** A tick label with as many decimals (or, for tiny steps, significant digits) as the step needs. */
export function tickLabel(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  if (decimals <= MOST_DECIMALS) return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  if (value === 0) return '0';
  // The digits from the value's leading one down to the step's (toExponential takes 0 to 100).
  const digits = Math.min(100, Math.max(0, Math.floor(Math.log10(Math.abs(value)) + 1e-9) + decimals));
  return value.toExponential(digits);
}

/** A linear map from data values to pixels. */
export interface Scale {
  /** Data value to pixel. */
  (value: number): number;
  /** The data values of the ticks. */
  ticks: number[];
  /** The spacing of the ticks, for their labels. */
  step: number;
}

/** A scale over nice ticks covering `[low, high]`, onto pixels `[from, to]`. */
export function linearScale(low: number, high: number, from: number, to: number, tickCount = 5): Scale {
  const nice = niceTicks(low, high, tickCount);
  const scale = ((value: number) => from + ((value - nice.low) / (nice.high - nice.low)) * (to - from)) as Scale;
  scale.ticks = nice.ticks;
  scale.step = nice.step;
  return scale;
}

/** Where a plot's data area sits in the picture. */
export interface Frame {
  /** Left edge. */
  left: number;
  /** Top edge. */
  top: number;
  /** Width of the data area. */
  width: number;
  /** Height of the data area. */
  height: number;
}

/** Grid lines, tick labels and axis titles around `frame`; `format` writes the y tick labels. */
export function axes(frame: Frame, x: Scale, y: Scale, xTitle: string, yTitle: string, format = (v: number) => tickLabel(v, y.step)): string {
  const { left, top, width, height } = frame;
  const bottom = top + height;
  const parts: string[] = [];
  for (const tick of y.ticks) {
    const py = fixed(y(tick));
    parts.push(`<line x1="${left}" x2="${left + width}" y1="${py}" y2="${py}" stroke="${GRID}"/>`);
    parts.push(`<text x="${left - 8}" y="${py}" dy="0.32em" font-size="12" text-anchor="end" fill="${MUTED}">${escapeXml(format(tick))}</text>`);
  }
  for (const tick of x.ticks) {
    const px = fixed(x(tick));
    parts.push(`<line x1="${px}" x2="${px}" y1="${top}" y2="${bottom}" stroke="${GRID}"/>`);
    parts.push(`<text x="${px}" y="${bottom + 18}" font-size="12" text-anchor="middle" fill="${MUTED}">${escapeXml(tickLabel(tick, x.step))}</text>`);
  }
  parts.push(`<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#9aa5b1"/>`);
  parts.push(`<text x="${left + width / 2}" y="${bottom + 40}" font-size="13" text-anchor="middle">${escapeXml(xTitle)}</text>`);
  const cy = top + height / 2;
  parts.push(`<text transform="translate(${left - 52} ${cy}) rotate(-90)" font-size="13" text-anchor="middle">${escapeXml(yTitle)}</text>`);
  return parts.join('\n') + '\n';
}

/** One legend entry: a line (dashed or not) or a filled dot, then its name. */
export interface LegendEntry {
  /** What the entry stands for. */
  name: string;
  /** Its colour. */
  color: string;
  /** `line`, `dashed` or `dotted` for series and markers, `dot` for classes of points. */
  mark: 'line' | 'dashed' | 'dotted' | 'dot';
}

const DASHES: Record<LegendEntry['mark'], string> = { line: '', dashed: ' stroke-dasharray="5 3"', dotted: ' stroke-dasharray="2 3"', dot: '' };

/** A boxed legend with its top-right corner at `(right, top)`. */
export function legend(right: number, top: number, entries: readonly LegendEntry[]): string {
  const rowHeight = 20;
  const width = 44 + Math.max(...entries.map((entry) => estimateTextWidth(entry.name, 12)));
  const height = 10 + rowHeight * entries.length;
  const left = right - width;
  const rows = entries.map((entry, i) => {
    const cy = top + 5 + rowHeight * i + rowHeight / 2;
    const mark =
      entry.mark === 'dot'
        ? `<circle cx="${left + 18}" cy="${cy}" r="5" fill="${entry.color}" stroke="#ffffff"/>`
        : `<line x1="${left + 8}" x2="${left + 28}" y1="${cy}" y2="${cy}" stroke="${entry.color}" stroke-width="2.5"${DASHES[entry.mark]}/>`;
    return `${mark}<text x="${left + 36}" y="${cy}" dy="0.32em" font-size="12">${escapeXml(entry.name)}</text>`;
  });
  return `<rect x="${left}" y="${top}" width="${width}" height="${height}" rx="4" fill="#ffffff" fill-opacity="0.9" stroke="#cbd2d9"/>\n${rows.join('\n')}\n`;
}

/** Roughly how wide `text` renders, for sizing boxes without a font engine. */
export function estimateTextWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

// Canvas drawing of the playground's live views: the cost chart, a decision boundary, a histogram.
// Each function redraws its canvas completely from the data it is given (the latest state).
import {costRange, divergedLabel, formatNumber, linearTicks, logTicks, tickLabel} from "./pure.js";

export const SCHEME_COLORS = ["#1f6fb4", "#e8710a", "#2a9d3c", "#c2185b"];
const CLASS_COLORS = [[232, 113, 10], [31, 111, 180]];  // class 0 orange, class 1 blue
const MUTED = "#6b7785", GRID = "#e4e8ee", THEORY = "#d62728";
const FONT = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

// Size the canvas' backing store to its CSS box (sharp on high-dpi screens); returns the context in CSS pixels.
function prepare(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width, height = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = FONT;
  return {ctx, width, height};
}

// Runs of consecutive non-null points, so a line stops where no seed is alive.
function runs(xs, ys) {
  const out = [];
  let run = [];
  xs.forEach((x, i) => {
    const y = ys[i];
    if (y === null || y === undefined || !(y > 0)) { if (run.length) out.push(run); run = []; }
    else run.push([x, y]);
  });
  if (run.length) out.push(run);
  return out;
}

// Training cost per scheme (mean line, min..max band over seeds) and test cost (mean, dashed), log y axis.
// The y range fits the schemes none of whose seeds diverged (a diverging seed's cost reaches 1e300 first
// and would flatten every other curve); a diverged scheme's curve may leave the chart and is labelled
// "diverged at iteration N" where it diverged. `schemes`: the state's schemes (their diverged_at).
// Returns the y range, its tick labels and each scheme's label.
export function drawCost(canvas, history, testHistory, schemes = []) {
  const {ctx, width, height} = prepare(canvas);
  const iterations = history ? history.iterations : [];
  const curves = history ? history.schemes : [];
  const testIterations = testHistory ? testHistory.iterations : [];
  const testCurves = testHistory ? testHistory.schemes : [];
  const labels = curves.map((_, k) => schemes[k] ? divergedLabel(schemes[k].diverged_at) : null);
  const valuesOf = k => [curves[k].low, curves[k].high, curves[k].mean, testCurves[k] ? testCurves[k].mean : []].flat();
  const healthy = curves.map((_, k) => k).filter(k => !labels[k]);
  const all = curves.flatMap((_, k) => valuesOf(k)).filter(v => v > 0 && Number.isFinite(v));
  const fitted = healthy.length ? healthy.flatMap(valuesOf).filter(v => v > 0 && Number.isFinite(v)) : all;
  const xMax = Math.max(1, ...iterations.slice(-1), ...testIterations.slice(-1));
  const [lo, hi] = costRange(fitted.length ? fitted : all);
  const yTicks = logTicks(lo, hi);
  const pad = {left: 10 + Math.max(24, ...yTicks.map(t => ctx.measureText(tickLabel(t)).width)), right: 12, top: 10, bottom: 28};
  const plotW = width - pad.left - pad.right, plotH = height - pad.top - pad.bottom;
  const X = x => pad.left + (x / xMax) * plotW;
  const Y = y => pad.top + (1 - (Math.log(y) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * plotH;

  ctx.strokeStyle = GRID; ctx.fillStyle = MUTED; ctx.lineWidth = 1;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const t of yTicks) {
    ctx.beginPath(); ctx.moveTo(pad.left, Y(t)); ctx.lineTo(width - pad.right, Y(t)); ctx.stroke();
    ctx.fillText(tickLabel(t), pad.left - 6, Y(t));
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const t of linearTicks(0, xMax, 5)) {
    ctx.beginPath(); ctx.moveTo(X(t), pad.top); ctx.lineTo(X(t), pad.top + plotH); ctx.stroke();
    ctx.fillText(tickLabel(t), X(t), pad.top + plotH + 6);
  }
  ctx.fillStyle = MUTED; ctx.textAlign = "right";
  ctx.fillText("iteration", width - pad.right, height - 11);
  ctx.save();
  ctx.beginPath(); ctx.rect(pad.left, pad.top, plotW, plotH); ctx.clip();
  curves.forEach((curve, k) => {
    const color = SCHEME_COLORS[k % SCHEME_COLORS.length];
    ctx.fillStyle = color; ctx.globalAlpha = 0.15;
    let band = [];  // indices of a run of points where some seed is alive
    const fill = () => {
      if (band.length) {
        ctx.beginPath();
        band.forEach((i, j) => (j ? ctx.lineTo : ctx.moveTo).call(ctx, X(iterations[i]), Y(curve.high[i])));
        [...band].reverse().forEach(i => ctx.lineTo(X(iterations[i]), Y(curve.low[i])));
        ctx.closePath(); ctx.fill();
      }
      band = [];
    };
    iterations.forEach((_, i) => { if (curve.low[i] > 0 && curve.high[i] > 0) band.push(i); else fill(); });
    fill();
    ctx.globalAlpha = 1; ctx.strokeStyle = color; ctx.lineWidth = 2;
    for (const run of runs(iterations, curve.mean)) line(ctx, run, X, Y);
    ctx.setLineDash([5, 4]); ctx.lineWidth = 1.5;
    if (testCurves[k]) for (const run of runs(testIterations, testCurves[k].mean)) line(ctx, run, X, Y);
    ctx.setLineDash([]);
  });
  ctx.restore();
  ctx.strokeStyle = "#b8c0cc";
  ctx.strokeRect(pad.left + 0.5, pad.top + 0.5, plotW, plotH);
  let row = 0;  // one line per diverged scheme, from the top, at the iteration where it diverged
  labels.forEach((label, k) => {
    if (!label) return;
    const at = Math.min(...schemes[k].diverged_at.filter(a => a !== null && a !== undefined));
    const x = X(Math.min(at, xMax)), y = pad.top + 8 + 14 * row++;
    ctx.fillStyle = ctx.strokeStyle = SCHEME_COLORS[k % SCHEME_COLORS.length];
    ctx.beginPath(); ctx.moveTo(x, pad.top); ctx.lineTo(x, pad.top + 6); ctx.lineWidth = 2; ctx.stroke();
    const text = `${schemes[k].init}: ${label}`, w = ctx.measureText(text).width;
    ctx.textBaseline = "middle";
    ctx.textAlign = x + 4 + w > width - pad.right ? "right" : "left";
    const tx = ctx.textAlign === "right" ? Math.max(x - 4, pad.left + 4 + w) : x + 4;
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    ctx.fillRect(ctx.textAlign === "right" ? tx - w - 2 : tx - 2, y - 7, w + 4, 14);
    ctx.fillStyle = SCHEME_COLORS[k % SCHEME_COLORS.length];
    ctx.fillText(text, tx, y);
  });
  if (!all.length) {
    ctx.fillStyle = MUTED; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText("press Play or Step to train", pad.left + plotW / 2, pad.top + plotH / 2);
  }
  return {range: [lo, hi], ticks: yTicks.map(tickLabel), labels};  // what was drawn (for the tests)
}

function line(ctx, points, X, Y) {
  ctx.beginPath();
  points.forEach(([x, y], j) => (j ? ctx.lineTo : ctx.moveTo).call(ctx, X(x), Y(y)));
  if (points.length === 1) ctx.lineTo(X(points[0][0]) + 1, Y(points[0][1]));
  ctx.stroke();
}

// P(class 1) shaded from orange (0) through white (0.5) to blue (1), under the training and test points.
export function drawBoundary(canvas, boundary, points, extentHint) {
  const {ctx, width, height} = prepare(canvas);
  const extent = boundary ? boundary.extent : extentHint;
  if (boundary) {
    const n = boundary.resolution;
    const image = new ImageData(n, n);
    boundary.probability.forEach((row, r) => row.forEach((p, c) => {
      const offset = ((n - 1 - r) * n + c) * 4;  // rows come from the bottom; image rows from the top
      const [rgb, strength] = p >= 0.5 ? [CLASS_COLORS[1], (p - 0.5) * 2] : [CLASS_COLORS[0], (0.5 - p) * 2];
      const s = 0.62 * Math.sqrt(strength);  // white at 0.5 (undecided), full colour when sure
      for (let i = 0; i < 3; i++) image.data[offset + i] = Math.round(255 + (rgb[i] - 255) * s);
      image.data[offset + 3] = 255;
    }));
    const tile = document.createElement("canvas");
    tile.width = tile.height = n;
    tile.getContext("2d").putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    const cellW = width / (n - 1), cellH = height / (n - 1);  // grid values sit at cell centres on the box edges
    ctx.drawImage(tile, -cellW / 2, -cellH / 2, width + cellW, height + cellH);
    ctx.strokeStyle = "rgba(31, 41, 51, 0.55)"; ctx.lineWidth = 1.2;
    ctx.beginPath();
    for (const [[c0, r0], [c1, r1]] of contour(boundary.probability, 0.5)) {
      ctx.moveTo(c0 * cellW, height - r0 * cellH);
      ctx.lineTo(c1 * cellW, height - r1 * cellH);
    }
    ctx.stroke();
  } else {
    ctx.fillStyle = "#f1f3f6"; ctx.fillRect(0, 0, width, height);
  }
  if (!extent || !points) return;
  const [x0, x1, y0, y1] = extent;
  const X = x => (x - x0) / (x1 - x0) * width, Y = y => (1 - (y - y0) / (y1 - y0)) * height;
  const radius = Math.max(1.8, Math.min(3.2, 900 / Math.sqrt(points.train.y.length + 1) / 40));
  for (const [set, filled] of [[points.train, true], [points.test, false]]) {
    set.X.forEach(([x, y], i) => {
      const rgb = CLASS_COLORS[set.y[i] ? 1 : 0];
      ctx.beginPath(); ctx.arc(X(x), Y(y), radius, 0, 2 * Math.PI);
      if (filled) {
        ctx.fillStyle = `rgb(${rgb})`; ctx.fill();
        ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.lineWidth = 0.8; ctx.stroke();
      } else {
        ctx.strokeStyle = `rgb(${rgb})`; ctx.lineWidth = 1.4; ctx.stroke();
      }
    });
  }
}

// The mean of a histogram's values, from its bin centres.
export function histogramMean({edges, counts}) {
  let total = 0, sum = 0;
  counts.forEach((count, i) => { total += count; sum += count * (edges[i] + edges[i + 1]) / 2; });
  return total ? sum / total : 0;
}

// Segments [[col, row], [col, row]] (fractional grid indices) where `grid` crosses `level`: marching
// squares, each cell's crossings on its edges joined in pairs.
export function contour(grid, level) {
  const segments = [];
  for (let r = 0; r + 1 < grid.length; r++) {
    for (let c = 0; c + 1 < grid[r].length; c++) {
      const corners = [[c, r, grid[r][c]], [c + 1, r, grid[r][c + 1]], [c + 1, r + 1, grid[r + 1][c + 1]], [c, r + 1, grid[r + 1][c]]];
      const crossings = [];
      corners.forEach(([x0, y0, a], i) => {
        const [x1, y1, b] = corners[(i + 1) % 4];
        if ((a < level) !== (b < level)) {
          const t = (level - a) / (b - a);
          crossings.push([x0 + t * (x1 - x0), y0 + t * (y1 - y0)]);
        }
      });
      for (let i = 0; i + 1 < crossings.length; i += 2) segments.push([crossings[i], crossings[i + 1]]);
    }
  }
  return segments;
}

// One histogram (edges, counts) with the theory's expected spread: red dashed lines at centre +- theory_std.
export function drawHistogram(canvas, histogram, color, center = 0) {
  const {ctx, width, height} = prepare(canvas);
  const pad = {left: 6, right: 6, top: 4, bottom: 16};
  if (!histogram || !histogram.counts || !histogram.counts.length) return;
  const {edges, counts, std, theory_std: theory} = histogram;
  let lo = edges[0], hi = edges[edges.length - 1];
  for (const s of [std, theory]) {
    if (s > 0 && Number.isFinite(s)) { lo = Math.min(lo, center - 1.1 * s); hi = Math.max(hi, center + 1.1 * s); }
  }
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  const plotW = width - pad.left - pad.right, plotH = height - pad.top - pad.bottom;
  const X = x => pad.left + (x - lo) / (hi - lo) * plotW;
  const top = Math.max(...counts) || 1;
  ctx.fillStyle = color;
  counts.forEach((count, i) => {
    if (!count) return;
    const h = Math.max(1, count / top * plotH);
    const x = X(edges[i]), w = Math.max(1, X(edges[i + 1]) - x - 0.5);
    ctx.fillRect(x, pad.top + plotH - h, w, h);
  });
  ctx.strokeStyle = "#b8c0cc"; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(pad.left, pad.top + plotH + 0.5); ctx.lineTo(width - pad.right, pad.top + plotH + 0.5); ctx.stroke();
  if (theory > 0 && Number.isFinite(theory)) {
    ctx.strokeStyle = THEORY; ctx.setLineDash([4, 3]); ctx.lineWidth = 1.5;
    for (const x of [center - theory, center + theory]) {
      ctx.beginPath(); ctx.moveTo(X(x), pad.top); ctx.lineTo(X(x), pad.top + plotH); ctx.stroke();
    }
    ctx.setLineDash([]);
  }
  ctx.fillStyle = MUTED; ctx.textBaseline = "top";
  ctx.textAlign = "left"; ctx.fillText(tickLabel(Number(lo.toPrecision(2))), pad.left, pad.top + plotH + 3);
  ctx.textAlign = "right"; ctx.fillText(tickLabel(Number(hi.toPrecision(2))), width - pad.right, pad.top + plotH + 3);
}

// "std 0.53 · theory 0.5": the numbers a histogram's caption shows (`measure`: "std", or "rms" for dL/dz,
// whose theory is a root mean square).
export function stdCaption(histogram, measure = "std") {
  if (!histogram) return "";
  const short = value => value === null || value === undefined || !Number.isFinite(value) ? "n/a"
    : formatNumber(Number(value.toPrecision(2)));
  return `${measure} ${short(histogram[measure])} · theory ${histogram.theory_std > 0 ? short(histogram.theory_std) : "n/a"}`;
}


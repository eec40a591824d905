// Canvas drawing of the playground's live views: the cost chart, a decision boundary, a histogram.
// Each function redraws its canvas completely from the data it is given (the latest state).
import {formatNumber, linearTicks, logTicks, tickLabel} from "./pure.js";

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
export function drawCost(canvas, history, testHistory) {
  const {ctx, width, height} = prepare(canvas);
  const pad = {left: 48, right: 12, top: 10, bottom: 28};
  const iterations = history ? history.iterations : [];
  const curves = history ? history.schemes : [];
  const values = [];
  curves.forEach(c => [c.low, c.high, c.mean].forEach(s => s.forEach(v => { if (v > 0) values.push(v); })));
  const testIterations = testHistory ? testHistory.iterations : [];
  const testCurves = testHistory ? testHistory.schemes : [];
  testCurves.forEach(c => c.mean.forEach(v => { if (v > 0) values.push(v); }));
  const xMax = Math.max(1, ...iterations.slice(-1), ...testIterations.slice(-1));
  let lo = values.length ? Math.min(...values) : 0.01, hi = values.length ? Math.max(...values) : 1;
  lo /= 1.3; hi *= 1.3;
  if (hi / lo < 10) { const mid = Math.sqrt(lo * hi); lo = mid / Math.sqrt(10); hi = mid * Math.sqrt(10); }
  const plotW = width - pad.left - pad.right, plotH = height - pad.top - pad.bottom;
  const X = x => pad.left + (x / xMax) * plotW;
  const Y = y => pad.top + (1 - (Math.log(y) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * plotH;

  ctx.strokeStyle = GRID; ctx.fillStyle = MUTED; ctx.lineWidth = 1;
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const t of logTicks(lo, hi)) {
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
  if (!values.length) {
    ctx.fillStyle = MUTED; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText("press Play or Step to train", pad.left + plotW / 2, pad.top + plotH / 2);
  }
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


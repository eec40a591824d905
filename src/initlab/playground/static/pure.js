// Pure helpers of the playground page (no DOM): spec strings, slider scales, number formats, axis ticks.
// Kept apart so the browser test can check them directly.

// "normal(std=10, mean=0)" -> {name: "normal", args: {std: "10", mean: "0"}}; null when it is not of that form.
export function parseSpec(spec) {
  const match = /^\s*([A-Za-z_][\w]*)\s*(?:\((.*)\))?\s*$/.exec(spec || "");
  if (!match) return null;
  const args = {};
  for (const part of (match[2] || "").split(",")) {
    if (!part.trim()) continue;
    const [key, ...value] = part.split("=");
    if (!value.length) return null;
    args[key.trim()] = value.join("=").trim();
  }
  return {name: match[1], args};
}

// The spec of scheme `name` with the arguments that differ from their defaults (initlab's own form);
// numbers are written short (0.01, 10), other values (mode=fan_out) as they are.
export function formatSpec(name, args, defaults = {}) {
  const numeric = value => value !== "" && value !== null && Number.isFinite(Number(value));
  const parts = Object.entries(args)
    .filter(([key, value]) => value !== undefined && value !== null && value !== "")
    .filter(([key, value]) => String(value) !== String(defaults[key]) &&
      !(numeric(value) && numeric(defaults[key]) && Number(value) === Number(defaults[key])))
    .map(([key, value]) => `${key}=${numeric(value) ? specNumber(Number(value)) : value}`);
  return parts.length ? `${name}(${parts.join(", ")})` : name;
}

// Two significant digits, no exponent for the values sliders produce (0.01, 1.5, 10, 250).
export function roundNice(value) {
  return Number(Number(value).toPrecision(2));
}

// The page's one number format: 3 significant digits, exponent form below 1e-3 and from 1e4 on
// (0.693, 250, 1000, 1.5e4, 2.3e6, -4e6, 1e-5); no trailing zeros.
export function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  const rounded = Number(value.toPrecision(3)), abs = Math.abs(rounded);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e4)) {
    const [mantissa, power] = rounded.toExponential(2).split("e");
    return `${Number(mantissa)}e${Number(power)}`;
  }
  return String(rounded);
}

// A number in a spec string: exact enough to reproduce the setting (6 significant digits), short.
export function specNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) return value.toExponential().replace("e+", "e");
  return String(Number(value.toPrecision(6)));
}

// A slider over [min, max], logarithmic if `log` (by default: when the range is positive and spans two decades).
export function sliderScale(min, max, log = min > 0 && max / min >= 100, steps = 1000) {
  const lo = log ? Math.log(min) : min, hi = log ? Math.log(max) : max;
  return {
    log, steps,
    toPosition(value) {
      const v = Math.min(Math.max(value, min), max);
      return Math.round(((log ? Math.log(v) : v) - lo) / (hi - lo) * steps);
    },
    fromPosition(position) {
      const t = lo + (hi - lo) * position / steps;
      return Math.min(Math.max(roundNice(log ? Math.exp(t) : t), min), max);
    },
  };
}

// The cost as the page shows it: 4 decimals (ln 2 -> "0.6931"), exponent form (4 significant digits)
// outside 1e-4..1e4, or why there is none.
export function formatCost(cost) {
  if (cost === null || cost === undefined) return "diverged";
  if (cost !== 0 && (Math.abs(cost) < 1e-4 || Math.abs(cost) >= 1e4)) return cost.toExponential(3).replace("e+", "e");
  return cost.toFixed(4);
}

// The y range [lo, hi] of the log cost chart: the positive finite values of the curves it is fitted to,
// widened a little and to at most `maxHi` (curves above leave the chart), at least one decade tall.
export function costRange(values, maxHi = 1e6) {
  const shown = values.filter(v => v > 0 && Number.isFinite(v));
  let lo = shown.length ? Math.min(...shown) : 0.01, hi = shown.length ? Math.max(...shown) : 1;
  lo /= 1.3; hi = Math.min(hi * 1.3, maxHi);
  if (!(hi > lo)) hi = lo;
  if (hi / lo < 10) { const mid = Math.sqrt(lo * hi); lo = mid / Math.sqrt(10); hi = mid * Math.sqrt(10); }
  return [lo, hi];
}

// "diverged at iteration 120" (every seed) or "2 of 5 seeds diverged from iteration 120" for a scheme of
// the state; null when none diverged.
export function divergedLabel(divergedAt) {
  const at = divergedAt.filter(a => a !== null && a !== undefined);
  if (!at.length) return null;
  const first = Math.min(...at);
  return at.length === divergedAt.length ? `diverged at iteration ${first}`
    : `${at.length} of ${divergedAt.length} seeds diverged from iteration ${first}`;
}

// Tick values for a log axis over [lo, hi] (both > 0): powers of ten, with 2 and 5 when few decades show.
export function logTicks(lo, hi) {
  const ticks = [];
  const first = Math.floor(Math.log10(lo)), last = Math.ceil(Math.log10(hi));
  const steps = last - first <= 3 ? [1, 2, 5] : [1];
  const every = Math.max(1, Math.ceil((last - first) / 6));
  for (let e = first; e <= last; e += every) {
    for (const m of steps) {
      const t = m * 10 ** e;
      if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(Number(t.toPrecision(3)));
    }
  }
  return ticks;
}

// Up to `count` evenly spaced round ticks over a linear range [lo, hi].
export function linearTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count, magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map(m => m * magnitude).find(s => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(6)));
  return ticks;
}

// Axis tick labels: the page's number format (15000 -> "1.5e4", 0.001 -> "0.001", 1e-5 -> "1e-5").
export const tickLabel = formatNumber;

// [xmin, xmax, ymin, ymax] of 2-D points widened by 10% each side (the server's boundary box), for drawing
// the points when there is no boundary.
export function pointsExtent(X) {
  if (!X.length) return [-1, 1, -1, 1];
  const xs = X.map(p => p[0]), ys = X.map(p => p[1]);
  const box = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const mx = 0.1 * (box[1] - box[0]) + 1e-9, my = 0.1 * (box[3] - box[2]) + 1e-9;
  return [box[0] - mx, box[1] + mx, box[2] - my, box[3] + my];
}

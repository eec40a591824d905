// The live views' DOM: one boundary panel per scheme and one histogram row per layer, reused between
// frames (only the canvases are redrawn), plus the cost chart's legend.
import {SCHEME_COLORS, drawBoundary, drawHistogram, histogramMean, stdCaption} from "./draw.js";
import {formatCost, pointsExtent} from "./pure.js";

const $ = id => document.getElementById(id);

function element(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// Make `container` hold `count` children built by `make(i)`, keeping those already there.
function ensure(container, count, make) {
  while (container.children.length > count) container.lastElementChild.remove();
  while (container.children.length < count) container.append(make(container.children.length));
  return [...container.children];
}

export function drawLegend(schemes) {
  const items = ensure($("legend"), schemes.length, () => element("span", "item"));
  schemes.forEach((scheme, k) => {
    const text = `${scheme.init}: ${summary(scheme)}`;
    if (items[k].dataset.text === text) return;
    items[k].dataset.text = text;
    items[k].replaceChildren(element("span", `swatch s${k}`), element("span", "", text));
  });
}

// "train 0.2513 · test 0.2871" or "all 5 seeds diverged" for a scheme of the state.
function summary(scheme) {
  const diverged = scheme.diverged_at.filter(at => at !== null).length;
  if (scheme.mean_cost === null || scheme.mean_cost === undefined) return `all ${diverged} seeds diverged`;
  const test = scheme.mean_test_cost === null || scheme.mean_test_cost === undefined ? "" : ` · test ${formatCost(scheme.mean_test_cost)}`;
  return `train ${formatCost(scheme.mean_cost)}${test}${diverged ? ` · ${diverged} diverged` : ""}`;
}

export function drawBoundaries(schemes, points) {
  const panels = ensure($("boundary"), schemes.length, k => {
    const figure = element("figure", "boundary-panel");
    const canvas = element("canvas");
    canvas.width = canvas.height = 240;
    canvas.dataset.testid = `boundary-${k}`;
    figure.append(canvas, element("figcaption"));
    return figure;
  });
  $("boundary").classList.toggle("single", schemes.length === 1);  // one scheme: a larger panel
  schemes.forEach((scheme, k) => {
    const [canvas, caption] = panels[k].children;
    const b = scheme.boundary;
    const alive = scheme.train_cost.filter(cost => cost !== null).length;  // the median is over these
    const label = b ? `seed ${b.seed} (median of ${alive})` : "no boundary: every seed diverged";
    const text = `${scheme.init} · ${label}`;
    if (caption.dataset.text !== text) {
      caption.dataset.text = text;
      caption.replaceChildren(element("span", `swatch s${k}`), element("b", "", scheme.init), ` · ${label}`);
    }
    drawBoundary(canvas, b, points, points && pointsExtent(points.train.X));
  });
}

// What the counts and the no-gradient flag mean, when the state has no `rules` (the server's own lines).
const RULES = {
  saturated: "units in the flat part of their activation", dead: "units that are 0 on every training point",
  duplicate: "units computing the same as another unit of the layer",
  no_gradient: "dL/dz is 0 on every training point and unit: nothing before this layer learns",
};

export function drawHistograms(layers, schemeIndex, schemes, choose, rules = {}) {
  rules = {...RULES, ...rules};
  const tabs = ensure($("histogram-schemes"), schemes.length > 1 ? schemes.length : 0, k => {
    const button = element("button", "tab");
    button.type = "button";
    button.onclick = () => choose(k);
    return button;
  });
  tabs.forEach((tab, k) => {
    tab.textContent = schemes[k].init;
    tab.classList.toggle("active", k === schemeIndex);
  });
  const rows = (layers && layers[schemeIndex]) || [];  // null: every seed of the scheme diverged
  $("histograms").dataset.empty = layers && schemes.length && !rows.length
    ? `${schemes[schemeIndex].init}: every seed diverged, no layers to show` : "";
  const color = SCHEME_COLORS[schemeIndex % SCHEME_COLORS.length];
  const shown = ensure($("histograms"), rows.length, () => {
    const row = element("div", "layer");
    const head = element("div", "layer-head");
    row.append(head);
    for (const kind of ["activations", "dL/dz"]) {
      const cell = element("figure", "hist");
      const canvas = element("canvas");
      canvas.width = 220; canvas.height = 70;
      const caption = element("figcaption", "", kind);
      if (kind === "dL/dz") {  // the server's per-layer no_gradient flag, when it sends one
        const flag = element("span", "no-gradient", "no gradient");
        flag.dataset.testid = "no-gradient";
        flag.hidden = true;
        caption.append(flag);
      }
      cell.append(caption, canvas, element("div", "hist-std"));
      row.append(cell);
    }
    return row;
  });
  rows.forEach((layer, i) => {
    const [head, act, grad] = shown[i].children;
    const name = i === rows.length - 1 ? "output (logits)" : `layer ${layer.layer}${layer.activation_name ? ` · ${layer.activation_name}` : ""}`;
    const counts = [["saturated", layer.saturated], ["dead", layer.dead], ["duplicate", layer.duplicate]]
      .filter(([, count]) => count !== null && count !== undefined);  // null: this activation cannot saturate or die
    const flags = [`${layer.units} unit${layer.units === 1 ? "" : "s"}`, ...counts.map(([key, count]) => `${key} ${count}`)].join(" · ");
    const text = `${name}|${flags}`;
    if (head.dataset.text !== text) {
      head.dataset.text = text;
      const counts = element("span", "flags", flags);
      counts.title = ["saturated", "dead", "duplicate"].map(key => `${key}: ${rules[key]}`).join("\n");
      head.replaceChildren(element("b", "", name), counts);
    }
    // the server's flag, when it sends one: true (or a count of units) where no dL/dz reaches the layer
    const noGradient = layer.no_gradient;
    const flag = grad.querySelector(".no-gradient");
    flag.hidden = !noGradient;
    flag.title = rules.no_gradient;
    flag.textContent = typeof noGradient === "number" ? `no gradient: ${noGradient} unit${noGradient === 1 ? "" : "s"}` : "no gradient";
    grad.classList.toggle("flagged", Boolean(noGradient));
    // activations spread around their mean (relu's are >= 0); theory's dL/dz is a root mean square around 0
    for (const [cell, histogram, measure] of [[act, layer.activation, "std"], [grad, layer.grad, layer.grad && layer.grad.rms !== undefined ? "rms" : "std"]]) {
      const center = measure === "std" && histogram && histogram.counts.length ? histogramMean(histogram) : 0;
      drawHistogram(cell.children[1], histogram, color, center);
      const caption = stdCaption(histogram, measure);
      if (cell.children[2].textContent !== caption) cell.children[2].textContent = caption;
    }
  });
}

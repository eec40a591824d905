// The settings controls: built once from GET /api/limits, synced from each new state's settings, and
// turned into {"type": "settings"} messages when the user changes one.
import {formatSpec, formatNumber, parseSpec, sliderScale, specNumber} from "./pure.js";

const $ = id => document.getElementById(id);
const LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const SPEEDS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
// What a scheme parameter means, shown by its slider when /api/limits gives no `description`
// ("scheme.name" where a name means something else in that scheme; from initlab/init/schemes.py).
const PARAMETER_MEANINGS = {
  std: "standard deviation of the weights", mean: "mean of the weights", value: "every weight's value",
  gain: "gain: multiplies the weights' scale", limit: "bound: weights in U(-limit, limit)",
  low: "lower bound of U(low, high)", high: "upper bound of U(low, high)", epsilon: "bound e: weights in U(-e, e)",
  scale: "variance scale: variance = scale / n", a: "negative slope of the leaky relu the scheme is for; 0: relu",
  "truncated_normal.a": "lower cut-off", "truncated_normal.b": "upper cut-off",
  "truncated_normal.std": "standard deviation before the cut", sparsity: "fraction of zeros in each column",
  sigma_b2: "bias variance the weights are matched to", slope: "negative slope, for activation=leaky_relu",
  groups: "groups of channels",
};

export function parameterMeaning(scheme, parameter) {
  return parameter.description || PARAMETER_MEANINGS[`${scheme}.${parameter.name}`] || PARAMETER_MEANINGS[parameter.name] || "";
}

const COMPARE_CANDIDATES = ["zeros", "normal(std=10)", "he_normal", "xavier_normal"];  // the classic four

function fill(select, values, label = String) {
  select.replaceChildren(...values.map(value => new Option(label(value), String(value))));
}

// The option of `select` for `value`, added when the list does not have it (e.g. lr 0.02 typed elsewhere).
function choose(select, value, label = String) {
  const text = String(value);
  if (![...select.options].some(o => o.value === text)) select.add(new Option(label(value), text));
  select.value = text;
}

export class Controls {
  // `send(changes)` sends a partial settings object; `source` remembers the element that sent the last change.
  // `restored(field)` is called when an emptied box got the value in force back (its error is stale).
  constructor(limits, send, restored = () => {}) {
    this.limits = limits;
    this.restored = restored;
    this.send = changes => { this.source = document.activeElement; send(changes); };
    this.schemes = new Map(limits.schemes.map(s => [parseSpec(s.spec).name, s]));
    this.settings = null;
    this.build();
  }

  build() {
    const L = this.limits;
    fill($("dataset"), L.datasets);
    fill($("activation"), L.activations);
    fill($("optimizer"), L.optimizers);
    fill($("lr"), LEARNING_RATES.filter(lr => !(L.max_lr < lr)), formatNumber);
    fill($("speed"), SPEEDS);
    fill($("init"), L.schemes.map(s => s.spec), spec => spec);
    $("specs").replaceChildren(...[...new Set([...COMPARE_CANDIDATES, ...L.schemes.map(s => s.spec)])]
      .map(spec => new Option(spec)));
    $("n_samples").max = L.max_samples;
    if (L.min_samples) $("n_samples").min = L.min_samples;
    $("n_seeds").max = L.max_seeds;
    $("noise").max = L.max_noise ?? 2;

    for (const field of ["dataset", "activation", "optimizer"]) $(field).onchange = () => this.send({[field]: $(field).value});
    $("lr").onchange = () => this.send({lr: Number($("lr").value)});
    $("speed").onchange = () => this.send({speed: Number($("speed").value)});
    // an emptied box sends nothing: Enter or leaving it puts back the value in force (and drops its error)
    for (const field of ["n_samples", "seed", "n_seeds"]) {
      $(field).onchange = () => {
        if ($(field).value !== "") this.send({[field]: Number($(field).value)});
        else if (this.settings) { $(field).value = this.settings[field]; this.restored(field); }
      };
    }
    $("noise").oninput = () => { $("noise-value").value = formatNumber(Number($("noise").value)); };
    $("noise").onchange = () => this.send({noise: Number($("noise").value)});
    $("noise-default").onclick = () => this.send({noise: null});
    $("init").onchange = () => {
      $("init-spec").value = $("init").value;
      this.showParameters($("init").value);
      this.send({init: $("init").value});
    };
    for (const [id, field] of [["init-spec", "init"], ["bias_init", "bias_init"]]) {
      $(id).onchange = () => {
        if ($(id).value.trim()) this.send({[field]: $(id).value.trim()});
        else if (this.settings) { $(id).value = this.settings[field]; this.restored(field); }
      };
    }
    $("layer-add").onclick = () => {
      const hidden = this.widths();
      if (hidden.length < L.max_layers) this.send({hidden: [...hidden, hidden.length ? hidden[hidden.length - 1] : 10]});
    };
    $("layer-remove").onclick = () => this.send({hidden: this.widths().slice(0, -1)});
    $("compare-on").onchange = () => {
      const init = this.settings ? this.settings.init : "";
      this.send({compare: $("compare-on").checked ? [COMPARE_CANDIDATES.find(s => s !== init)] : []});
    };
    $("compare-add").onclick = () => {
      const compare = this.compareSpecs(), used = new Set([this.settings?.init, ...compare]);
      if (compare.length + 1 < L.max_schemes) {
        this.send({compare: [...compare, COMPARE_CANDIDATES.find(s => !used.has(s)) || "he_normal"]});
      }
    };
    $("limits").textContent = `Limits: at most ${L.max_layers} hidden layers of ${L.max_width} units, `
      + `${L.max_samples.toLocaleString("en")} points, ${L.max_seeds} seeds and ${L.max_schemes} schemes side by side`
      + (L.max_work ? `, and at most ${L.max_work.toLocaleString("en")} multiply-adds per iteration `
                      + "(networks x points x weights)" : "")
      + ". Larger settings are refused with a message, not attempted.";
  }

  widths() { return [...$("hidden").querySelectorAll("input")].map(input => Number(input.value)); }
  compareSpecs() { return [...$("compare-rows").querySelectorAll("input")].map(input => input.value.trim()); }

  // The numeric parameters of `spec`'s scheme as sliders; moving one rewrites the spec (other arguments kept).
  showParameters(spec) {
    const parsed = parseSpec(spec) || {name: spec, args: {}};
    const scheme = this.schemes.get(parsed.name);
    const box = $("init-params");
    const numeric = (scheme ? scheme.parameters : []).filter(p => Number.isFinite(p.min) && Number.isFinite(p.max));
    const defaults = Object.fromEntries(numeric.map(p => [p.name, p.default]));
    box.replaceChildren(...numeric.map(p => {
      const scale = sliderScale(p.min, p.max, p.log ?? undefined);
      const value = parsed.args[p.name] !== undefined ? Number(parsed.args[p.name]) : p.default;
      const row = document.createElement("label");
      row.className = "row param";
      const slider = Object.assign(document.createElement("input"), {type: "range", min: 0, max: scale.steps, step: 1});
      slider.dataset.testid = `init-${p.name}`;
      slider.value = scale.toPosition(Number.isFinite(value) ? value : p.min);
      const shown = document.createElement("output");
      shown.value = formatNumber(Number.isFinite(value) ? value : p.min);
      const respec = () => {
        const args = {...parsed.args, [p.name]: scale.fromPosition(Number(slider.value))};
        shown.value = formatNumber(args[p.name]);
        return formatSpec(parsed.name, args, defaults);
      };
      slider.oninput = () => { $("init-spec").value = respec(); };
      slider.onchange = () => this.send({init: respec()});
      const meaning = parameterMeaning(parsed.name, p);
      const name = Object.assign(document.createElement("span"), {className: "param-name"});
      name.dataset.testid = `init-${p.name}-label`;
      name.append(Object.assign(document.createElement("b"), {textContent: p.name}),
                  meaning ? ` (${meaning}${scale.log ? "; log scale" : ""})` : scale.log ? " (log scale)" : "");
      row.append(name, slider, shown);
      return row;
    }));
  }

  // Show `settings` (the server's, canonical); the element being edited keeps what the user typed, and with
  // `keepText` (after a refusal) so do the spec fields.
  sync(settings, {keepText = false} = {}) {
    this.settings = settings;
    const editing = document.activeElement;
    const set = (id, value) => { if ($(id) !== editing) $(id).value = value; };
    const setText = (id, value) => { if (!keepText) set(id, value); };
    set("dataset", settings.dataset);
    set("n_samples", settings.n_samples);
    set("activation", settings.activation);
    set("optimizer", settings.optimizer);
    set("seed", settings.seed);
    set("n_seeds", settings.n_seeds);
    setText("bias_init", settings.bias_init);
    choose($("lr"), specNumber(settings.lr), lr => formatNumber(Number(lr)));
    if (settings.speed !== undefined) choose($("speed"), settings.speed);
    const noiseless = settings.dataset === "gaussian";
    $("noise").disabled = noiseless;
    $("noise-default").hidden = noiseless || settings.noise === null || settings.noise === undefined;
    if (settings.noise === null || settings.noise === undefined) {
      $("noise-value").value = noiseless ? "none" : "default";
    } else {
      set("noise", settings.noise);
      $("noise-value").value = formatNumber(settings.noise);
    }
    setText("init-spec", settings.init);
    const name = (parseSpec(settings.init) || {}).name;
    const option = [...$("init").options].find(o => o.value === settings.init)
      || [...$("init").options].find(o => (parseSpec(o.value) || {}).name === name);
    if (option) $("init").value = option.value;
    if (!keepText) this.showParameters(settings.init);
    this.syncHidden(settings.hidden);
    this.syncCompare(settings.compare || [], keepText);
  }

  syncHidden(hidden) {
    const inputs = hidden.map((width, i) => {
      const input = Object.assign(document.createElement("input"), {type: "number", min: 1, max: this.limits.max_width, value: width});
      input.dataset.testid = `width-${i}`;
      input.title = `units in hidden layer ${i + 1}`;
      input.onchange = () => {
        if (input.value !== "") this.send({hidden: this.widths()});
        else { input.value = width; this.restored("hidden"); }
      };
      return input;
    });
    $("hidden").replaceChildren(...(inputs.length ? inputs : [Object.assign(document.createElement("span"), {className: "hint", textContent: "none (logistic regression)"})]));
    $("layer-add").disabled = hidden.length >= this.limits.max_layers;
    $("layer-remove").disabled = hidden.length === 0;
  }

  syncCompare(compare, keepText = false) {
    $("compare-on").checked = compare.length > 0;
    $("compare").hidden = compare.length === 0;
    const rows = $("compare-rows");
    if (keepText || rows.contains(document.activeElement)) return;
    rows.replaceChildren(...compare.map((spec, i) => {
      const row = document.createElement("div");
      row.className = "row compare-row";
      const input = Object.assign(document.createElement("input"), {type: "text", value: spec, spellcheck: false});
      input.setAttribute("list", "specs");
      input.dataset.testid = `compare-${i}`;
      input.onchange = () => this.send({compare: this.compareSpecs()});
      const remove = Object.assign(document.createElement("button"), {type: "button", className: "small", textContent: "×", title: "remove"});
      remove.onclick = () => this.send({compare: this.compareSpecs().filter((_, j) => j !== i)});
      const swatch = Object.assign(document.createElement("span"), {className: `swatch s${i + 1}`});
      row.append(swatch, input, remove);
      return row;
    }));
    $("compare-add").disabled = compare.length + 1 >= this.limits.max_schemes;
  }

  // The element to show a refused setting's message next to: the one the user last changed for that field.
  controlFor(argument) {
    const field = String(argument || "").split(".")[0].split("[")[0];
    const source = this.source && this.source.closest ? this.source.closest("[data-field]") : null;
    if (source && source.dataset.field === field) return this.source;
    // a rule over several fields (e.g. "work": seeds x points x units) is shown by the control just changed
    return document.querySelector(`[data-field="${field}"]`) || source;
  }
}

// The playground page: creates a session (POST /api/sessions), then drives it over the WebSocket
// /api/sessions/{id}/live and draws the latest state once per animation frame (states arriving faster
// than the screen refreshes are coalesced: only the newest is drawn, none is queued).
import {Controls} from "./controls.js";
import {drawCost} from "./draw.js";
import {formatCost} from "./pure.js";
import {drawBoundaries, drawHistograms, drawLegend} from "./views.js";

const $ = id => document.getElementById(id);

const page = {
  limits: null, controls: null, socket: null, queue: [],
  state: null, points: null, frame: 0, syncedSettings: "", costAxis: null,
  histogramScheme: 0, lessons: [], lesson: null, errorField: null,  // lesson: the one shown, {lesson, settings, applied}
  // a step under way: {target: iteration it ends at, stopping: a pause/reset/setting was sent since (the
  // server stops the step there)}; Step shows it is busy until a state reaches the target or follows the stop
  step: null, pending: false,  // pending: Play/Pause sent, its state not yet back
  received: 0, drawn: 0, drawMs: 0,  // states received, frames drawn and ms spent drawing (tests, benchmark)
};
window.playground = page;

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = response.status === 204 ? null : await response.json();
  if (!response.ok) throw Object.assign(new Error(body && body.error || `${url}: HTTP ${response.status}`), {body});
  return body;
}

function send(message) {
  if (page.step && message.type !== "step") page.step.stopping = true;
  if (page.socket && page.socket.readyState === WebSocket.OPEN) page.socket.send(JSON.stringify(message));
  else page.queue.push(message);
}

function sendSettings(changes) {
  hideError();
  send({type: "settings", settings: changes});
}

// One line next to the control that was refused (the server names it in `argument`).
function showError(argument, message) {
  const error = $("error");
  const control = page.controls && page.controls.controlFor(argument);
  const row = control ? control.closest(".row, .compare, .params") || control : null;
  if (row) row.after(error); else $("limits").before(error);
  error.textContent = message;
  error.hidden = false;
  page.errorField = String(argument || "").split(".")[0].split("[")[0];
}

function hideError() {
  page.errorField = null;
  $("error").hidden = true;
  $("error").textContent = "";
}

function setStatus(text, problem = false) {
  $("status").textContent = text;
  $("status").classList.toggle("problem", problem);
}

function onMessage(event) {
  const message = JSON.parse(event.data);
  if (message.type === "state") receiveState(message);
  else if (message.type === "points") { page.points = message; schedule(); }
  else if (message.type === "error") {
    if (message.argument === "iterations") page.step = null;  // the step was refused: nothing runs
    showError(message.argument, message.error);
    // selects, numbers and the checkbox back to the settings in force; typed specs stay, to be corrected
    if (page.state) page.controls.sync(page.state.settings, {keepText: true});
  }
}

function receiveState(state) {
  page.received += 1;
  page.state = state;
  page.pending = false;
  if (page.step && (state.iteration >= page.step.target || page.step.stopping)) page.step = null;
  schedule();
}

function schedule() {
  if (!page.frame) page.frame = requestAnimationFrame(render);
}

function render() {
  page.frame = 0;
  const state = page.state;
  if (!state) return;
  const started = performance.now();
  $("iteration").textContent = String(state.iteration);
  $("cost").textContent = formatCost(state.mean_cost);
  showTransport();
  const settings = JSON.stringify(state.settings);
  if (settings !== page.syncedSettings) {
    page.syncedSettings = settings;
    page.controls.sync(state.settings);
    showLessonMatch();
  }
  // command: null at iteration 0 (no command trains 0 iterations); the server's note says why, or that
  // the lr changed mid-run (older servers: only `reproducible`)
  const command = state.command || "";
  if ($("command").textContent !== command) $("command").textContent = command;
  $("copy").disabled = !command;
  const note = "command_note" in state ? state.command_note || "" : state.reproducible === false
    ? "the learning rate changed during this run: the command trains with the new one from the start" : "";
  if ($("command-note").textContent !== note) $("command-note").textContent = note;
  const schemes = state.schemes;
  page.histogramScheme = Math.min(page.histogramScheme, schemes.length - 1);
  page.costAxis = drawCost($("cost-chart"), state.history, state.test_history, schemes);
  drawLegend(schemes);
  drawBoundaries(schemes, page.points);
  drawHistograms(state.layers, page.histogramScheme, schemes, k => { page.histogramScheme = k; schedule(); }, state.rules);
  page.drawn += 1;
  page.drawMs += performance.now() - started;
}

// Play/Pause, and Step's busy sign: while a step runs, Start offers Pause (it stops the step) and the
// status line says how far the step goes.
function showTransport() {
  const state = page.state, busy = Boolean(page.step), running = Boolean(state && state.playing) || busy;
  $("start").textContent = running ? "Pause" : "Play";
  $("start").classList.toggle("playing", running);
  $("start").classList.toggle("pending", page.pending);
  $("step").textContent = busy ? "Stepping…" : "Step";
  $("step").classList.toggle("busy", busy);
  $("step").disabled = busy;
  $("step").setAttribute("aria-busy", String(busy));
  const stepping = busy ? `stepping to iteration ${page.step.target}…` : "";
  if (page.socket && page.socket.readyState === WebSocket.OPEN) setStatus(stepping || "live");
}

function connect(id) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/api/sessions/${encodeURIComponent(id)}/live`);
  page.socket = socket;
  socket.onopen = () => {
    setStatus("live");
    for (const message of page.queue.splice(0)) socket.send(JSON.stringify(message));
  };
  socket.onmessage = onMessage;
  socket.onclose = event => {
    page.step = null;  // nothing runs any more
    showTransport();
    setStatus(`disconnected${event.reason ? ` (${event.reason})` : ""}: reload the page to start `
              + "a new session", true);
  };
}

function buildLessons(lessons) {
  page.lessons = lessons;
  $("lessons").replaceChildren(...lessons.map(lesson => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "lesson-button";
    button.dataset.testid = `lesson-${lesson.id}`;
    button.textContent = lesson.title;
    button.onclick = () => startLesson(lesson);
    return button;
  }));
}

// The lesson panel marked "modified from the lesson" once the settings in force differ from the lesson's
// (the speed aside: it changes no number); unmarked if they match again. Until the lesson's settings have
// arrived once, the old settings are not a modification.
function showLessonMatch() {
  const lesson = page.lesson, state = page.state;
  let modified = false;
  if (lesson && state) {
    const same = Object.keys(lesson.settings).filter(key => key !== "speed")
      .every(key => JSON.stringify(state.settings[key]) === JSON.stringify(lesson.settings[key]));
    if (same) lesson.applied = true;
    modified = lesson.applied && !same;
  }
  $("lesson").classList.toggle("modified", modified);
  const note = $("lesson").querySelector(".modified");
  if (note) note.hidden = !modified;
  document.querySelectorAll(".lesson-button").forEach(b => {
    b.classList.toggle("active", Boolean(lesson) && !modified && b.dataset.testid === `lesson-${lesson.lesson.id}`);
  });
}

// A lesson: the defaults with the lesson's settings, from iteration 0, playing; its text above the views.
function startLesson(lesson) {
  const box = $("lesson");
  const close = Object.assign(document.createElement("button"), {type: "button", className: "small close", textContent: "×", title: "close"});
  close.onclick = () => { box.hidden = true; page.lesson = null; showLessonMatch(); };
  const sources = document.createElement("p");
  sources.className = "sources";
  sources.textContent = `Sources: ${lesson.sources.join("; ")}.`;
  const watch = document.createElement("p");
  watch.className = "watch";
  watch.textContent = lesson.watch;
  const heading = document.createElement("h2");
  heading.textContent = lesson.title;
  const text = document.createElement("div");
  text.className = "text";
  text.append(...lesson.text.map(t => Object.assign(document.createElement("p"), {textContent: t})), sources);
  const modified = document.createElement("p");
  modified.className = "modified";
  modified.dataset.testid = "lesson-modified";
  const again = Object.assign(document.createElement("button"), {type: "button", className: "small", textContent: "restart the lesson"});
  again.onclick = () => startLesson(lesson);
  modified.append("Modified from the lesson: the settings changed since, so the text below describes the lesson's run, not this one. ", again);
  modified.hidden = true;
  box.replaceChildren(close, heading, modified, watch, text);
  box.classList.remove("modified");
  page.lesson = {lesson, settings: {...page.limits.defaults, ...lesson.settings}, applied: false};
  box.hidden = false;
  box.scrollIntoView({block: "nearest"});  // the controls scroll apart: the lesson may be out of sight
  showLessonMatch();
  sendSettings({...page.limits.defaults, ...lesson.settings});
  send({type: "play"});
}

function wireTransport() {
  $("start").onclick = () => {
    const running = page.step || (page.state && page.state.playing);
    send({type: running ? "pause" : "play"});
    page.pending = true;
    showTransport();
  };
  $("step").onclick = () => {
    if (page.step || !page.state) return;
    const iterations = Number($("speed").value) || 1;
    send({type: "step", iterations});
    page.step = {target: page.state.iteration + iterations, stopping: false};
    showTransport();
  };
  $("reset").onclick = () => send({type: "reset"});
  $("copy").onclick = copyCommand;
  document.addEventListener("keydown", event => {
    if (event.key === " " && !event.target.closest("input, select, textarea, button")) {
      event.preventDefault();
      $("start").click();
    }
  });
}

async function copyCommand() {
  const text = $("command").textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {  // no clipboard permission (e.g. a page opened from another host): select it for Ctrl+C
    getSelection().selectAllChildren($("command"));
  }
  $("copy").textContent = "Copied";
  setTimeout(() => { $("copy").textContent = "Copy"; }, 1200);
}

// The bar's height, for the sticky controls' top and height (the bar wraps on narrow windows).
function trackBarHeight() {
  const bar = document.querySelector(".bar");
  const set = () => document.documentElement.style.setProperty("--bar", `${bar.offsetHeight}px`);
  new ResizeObserver(set).observe(bar);
  set();
}

async function main() {
  trackBarHeight();
  wireTransport();
  try {
    const [limits, lessons] = await Promise.all([getJSON("/api/limits"), getJSON("/static/lessons.json")]);
    page.limits = limits;
    page.controls = new Controls(limits, sendSettings, field => { if (page.errorField === field) hideError(); });
    buildLessons(lessons);
    setStatus("starting the session…");
    const created = await getJSON("/api/sessions", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({settings: limits.defaults}),
    });
    page.points = created.points;
    receiveState(created.state);
    connect(created.id);
  } catch (error) {
    setStatus(`could not start: ${error.message}`, true);
    if (error.body && error.body.argument) showError(error.body.argument, error.body.error);
  }
}

main();

// The Explorer's map as an instrument: drag the learning rate or the threshold c, step and
// play the descent, switch paths on and off, all in the browser with no server round trip.
//
// Python (landscapes/views/map_payload.py) sends, for the current view, a cross of runs:
// every learning rate of the slider at the current c and every c at the current learning
// rate, for each visible rule, as float32 bytes. Dragging a slider picks another run of the
// cross and redraws (Canvas 2D over the loss image: a redraw costs a few milliseconds).
// Releasing a slider (or ~400 ms after the last key) sends the value to Python as the
// trigger "commit"; the page reruns, the sidebar, the link, the narration and the table
// follow, and a new cross arrives around the new point. Its centre is the run already on
// screen, so the new view draws the same picture once (no flash, no second draw).
//
// Readable from the page (tests, benchmarks): the root has data-testid="cliffs-map" and
//   data-paths   JSON {mode: [[x, y], ...]}: each shown path's points up to the shown step,
//                in data coordinates (the float32 values sent; the canvas cuts them at the
//                border, a step from outside to outside is not drawn);
//   data-lr, data-c, data-step, data-playing, data-view: the values drawn;
//   data-styles  JSON {mode: {label, color, dash, marker}}; data-start, data-guess: [x, y];
//   data-exits   JSON [label, ...]: the texts drawn at the border where paths leave the map
//                (only those whose border point is inside the shown window);
//   data-plot    JSON {left, top, width, height, window}: the plot area in CSS pixels of the
//                canvas, and the data window SHOWN in it (the zoomed view; so a test can click
//                at a data point);
//   data-map-window  JSON [[x0, x1], [y0, y1]]: the map's own window (data.window): the loss
//                image covers it, and "a path leaves the map" is about it, zoomed or not;
//   data-zoom    how many times the shown window is magnified: the larger of its two axes'
//                factors, "1" at the whole map (at most MAX_ZOOM);
//   data-draws   the number of draws so far; data-drawn-at: performance.now() of the last.
//
// Zoom and pan, in the browser only (no script run): the buttons "+", "−" and "⤢ whole map"
// (aria-labels "zoom in", "zoom out", "show the whole map"); on the focused map the keys
// "+"/"=", "-" and "0", and Shift+arrows to pan (plain arrows stay one step of playback).
// The mouse: at the whole map a drag draws a zoom box (as Plotly does; a thin box zooms one
// axis); zoomed in, a drag pans (Shift+drag still draws a box); Ctrl/⌘+wheel and a trackpad
// pinch zoom around the pointer (a plain wheel scrolls the page); a double-click shows the
// whole map. A click (the pointer moved <= 4 px) sets the start, or the guess, at the data
// point under it; zoomed in, it waits DOUBLE_MS for a second click first, so that a
// double-click goes back to the whole map without moving the start. Touch: one finger
// scrolls the page (touch-action: pan-x pan-y) and a tap sets the start; two fingers pinch
// to zoom around their midpoint and move to pan. Zoom stays between 1x and MAX_ZOOM and the
// shown window inside the map's window; it is kept when a new view has the same window and
// loss surface (a commit of lr or c, steps, the start, paths) and is dropped otherwise.

const PLOT_MARGIN = { l: 58, r: 12, t: 10, b: 44 };
const DASHES = {
  solid: [],
  dot: [2, 4],
  dash: [8, 5],
  longdash: [14, 6],
  dashdot: [8, 4, 2, 4],
  longdashdot: [14, 5, 2, 5],
};
const SPEEDS = [
  ["0.25×", 4],
  ["1×", 15],
  ["4×", 60],
  ["16×", 240],
]; // steps per second
const KEY_COMMIT_MS = 400;
const MAX_ZOOM = 16; // the loss image has IMAGE_RESOLUTION pixels a side: 16x is ~12 of them
const CLICK_PX = 4; // a press that moves at most this far is a click, not a drag
const DOUBLE_MS = 300; // a second click within this time (and CLICK_PX * 2) is a double-click
const BOX_MIN_PX = 8; // a zoom box thinner than this zooms only the other axis (Plotly's rule)
const PAN_FRACTION = 0.2; // Shift+arrow pans by this part of the shown window

function decode(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function g3(v) {
  // Python's f"{v:.3g}" for the numbers on the map
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-4)) {
    const [m, e] = v.toExponential(2).split("e");
    const exp = Number(e);
    return `${Number(m)}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return String(Number(v.toPrecision(3)));
}

function niceTicks(lo, hi, count) {
  // [value, label] pairs; the labels carry as many decimals as the tick step needs (a zoomed
  // window's ticks 4.625, 4.65, 4.675 stay apart)
  const span = hi - lo;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = [1, 2, 2.5, 5, 10].find((x) => span / (x * mag) <= count) || 10;
  const step = f * mag;
  const decimals = Math.min(12, Math.max(0, -Math.round(Math.log10(mag)) - (f === 10 ? 1 : 0) + (f === 2.5 ? 1 : 0)));
  const ticks = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + 1e-9 * span; i++) {
    const v = Math.abs(i * step) < 1e-12 * span ? 0 : i * step;
    ticks.push([v, Math.abs(v) >= 1e5 ? g3(v) : String(Number(v.toFixed(decimals)))]);
  }
  return ticks;
}

// --- the shown window (zoom and pan) ----------------------------------------------------

// The data window drawn in the plot: the zoomed view, or the whole map.
function shownWindow(m) {
  return m.zoomed || m.data.window;
}

function zoomFactor(m) {
  const [[X0, X1], [Y0, Y1]] = m.data.window;
  const [[x0, x1], [y0, y1]] = shownWindow(m);
  return Math.max((X1 - X0) / (x1 - x0), (Y1 - Y0) / (y1 - y0));
}

// A window of width w and height h with its top-left at (x0, y1), made legal: each side
// between 1/MAX_ZOOM of the map's and the map's own, and the whole inside the map (null:
// the whole map).
function legalWindow(d, x0, y1, w, h) {
  const [[X0, X1], [Y0, Y1]] = d.window;
  const W = X1 - X0, H = Y1 - Y0;
  w = Math.min(W, Math.max(W / MAX_ZOOM, w));
  h = Math.min(H, Math.max(H / MAX_ZOOM, h));
  x0 = Math.min(Math.max(x0, X0), X1 - w);
  y1 = Math.max(Math.min(y1, Y1), Y0 + h);
  if (w >= W * (1 - 1e-9) && h >= H * (1 - 1e-9)) return null;
  return [[x0, x0 + w], [y1 - h, y1]];
}

// Sizes first (clamped), then the position: so the clamp of the size keeps the point under
// the pointer where it is as long as the window does not hit the map's border.
function legalSized(d, w, h) {
  const [[X0, X1], [Y0, Y1]] = d.window;
  return [Math.min(X1 - X0, Math.max((X1 - X0) / MAX_ZOOM, w)), Math.min(Y1 - Y0, Math.max((Y1 - Y0) / MAX_ZOOM, h))];
}

// The data point under canvas pixel (px, py) in the shown window.
function toData(m, px, py) {
  const p = m.plot;
  const [[x0, x1], [y0, y1]] = shownWindow(m);
  return [x0 + ((px - p.l) / p.w) * (x1 - x0), y1 - ((py - p.t) / p.h) * (y1 - y0)];
}

// Zoom by `factor` (> 1 in, < 1 out) keeping the data point under canvas pixel (px, py) there.
function zoomAround(m, factor, px, py) {
  const p = m.plot;
  const [[x0, x1], [y0, y1]] = shownWindow(m);
  const [dx, dy] = toData(m, px, py);
  const [w, h] = legalSized(m.data, (x1 - x0) / factor, (y1 - y0) / factor);
  setWindow(m, legalWindow(m.data, dx - ((px - p.l) / p.w) * w, dy + ((py - p.t) / p.h) * h, w, h));
}

function zoomCentre(m, factor) {
  const p = m.plot;
  zoomAround(m, factor, p.l + p.w / 2, p.t + p.h / 2);
}

// Move the shown window by (fx, fy) of its own size (x to the right, y up).
function panBy(m, fx, fy) {
  if (!m.zoomed) return;
  const [[x0, x1], [y0, y1]] = m.zoomed;
  setWindow(m, legalWindow(m.data, x0 + fx * (x1 - x0), y1 + fy * (y1 - y0), x1 - x0, y1 - y0));
}

function setWindow(m, win) {
  m.zoomed = win;
  m.root.classList.toggle("zoomed", !!win);
}

// One draw per animation frame for pointer moves, wheels and touches.
function drawSoon(m, why) {
  m.soon = why;
  if (m.soonFrame) return;
  m.soonFrame = requestAnimationFrame(() => {
    m.soonFrame = 0;
    draw(m, m.soon);
  });
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

// --- building the component once -------------------------------------------------------

function build(parent) {
  const root = el("div", { class: "cliffs-map", "data-testid": "cliffs-map", tabindex: "0",
    role: "group", "aria-label": "descent map: drag learning rate and threshold c, play the steps" });
  const legend = el("div", { class: "cm-legend", role: "toolbar", "aria-label": "paths" });
  // zoom: a small group at the end of the legend row (it covers none of the plot's data)
  const zoom = el("div", { class: "cm-zoom", role: "toolbar", "aria-label": "zoom" });
  const top = el("div", { class: "cm-top" });
  top.append(legend, zoom);
  const stage = el("div", { class: "cm-stage" });
  const canvas = el("canvas", { class: "cm-canvas", role: "img" });
  const status = el("div", { class: "cm-status", role: "status", "aria-live": "polite" });
  // what is under the pointer (a pointer aid: the same numbers are in data-paths and the table)
  const hover = el("div", { class: "cm-hover", "aria-hidden": "true" });
  const zoomBox = el("div", { class: "cm-zoombox", "aria-hidden": "true" });
  stage.append(canvas, status, hover, zoomBox);
  const bar = el("div", { class: "cm-colourbar", "aria-hidden": "true" });
  const sliders = el("div", { class: "cm-sliders" });
  const play = el("div", { class: "cm-play" });
  root.append(top, stage, bar, sliders, play);
  parent.appendChild(root);

  const m = { root, legend, stage, canvas, status, hover, zoomBox, bar, sliders, play, hidden: new Set(), draws: 0,
    step: 0, playing: false, speed: 1, dragging: null, view: null, keyTimer: null, zoomed: null, zoomKey: null };
  root.__map = m;

  m.lr = slider(m, "learning rate", "lr");
  m.c = slider(m, "threshold c", "c");
  sliders.append(m.lr.row, m.c.row);

  // playback: Home, -1, play/pause, +1, End, the step slider, speed, reset
  const button = (label, aria, onClick) => {
    const b = el("button", { type: "button", class: "cm-btn", "aria-label": aria, title: aria }, label);
    b.addEventListener("click", (event) => { event.stopPropagation(); onClick(); });
    return b;
  };
  m.first = button("«", "first step", () => setStep(m, 0, true));
  m.back = button("−1", "one step back", () => setStep(m, m.step - 1, true));
  m.toggle = button("▶", "play", () => togglePlay(m));
  m.fwd = button("+1", "one step on", () => setStep(m, m.step + 1, true));
  m.last = button("»", "last step", () => setStep(m, m.data.steps, true));
  m.stepInput = el("input", { type: "range", min: "0", max: "1", value: "1", step: "1", class: "cm-range",
    "aria-label": "step" });
  m.stepInput.addEventListener("input", () => setStep(m, Number(m.stepInput.value), true));
  m.stepText = el("span", { class: "cm-value cm-steptext" });
  m.speedSelect = el("select", { class: "cm-speed", "aria-label": "speed" });
  SPEEDS.forEach(([label], i) => m.speedSelect.append(el("option", { value: String(i) }, label)));
  m.speedSelect.value = "1";
  m.speedSelect.addEventListener("change", () => { m.speed = Number(m.speedSelect.value); });
  m.reset = button("↺ Reset", "reset this landscape", () => {
    setWindow(m, null); // the reset view starts at the whole map
    if (m.data) draw(m, "zoom");
    if (m.trigger) m.trigger("reset", Date.now());
  });
  m.reset.classList.add("cm-reset");
  const stepGroup = el("span", { class: "cm-stepgroup" });
  stepGroup.append(el("span", { class: "cm-label" }, "step"), m.stepInput, m.stepText);
  play.append(m.first, m.back, m.toggle, m.fwd, m.last, stepGroup, m.speedSelect, m.reset);

  const zoomBy = (factor) => { if (m.data) { zoomCentre(m, factor); draw(m, "zoom"); } };
  m.zoomIn = button("+", "zoom in", () => zoomBy(2));
  m.zoomOut = button("−", "zoom out", () => zoomBy(0.5));
  m.fit = button("⤢ whole map", "show the whole map", () => { setWindow(m, null); if (m.data) draw(m, "zoom"); });
  m.zoomText = el("span", { class: "cm-value cm-zoomtext", "aria-hidden": "true" });
  for (const b of [m.zoomIn, m.zoomOut, m.fit]) b.classList.add("cm-zoombtn");
  zoom.append(m.zoomText, m.zoomIn, m.zoomOut, m.fit);

  // keyboard on the map: arrows one step, space play/pause, Home/End; + - 0 zoom, Shift+arrows pan
  root.addEventListener("keydown", (event) => {
    const t = event.target;
    if (t !== root && t !== canvas) return; // the sliders and buttons keep their own keys
    if (!m.data || event.ctrlKey || event.metaKey || event.altKey) return; // the browser's own zoom stays
    const pans = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (event.shiftKey && pans[event.key]) {
      event.preventDefault();
      const [fx, fy] = pans[event.key];
      panBy(m, fx * PAN_FRACTION, fy * PAN_FRACTION);
      draw(m, "zoom");
      return;
    }
    const keys = { ArrowLeft: () => setStep(m, m.step - 1, true), ArrowRight: () => setStep(m, m.step + 1, true),
      " ": () => togglePlay(m), Home: () => setStep(m, 0, true), End: () => setStep(m, m.data.steps, true),
      "+": () => zoomBy(2), "=": () => zoomBy(2), "-": () => zoomBy(0.5), "_": () => zoomBy(0.5),
      0: () => { setWindow(m, null); draw(m, "zoom"); } };
    if (keys[event.key]) { event.preventDefault(); keys[event.key](); }
  });

  pointerGestures(m);
  touchGestures(m);
  canvas.addEventListener("pointerleave", () => { hover.style.display = "none"; root.dataset.hover = ""; });

  new ResizeObserver(() => { if (m.data) { size(m); draw(m, "resize"); } }).observe(stage);
  return root;
}

// --- the pointer, the wheel and touch on the plot -----------------------------------------

function canvasPoint(m, event) {
  const box = m.canvas.getBoundingClientRect();
  return [event.clientX - box.left, event.clientY - box.top];
}

function inPlot(m, px, py) {
  const p = m.plot;
  return px >= p.l && px <= p.l + p.w && py >= p.t && py <= p.t + p.h;
}

// A press on the plot: a click (<= CLICK_PX) sets the start; a drag draws a zoom box at the
// whole map (or with Shift) and pans when zoomed in; a touch that moves scrolls the page.
function pointerGestures(m) {
  const canvas = m.canvas;
  const pointers = new Set();
  canvas.addEventListener("pointerdown", (event) => {
    if (event.isPrimary) pointers.clear();
    pointers.add(event.pointerId);
    m.press = null;
    hideBox(m);
    // a second finger is a pinch (touchGestures), never a click; other buttons do nothing
    if (pointers.size > 1 || !m.data || !m.plot || event.button > 0) return;
    const [px, py] = canvasPoint(m, event);
    const touch = event.pointerType === "touch";
    const onPlot = inPlot(m, px, py);
    const mode = touch || !onPlot ? "click" : m.zoomed && !event.shiftKey ? "pan" : "box";
    m.press = { id: event.pointerId, x: event.clientX, y: event.clientY, px, py, mode, moved: false, win: m.zoomed };
    if (mode !== "click") try { canvas.setPointerCapture(event.pointerId); } catch { /* a synthetic pointer */ }
  });
  canvas.addEventListener("pointermove", (event) => {
    const press = m.press;
    if (!press || event.pointerId !== press.id) { showHover(m, event); return; }
    if (!press.moved && Math.hypot(event.clientX - press.x, event.clientY - press.y) <= CLICK_PX) {
      showHover(m, event);
      return;
    }
    press.moved = true;
    if (press.mode === "click") return; // a finger that moves scrolls the page
    m.hover.style.display = "none";
    const [px, py] = canvasPoint(m, event);
    if (press.mode === "pan" && press.win) {
      const p = m.plot, [[x0, x1], [y0, y1]] = press.win;
      const dx = ((px - press.px) / p.w) * (x1 - x0), dy = ((py - press.py) / p.h) * (y1 - y0);
      setWindow(m, legalWindow(m.data, x0 - dx, y1 + dy, x1 - x0, y1 - y0));
      m.root.classList.add("panning");
      drawSoon(m, "zoom");
    } else if (press.mode === "box") showBox(m, press.px, press.py, px, py);
  });
  const end = (event) => {
    pointers.delete(event.pointerId);
    const press = m.press;
    if (!press || event.pointerId !== press.id) return;
    m.press = null;
    m.root.classList.remove("panning");
    hideBox(m);
    if (event.type === "pointercancel" || !m.data) return;
    const [px, py] = canvasPoint(m, event);
    if (!press.moved) clickAt(m, px, py);
    else if (press.mode === "box") { zoomToBox(m, press.px, press.py, px, py); draw(m, "zoom"); }
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  // Ctrl/⌘ + wheel, and a trackpad pinch (Chromium sends it as a wheel with ctrlKey): zoom
  // around the pointer; a plain wheel is left to the page, which scrolls.
  canvas.addEventListener("wheel", (event) => {
    if (!(event.ctrlKey || event.metaKey) || !m.data || !m.plot) return;
    event.preventDefault();
    const unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
    const delta = Math.max(-100, Math.min(100, event.deltaY * unit));
    const p = m.plot;
    const [px, py] = canvasPoint(m, event);
    zoomAround(m, Math.exp(-delta * 0.005), Math.min(Math.max(px, p.l), p.l + p.w), Math.min(Math.max(py, p.t), p.t + p.h));
    drawSoon(m, "zoom");
  }, { passive: false });
}

// A click at canvas pixel (px, py): the start (or the guess) goes to the data point there.
// Zoomed in, it is sent after DOUBLE_MS unless a second click makes it a double-click (the
// whole map, the start stays); at the whole map it is sent at once (a double-click there has
// nothing to undo, its second click is dropped).
function clickAt(m, px, py) {
  if (!inPlot(m, px, py)) return;
  const now = performance.now();
  const last = m.lastClick;
  m.lastClick = { time: now, px, py };
  if (last && now - last.time <= DOUBLE_MS && Math.hypot(px - last.px, py - last.py) <= 2 * CLICK_PX) {
    m.lastClick = null;
    clearTimeout(m.clickTimer);
    if (m.zoomed) { setWindow(m, null); draw(m, "zoom"); }
    return;
  }
  const [x, y] = toData(m, px, py);
  const send = () => { if (m.trigger) m.trigger("click", { x, y }); };
  clearTimeout(m.clickTimer);
  if (m.zoomed) m.clickTimer = setTimeout(send, DOUBLE_MS); else send();
}

// The zoom box from canvas pixel (ax, ay) to (bx, by), cut to the plot; thinner than
// BOX_MIN_PX in one direction, it spans the plot that way (and zooms only the other axis).
function boxPixels(m, ax, ay, bx, by) {
  const p = m.plot;
  const cx = (v) => Math.min(Math.max(v, p.l), p.l + p.w), cy = (v) => Math.min(Math.max(v, p.t), p.t + p.h);
  ax = cx(ax); bx = cx(bx); ay = cy(ay); by = cy(by);
  const wide = Math.abs(bx - ax) >= BOX_MIN_PX, tall = Math.abs(by - ay) >= BOX_MIN_PX;
  return { wide, tall, left: wide ? Math.min(ax, bx) : p.l, right: wide ? Math.max(ax, bx) : p.l + p.w,
    top: tall ? Math.min(ay, by) : p.t, bottom: tall ? Math.max(ay, by) : p.t + p.h };
}

function showBox(m, ax, ay, bx, by) {
  const b = boxPixels(m, ax, ay, bx, by);
  const s = m.zoomBox.style;
  s.display = b.wide || b.tall ? "block" : "none";
  s.left = `${b.left}px`; s.top = `${b.top}px`;
  s.width = `${b.right - b.left}px`; s.height = `${b.bottom - b.top}px`;
}

function hideBox(m) {
  m.zoomBox.style.display = "none";
}

function zoomToBox(m, ax, ay, bx, by) {
  const b = boxPixels(m, ax, ay, bx, by);
  if (!b.wide && !b.tall) return;
  const [lx, ty] = toData(m, b.left, b.top), [rx, by_] = toData(m, b.right, b.bottom);
  // a box smaller than MAX_ZOOM allows: the smallest window around its centre
  const [w, h] = legalSized(m.data, rx - lx, ty - by_);
  setWindow(m, legalWindow(m.data, (lx + rx) / 2 - w / 2, (ty + by_) / 2 + h / 2, w, h));
}

// Two fingers: pinch to zoom around their midpoint (the data point under it stays under it),
// move to pan. One finger is left to the page (it scrolls; a tap is a click, see above).
function touchGestures(m) {
  const canvas = m.canvas;
  let pinch = null;
  const fingers = (event) => {
    const [a, b] = event.touches;
    const box = canvas.getBoundingClientRect();
    return { mx: (a.clientX + b.clientX) / 2 - box.left, my: (a.clientY + b.clientY) / 2 - box.top,
      d: Math.hypot(a.clientX - b.clientX, a.clientY - b.clientY) };
  };
  canvas.addEventListener("touchstart", (event) => {
    if (event.touches.length < 2 || !m.data || !m.plot) return;
    event.preventDefault(); // no page pinch-zoom or scroll while two fingers are on the map
    m.press = null;
    const g = fingers(event);
    pinch = { ...g, win: shownWindow(m), point: toData(m, g.mx, g.my), key: m.zoomKey };
  }, { passive: false });
  canvas.addEventListener("touchmove", (event) => {
    if (!pinch || event.touches.length < 2 || !m.data) return;
    event.preventDefault();
    if (pinch.key !== m.zoomKey) { pinch = null; return; } // another map arrived meanwhile
    const g = fingers(event);
    const p = m.plot, [[x0, x1], [y0, y1]] = pinch.win;
    const f = g.d / Math.max(1, pinch.d);
    const [w, h] = legalSized(m.data, (x1 - x0) / f, (y1 - y0) / f);
    setWindow(m, legalWindow(m.data, pinch.point[0] - ((g.mx - p.l) / p.w) * w, pinch.point[1] + ((g.my - p.t) / p.h) * h, w, h));
    drawSoon(m, "zoom");
  }, { passive: false });
  const end = (event) => { if (event.touches.length < 2) pinch = null; };
  canvas.addEventListener("touchend", end);
  canvas.addEventListener("touchcancel", end);
}

// The point under the pointer, or the nearest drawn step of a path within 10 px of it.
function showHover(m, event) {
  if (!m.data || !m.plot || !m.drawn) return;
  const box = m.canvas.getBoundingClientRect();
  const p = m.plot;
  const px = event.clientX - box.left, py = event.clientY - box.top;
  const inside = px >= p.l && px <= p.l + p.w && py >= p.t && py <= p.t + p.h;
  if (!inside || m.press?.moved) { m.hover.style.display = "none"; m.root.dataset.hover = ""; return; }
  const [[x0, x1], [y0, y1]] = shownWindow(m);
  const toX = (x) => p.l + ((x - x0) / (x1 - x0)) * p.w, toY = (y) => p.t + ((y1 - y) / (y1 - y0)) * p.h;
  let best = null;
  for (const path of m.data.paths) {
    const points = m.drawn[path.mode];
    if (!points) continue;
    points.forEach(([x, y], k) => {
      const d = Math.hypot(toX(x) - px, toY(y) - py);
      if (d <= 10 && (!best || d < best.d)) best = { d, label: path.label, k, x, y };
    });
  }
  const [a, b] = m.data.axis_labels.map((s) => s.split(" ").pop());
  // zoomed in, as many digits as tell neighbouring pixels apart (3 significant ones at the whole map)
  const fx = m.zoomed ? fine(x1 - x0, p.w) : g3, fy = m.zoomed ? fine(y1 - y0, p.h) : g3;
  const text = best
    ? `${best.label}, step ${best.k}: ${a} = ${fx(best.x)}, ${b} = ${fy(best.y)}`
    : `${a} = ${fx(x0 + ((px - p.l) / p.w) * (x1 - x0))}, ${b} = ${fy(y1 - ((py - p.t) / p.h) * (y1 - y0))}`;
  m.hover.textContent = text;
  m.hover.style.display = "block";
  m.root.dataset.hover = text;
}

// A formatter with the decimals that a span of `span` over `pixels` pixels needs.
function fine(span, pixels) {
  const decimals = Math.min(12, Math.max(0, Math.ceil(-Math.log10(span / Math.max(1, pixels)))));
  return (v) => (Math.abs(v) >= 1e5 || !Number.isFinite(v) ? g3(v) : v.toFixed(decimals));
}

function slider(m, name, which) {
  const row = el("div", { class: "cm-slider" });
  const label = el("label", { class: "cm-label" }, name);
  const input = el("input", { type: "range", min: "0", max: "1", value: "0", step: "1", class: "cm-range",
    "aria-label": name });
  const value = el("span", { class: "cm-value" });
  const id = `cm-${which}-${Math.random().toString(36).slice(2, 8)}`;
  input.id = id;
  label.setAttribute("for", id);
  row.append(label, input, value);
  const s = { row, input, value, which, keyboard: false };
  input.addEventListener("pointerdown", () => { s.keyboard = false; m.dragging = which; });
  input.addEventListener("keydown", () => { s.keyboard = true; m.dragging = which; });
  input.addEventListener("input", () => {
    const i = Number(input.value);
    if (which === "lr") m.lrIdx = i; else m.cIdx = i;
    m.dragging = which;
    showSliders(m);
    draw(m, "drag");
  });
  input.addEventListener("change", () => {
    clearTimeout(m.keyTimer);
    m.keyTimer = setTimeout(() => commit(m), s.keyboard ? KEY_COMMIT_MS : 0);
  });
  return s;
}

function commit(m) {
  m.dragging = null;
  if (!m.data || !m.trigger) return;
  if (m.lrIdx === m.data.lr_index && m.cIdx === m.data.c_index) return; // nothing moved
  m.committed = [m.lrIdx, m.cIdx];
  m.trigger("commit", { lr: m.data.lr_values[m.lrIdx], c: m.data.c_values[m.cIdx] });
}

function showSliders(m) {
  const d = m.data;
  for (const [s, idx, labels] of [[m.lr, m.lrIdx, d.lr_labels], [m.c, m.cIdx, d.c_labels]]) {
    s.input.max = String(labels.length - 1);
    if (Number(s.input.value) !== idx) s.input.value = String(idx);
    s.input.setAttribute("aria-valuetext", labels[idx]);
    s.value.textContent = labels[idx];
  }
  // c moves no path of a rule it does not touch: say so when only those are shown
  const cMatters = d.paths.some((p) => p.uses_c && !m.hidden.has(p.mode));
  m.c.row.classList.toggle("cm-muted", !cMatters);
  m.root.dataset.lr = d.lr_labels[m.lrIdx];
  m.root.dataset.c = d.c_labels[m.cIdx];
}

// --- a new view from Python ---------------------------------------------------------

function adopt(m, data) {
  const steps = data.steps;
  // The zoom is kept while the map is the same map (its window and its loss surface: a commit
  // of lr or c, steps, the start, paths); another landscape or parameter shows the whole map.
  const windowKey = JSON.stringify(data.window);
  if (windowKey !== m.windowKey || data.image !== m.imgSrc) {
    m.windowKey = windowKey;
    m.zoomKey = (m.zoomKey || 0) + 1;
    setWindow(m, null);
    m.press = null;
    hideBox(m);
  }
  m.data = data;
  m.view = data.view;
  m.paths = data.paths.map((p) => ({
    ...p,
    xy: new Float32Array(decode(p.points).buffer),
    bits: p.clipped ? decode(p.clipped) : null,
  }));
  for (const mode of [...m.hidden]) if (!data.paths.some((p) => p.mode === mode)) m.hidden.delete(mode);
  if (!m.dragging) {
    m.lrIdx = data.lr_index;
    m.cIdx = data.c_index;
  }
  m.committed = null;
  if (!m.playing) m.step = steps;
  m.step = Math.min(m.step, steps);
  m.stepInput.max = String(steps);
  m.root.classList.toggle("present", !!data.present);
  const ds = m.root.dataset;
  ds.view = data.view;
  ds.styles = JSON.stringify(Object.fromEntries(data.paths.map((p) =>
    [p.mode, { label: p.label, color: p.color, dash: p.dash, marker: p.marker }])));
  ds.start = JSON.stringify(data.start);
  ds.guess = JSON.stringify(data.guess);
  ds.axes = JSON.stringify(data.axis_labels);
  ds.mapWindow = windowKey;
  if (!m.img || m.imgSrc !== data.image) {
    m.imgSrc = data.image;
    m.img = new Image();
    m.img.onload = () => draw(m, "image");
    m.img.src = data.image;
  }
  buildLegend(m);
  buildColourBar(m);
  showSliders(m);
  size(m);
}

function buildLegend(m) {
  m.legend.replaceChildren();
  for (const p of m.paths) {
    const b = el("button", { type: "button", class: "cm-chip", "aria-pressed": String(!m.hidden.has(p.mode)),
      "data-mode": p.mode, title: `show or hide ${p.label}` });
    const swatch = el("span", { class: "cm-swatch" });
    swatch.style.borderTop = `3px ${p.dash === "solid" ? "solid" : p.dash === "dot" ? "dotted" : "dashed"} ${p.color}`;
    b.append(swatch, document.createTextNode(p.label));
    b.style.color = p.color;
    b.addEventListener("click", (event) => {
      event.stopPropagation();
      if (m.hidden.has(p.mode)) m.hidden.delete(p.mode); else m.hidden.add(p.mode);
      b.setAttribute("aria-pressed", String(!m.hidden.has(p.mode)));
      showSliders(m);
      draw(m, "toggle");
    });
    m.legend.append(b);
  }
  const key = (text, css) => {
    const k = el("span", { class: "cm-key" });
    const s = el("span", { class: "cm-swatch" });
    s.style.cssText = css;
    k.append(s, document.createTextNode(text));
    return k;
  };
  if (m.data.walls.length) m.legend.append(key("the wall (analytic)", `border-top: 3px dashed ${m.data.wall_color}`));
  m.legend.append(key("start", "border:0;width:auto;height:auto", "★"));
  m.legend.lastChild.firstChild.textContent = "★";
  if (m.data.guess) m.legend.append(key("your guess", "border:0;width:auto;height:auto"));
  if (m.data.guess) m.legend.lastChild.firstChild.textContent = "✕";
}

function buildColourBar(m) {
  const d = m.data;
  const [zmin, zmax] = d.colour_range;
  const stops = d.colour_scale.map(([s, c]) => `${c} ${(100 * s).toFixed(1)}%`).join(", ");
  m.bar.replaceChildren();
  const strip = el("div", { class: "cm-strip" });
  strip.style.background = `linear-gradient(to right, ${stops})`;
  const ticks = el("div", { class: "cm-ticks" });
  for (const [v, text] of d.colour_ticks) {
    const t = el("span", {}, text);
    t.style.left = `${(100 * (v - zmin)) / (zmax - zmin)}%`;
    ticks.append(t);
  }
  m.bar.append(el("span", { class: "cm-label" }, "loss"), strip, ticks);
  m.bar.style.setProperty("--cm-left", `${PLOT_MARGIN.l}px`);
}

function size(m) {
  const width = Math.max(200, Math.round(m.stage.clientWidth || m.root.clientWidth || 600));
  const narrow = width < 480;
  const wanted = narrow ? Math.round(width * 1.0) : Math.min(m.data.height, Math.round(width * 0.92));
  const dpr = window.devicePixelRatio || 1;
  if (m.canvas.width !== Math.round(width * dpr) || m.canvas.height !== Math.round(wanted * dpr)) {
    m.canvas.width = Math.round(width * dpr);
    m.canvas.height = Math.round(wanted * dpr);
    m.canvas.style.height = `${wanted}px`;
  }
  const margin = narrow ? { l: 46, r: 8, t: 8, b: 38 } : PLOT_MARGIN;
  m.plot = { l: margin.l, t: margin.t, w: width - margin.l - margin.r, h: wanted - margin.t - margin.b,
    W: width, H: wanted, dpr, narrow };
  m.root.classList.toggle("narrow", narrow);
}

// --- drawing ---------------------------------------------------------------------------

function runOf(m, p) {
  // the lr arm while the learning rate is moved, else the c arm (its centre is the view's run)
  return m.lrIdx !== m.data.lr_index ? p.lr_runs[m.lrIdx] : p.c_runs[m.cIdx];
}

function clippedAt(m, p, r, k) {
  if (!p.bits || k < 0 || k >= m.data.steps) return false;
  const bit = r * m.data.steps + k;
  return (p.bits[bit >> 3] >> (7 - (bit & 7))) & 1;
}

function inside(d, x, y) {
  const [[x0, x1], [y0, y1]] = d.window;
  return x >= x0 && x <= x1 && y >= y0 && y <= y1;
}

// Where the segment from (ax, ay) (inside) to (bx, by) crosses the window's border.
function border(d, ax, ay, bx, by) {
  const [[x0, x1], [y0, y1]] = d.window;
  const dx = bx - ax, dy = by - ay;
  let t = 1;
  if (dx > 0) t = Math.min(t, (x1 - ax) / dx); else if (dx < 0) t = Math.min(t, (x0 - ax) / dx);
  if (dy > 0) t = Math.min(t, (y1 - ay) / dy); else if (dy < 0) t = Math.min(t, (y0 - ay) / dy);
  if (!Number.isFinite(t)) t = 0;
  t = Math.max(0, t);
  return [ax + t * dx, ay + t * dy];
}

function marker(ctx, shape, x, y, r) {
  ctx.beginPath();
  switch (shape) {
    case "square": ctx.rect(x - r, y - r, 2 * r, 2 * r); break;
    case "diamond": ctx.moveTo(x, y - 1.3 * r); ctx.lineTo(x + 1.3 * r, y); ctx.lineTo(x, y + 1.3 * r); ctx.lineTo(x - 1.3 * r, y); ctx.closePath(); break;
    case "triangle-up": ctx.moveTo(x, y - 1.3 * r); ctx.lineTo(x + 1.2 * r, y + r); ctx.lineTo(x - 1.2 * r, y + r); ctx.closePath(); break;
    case "triangle-down": ctx.moveTo(x, y + 1.3 * r); ctx.lineTo(x + 1.2 * r, y - r); ctx.lineTo(x - 1.2 * r, y - r); ctx.closePath(); break;
    case "star": star(ctx, x, y, 1.4 * r); return;
    default: ctx.arc(x, y, r, 0, 2 * Math.PI);
  }
}

function star(ctx, x, y, r) {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    const rr = i % 2 ? r * 0.45 : r;
    if (i) ctx.lineTo(x + rr * Math.cos(a), y + rr * Math.sin(a)); else ctx.moveTo(x + rr * Math.cos(a), y + rr * Math.sin(a));
  }
  ctx.closePath();
}

function exitLabel(d, i, ax, ay, bx, by) {
  const [[x0, x1], [y0, y1]] = d.window;
  const thrown = Math.hypot(bx - ax, by - ay) > Math.max(x1 - x0, y1 - y0);
  return { thrown, text: `step ${i}: ${thrown ? "thrown to" : "left the map, to"} (${g3(bx)}, ${g3(by)})` };
}

function draw(m, why) {
  const d = m.data;
  if (!d || !m.plot) return;
  const { l, t, w, h, W, H, dpr, narrow } = m.plot;
  const ctx = m.canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, W, H);
  // everything is drawn in the shown window V. The image is the loss sampled on a grid from
  // corner to corner of the map's window (landscapes/core/mesh.py: linspace), row 0 at its top:
  // pixel i's centre is grid point i, so data x is at pixel coordinate 0.5 + (x - X0) / W * (n - 1).
  const V = shownWindow(m);
  const [[x0, x1], [y0, y1]] = V;
  const [[X0, X1], [Y0, Y1]] = d.window;
  const sx = (x) => l + ((x - x0) / (x1 - x0)) * w;
  const sy = (y) => t + ((y1 - y) / (y1 - y0)) * h;
  const shown = (x, y) => x >= x0 && x <= x1 && y >= y0 && y <= y1;
  const font = d.present ? (narrow ? 13 : 17) : narrow ? 11 : 13;

  const img = m.img;
  if (img && img.complete && img.naturalWidth) {
    const iw = img.naturalWidth - 1, ih = img.naturalHeight - 1;
    ctx.drawImage(img, 0.5 + ((x0 - X0) / (X1 - X0)) * iw, 0.5 + ((Y1 - y1) / (Y1 - Y0)) * ih,
      ((x1 - x0) / (X1 - X0)) * iw, ((y1 - y0) / (Y1 - Y0)) * ih, l, t, w, h);
  } else { ctx.fillStyle = "#f4f1ea"; ctx.fillRect(l, t, w, h); }

  // axes
  ctx.strokeStyle = "#444"; ctx.lineWidth = 1; ctx.setLineDash([]);
  ctx.strokeRect(l + 0.5, t + 0.5, w, h);
  ctx.fillStyle = "#222"; ctx.font = `${font}px sans-serif`;
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const [v, text] of niceTicks(x0, x1, narrow ? 4 : 7)) {
    ctx.beginPath(); ctx.moveTo(sx(v), t + h); ctx.lineTo(sx(v), t + h + 4); ctx.stroke();
    ctx.fillText(text, sx(v), t + h + 6);
  }
  ctx.fillText(d.axis_labels[0], l + w / 2, t + h + 8 + font);
  ctx.textAlign = "right"; ctx.textBaseline = "middle";
  for (const [v, text] of niceTicks(y0, y1, narrow ? 4 : 7)) {
    ctx.beginPath(); ctx.moveTo(l, sy(v)); ctx.lineTo(l - 4, sy(v)); ctx.stroke();
    ctx.fillText(text, l - 6, sy(v));
  }
  ctx.save(); ctx.translate(12, t + h / 2); ctx.rotate(-Math.PI / 2); ctx.textAlign = "center";
  ctx.fillText(d.axis_labels[1], 0, 0); ctx.restore();

  ctx.save();
  ctx.beginPath(); ctx.rect(l, t, w, h); ctx.clip();
  // the walls
  ctx.strokeStyle = d.wall_color; ctx.lineWidth = 2.5; ctx.setLineDash([12, 6]);
  for (const wall of d.walls) {
    ctx.beginPath();
    wall.forEach(([x, y], i) => (i ? ctx.lineTo(sx(x), sy(y)) : ctx.moveTo(sx(x), sy(y))));
    ctx.stroke();
  }

  const drawn = {};
  const exits = [];
  const events = [];
  const S = d.steps;
  for (const p of m.paths) {
    if (m.hidden.has(p.mode)) continue;
    const r = runOf(m, p);
    const n = Math.min(p.lengths[r], m.step + 1);
    const xy = p.xy, o = r * (S + 1) * 2;
    const pts = [];
    for (let k = 0; k < n; k++) pts.push([xy[o + 2 * k], xy[o + 2 * k + 1]]);
    drawn[p.mode] = pts;
    // the path: each step inside, cut at the border where it leaves or re-enters
    ctx.strokeStyle = p.color; ctx.lineWidth = 2.5; ctx.setLineDash(DASHES[p.dash] || []);
    ctx.beginPath();
    let exit = null;
    let pen = false; // one continuous line while the path stays on the map (its dashes run on)
    for (let k = 1; k < n; k++) {
      const [ax, ay] = pts[k - 1], [bx, by] = pts[k];
      const ia = inside(d, ax, ay), ib = inside(d, bx, by);
      if (ia && ib) {
        if (!pen) ctx.moveTo(sx(ax), sy(ay));
        ctx.lineTo(sx(bx), sy(by));
        pen = true;
      } else if (ia) {
        const [cx, cy] = border(d, ax, ay, bx, by);
        if (!pen) ctx.moveTo(sx(ax), sy(ay));
        ctx.lineTo(sx(cx), sy(cy));
        pen = false;
        if (!exit) exit = { k, cx, cy, bx, by, ...exitLabel(d, k, ax, ay, bx, by) };
      } else if (ib) {
        const [cx, cy] = border(d, bx, by, ax, ay);
        ctx.moveTo(sx(cx), sy(cy)); ctx.lineTo(sx(bx), sy(by));
        pen = true;
      } else pen = false;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    // a marker at every point, rings where clipping fired
    ctx.fillStyle = p.color;
    for (let k = 0; k < n; k++) {
      const [x, y] = pts[k];
      if (!inside(d, x, y) || !shown(x, y)) continue;
      marker(ctx, p.marker, sx(x), sy(y), 2.6); ctx.fill();
      if (k < m.step && clippedAt(m, p, r, k)) {
        ctx.strokeStyle = p.color; ctx.lineWidth = 1.6;
        ctx.beginPath(); ctx.arc(sx(x), sy(y), 6.5, 0, 2 * Math.PI); ctx.stroke();
      }
    }
    // the head: where the path is at the shown step
    const [hx, hy] = pts[n - 1];
    if (inside(d, hx, hy)) {
      ctx.lineWidth = 1.5; ctx.strokeStyle = "white";
      marker(ctx, p.marker, sx(hx), sy(hy), 6.5); ctx.fill(); ctx.stroke();
    }
    // the step just taken was clipped: highlight it as it happens
    const last = n - 2;
    if (m.step > 0 && m.step < S + 1 && n === m.step + 1 && clippedAt(m, p, r, last)) {
      const [cx, cy] = pts[last];
      if (inside(d, cx, cy)) {
        ctx.strokeStyle = p.color; ctx.lineWidth = 3;
        ctx.beginPath(); ctx.arc(sx(cx), sy(cy), 12, 0, 2 * Math.PI); ctx.stroke();
      }
      events.push(`${p.label} clipped step ${last}`);
    }
    if (exit) {
      exits.push({ p, ...exit });
      if (exit.k === m.step) events.push(`${p.label} ${exit.thrown ? "is thrown to" : "leaves the map, to"} (${g3(exit.bx)}, ${g3(exit.by)})`);
    }
    if (p.lengths[r] < S + 1 && n === p.lengths[r] && m.step >= n - 1 && m.step < S + 1 && n - 1 === m.step) {
      events.push(`${p.label} stopped: a number stopped being finite`);
    }
  }
  if (!m.zoomed) ctx.restore(); // zoomed in, the start and the guess are cut at the plot's border too

  // the start, and the learner's guess
  const [stx, sty] = d.start;
  ctx.fillStyle = "black"; ctx.strokeStyle = "white"; ctx.lineWidth = 1.5;
  star(ctx, sx(stx), sy(sty), 10); ctx.fill(); ctx.stroke();
  if (d.guess) {
    const [gx, gy] = d.guess;
    ctx.strokeStyle = "black"; ctx.lineWidth = 3;
    ctx.beginPath(); ctx.moveTo(sx(gx) - 8, sy(gy) - 8); ctx.lineTo(sx(gx) + 8, sy(gy) + 8);
    ctx.moveTo(sx(gx) + 8, sy(gy) - 8); ctx.lineTo(sx(gx) - 8, sy(gy) + 8); ctx.stroke();
    ctx.fillStyle = "black"; ctx.textAlign = "center"; ctx.textBaseline = "bottom";
    ctx.fillText("your guess", sx(gx), sy(gy) - 10);
  }
  if (m.zoomed) ctx.restore();
  // boxes an exit label must not cover: the start and the guess with its label
  const placed = [{ x: sx(stx) - 12, y: sy(sty) - 12, w: 24, h: 24 }];
  if (d.guess) {
    const gw = ctx.measureText("your guess").width;
    placed.push({ x: sx(d.guess[0]) - Math.max(gw / 2, 10), y: sy(d.guess[1]) - 12 - font, w: Math.max(gw, 20), h: font + 22 });
  }

  // where paths leave the map: an arrow on the border and what happened (paths that left
  // together share one label)
  const groups = [];
  for (const e of exits) {
    if (!shown(e.cx, e.cy)) continue; // the path leaves the map outside the zoomed view
    const same = groups.find((g) => g[0].k === e.k && Math.abs(g[0].cx - e.cx) < 1e-9 && Math.abs(g[0].cy - e.cy) < 1e-9);
    if (same) same.push(e); else groups.push([e]);
  }
  ctx.font = `${font}px sans-serif`;
  const exitTexts = [];
  for (const g of groups) {
    const e = g[0];
    const bx = sx(e.cx), by = sy(e.cy);
    const who = g.length > 1 ? (g.length === exits.length && exits.length === m.paths.filter((p) => !m.hidden.has(p.mode)).length ? "all paths" : g.map((x) => x.p.label).join(" & ")) : "";
    const lines = who ? [`step ${e.k} (${who}):`, e.text.replace(/^step \d+: /, "")] : [e.text];
    exitTexts.push(lines.join(" "));
    const tw = Math.max(...lines.map((s) => ctx.measureText(s).width)) + 8;
    const th = lines.length * (font + 3) + 4;
    // inside the plot, pulled in from the border point, below earlier labels
    let lx = Math.min(Math.max(bx - tw / 2, l + 4), l + w - tw - 4);
    let ly = Math.min(Math.max(by + (by < t + h / 2 ? 26 : -26 - th), t + 4), t + h - th - 4);
    // below (or above, near the bottom) whatever it would cover: earlier labels, the start, the guess
    const hits = (y) => placed.find((q) => lx < q.x + q.w && q.x < lx + tw && y < q.y + q.h && q.y < y + th);
    const down = by < t + h / 2;
    for (let tries = 0, q = hits(ly); q && tries < 12; tries += 1, q = hits(ly)) {
      const next = down ? q.y + q.h + 4 : q.y - th - 4;
      if (next < t + 4 || next > t + h - th - 4) break;
      ly = next;
    }
    placed.push({ x: lx, y: ly, w: tw, h: th });
    const colour = g.length === 1 ? e.p.color : "#333";
    ctx.strokeStyle = colour; ctx.lineWidth = 2.5;
    ctx.beginPath(); ctx.moveTo(lx + tw / 2, by < ly ? ly : ly + th); ctx.lineTo(bx, by); ctx.stroke();
    ctx.fillStyle = colour;
    ctx.beginPath(); ctx.arc(bx, by, 4, 0, 2 * Math.PI); ctx.fill();
    ctx.fillStyle = "rgba(255,255,255,0.92)"; ctx.fillRect(lx, ly, tw, th);
    ctx.strokeRect(lx, ly, tw, th);
    ctx.fillStyle = colour; ctx.textAlign = "left"; ctx.textBaseline = "top";
    lines.forEach((s, i) => ctx.fillText(s, lx + 4, ly + 3 + i * (font + 3)));
  }

  // what the page exposes
  m.stepInput.value = String(m.step);
  m.stepInput.setAttribute("aria-valuetext", `step ${m.step} of ${S}`);
  m.stepText.textContent = `${m.step} / ${S}`;
  m.toggle.textContent = m.playing ? "❚❚" : "▶";
  m.toggle.setAttribute("aria-label", m.playing ? "pause" : "play");
  if (why === "step") m.status.textContent = events.length ? `Step ${m.step}: ${events.join("; ")}.` : "";
  else if (why !== "resize" && why !== "image" && why !== "zoom") m.status.textContent = "";
  const factor = zoomFactor(m);
  const zoomWords = m.zoomed ? `, zoomed ${Number(factor.toPrecision(2))} times on ${d.axis_labels[0]} ${g3(x0)} to ${g3(x1)}, ${d.axis_labels[1]} ${g3(y0)} to ${g3(y1)}` : "";
  m.canvas.setAttribute("aria-label", `descent map at learning rate ${d.lr_labels[m.lrIdx]}, threshold c ${d.c_labels[m.cIdx]}, step ${m.step}${zoomWords}`);
  const ds = m.root.dataset;
  ds.paths = JSON.stringify(drawn);
  m.drawn = drawn;
  ds.exits = JSON.stringify(exitTexts);
  ds.plot = JSON.stringify({ left: l, top: t, width: w, height: h, window: V });
  ds.zoom = String(Number(factor.toPrecision(4)));
  m.zoomText.textContent = m.zoomed ? `${Number(factor.toPrecision(2))}×` : "";
  const atWhole = !m.zoomed;
  for (const [b, off] of [[m.fit, atWhole], [m.zoomOut, atWhole], [m.zoomIn, factor >= MAX_ZOOM * (1 - 1e-9)]]) {
    if (off && document.activeElement === b) m.root.focus(); // a disabled button would drop the focus
    b.disabled = off;
  }
  ds.step = String(m.step);
  ds.playing = String(m.playing);
  m.draws += 1;
  ds.draws = String(m.draws);
  ds.drawnAt = String(performance.now());
}

// --- playback --------------------------------------------------------------------------

function setStep(m, k, stop) {
  if (!m.data) return;
  if (stop && m.playing) pause(m);
  const next = Math.max(0, Math.min(m.data.steps, Math.round(k)));
  if (next === m.step && !m.playing) { draw(m, "step"); return; }
  m.step = next;
  draw(m, "step");
}

function pause(m) {
  m.playing = false;
  cancelAnimationFrame(m.raf);
}

function togglePlay(m) {
  if (!m.data) return;
  if (m.playing) { pause(m); draw(m, "step"); return; }
  if (m.step >= m.data.steps) m.step = 0;
  m.playing = true;
  let last = performance.now(), carry = 0;
  const tick = (now) => {
    if (!m.playing || !m.root.isConnected) return;
    carry += ((now - last) / 1000) * SPEEDS[m.speed][1];
    last = now;
    if (carry >= 1) {
      const n = Math.floor(carry);
      carry -= n;
      m.step = Math.min(m.data.steps, m.step + n);
      if (m.step >= m.data.steps) m.playing = false;
      draw(m, "step");
    }
    if (m.playing) m.raf = requestAnimationFrame(tick);
  };
  draw(m, "step");
  m.raf = requestAnimationFrame(tick);
}

// --- entry: called on every script run with the view's data -------------------------------

// The data arrives as JSON in raw bytes (ui/fences.py: component_data); a string or an object
// is read too.
const readData = (data) => {
  if (typeof data === "string") return JSON.parse(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return JSON.parse(new TextDecoder().decode(data));
  return data;
};

export default function ({ data: raw, parentElement, setTriggerValue }) {
  const data = readData(raw);
  const root = parentElement.querySelector(".cliffs-map") || build(parentElement);
  const m = root.__map;
  m.trigger = setTriggerValue;
  if (!data || data.view === m.view) return; // the same view: nothing to redraw
  adopt(m, data);
  draw(m, "view");
}

// Installed before any page script runs (context.add_init_script) by tests/browser/streamlit_helpers.py.
// Defines window.__cliffs: run counters read from Streamlit's websocket, a chart-change probe with
// in-page timestamps, and chart readers.
(() => {
  if (window.__cliffs) return;
  const c = {
    sockets: 0, started: 0, finished: 0, superseded: 0, pageNotFound: null,
    lastFinishedAt: null, finishedAt: [], probe: null,
  };
  window.__cliffs = c;

  // --- Run counting from the websocket -------------------------------------
  // ForwardMsg (streamlit/proto/ForwardMsg.proto): field 4 new_session (a run
  // starts), field 6 script_finished (enum; 2 = FINISHED_EARLY_FOR_RERUN, i.e.
  // superseded by a newer run), field 15 page_not_found. Only the top level
  // is scanned.
  function varint(b, i) {
    let v = 0, mul = 1, x;
    do { x = b[i++]; v += (x & 0x7f) * mul; mul *= 128; } while (x & 0x80 && i < b.length);
    return [v, i];
  }
  function scan(buffer) {
    const b = new Uint8Array(buffer);
    let i = 0;
    while (i < b.length) {
      let key; [key, i] = varint(b, i);
      const fieldNo = Math.floor(key / 8), wire = key & 7;
      if (wire === 0) {
        let v; [v, i] = varint(b, i);
        if (fieldNo === 6) return ['finished', v];
      } else if (wire === 2) {
        let n; [n, i] = varint(b, i);
        if (fieldNo === 4) return ['started', 0];
        if (fieldNo === 15) return ['notFound', 0];
        i += n;
      } else if (wire === 1) { i += 8; } else if (wire === 5) { i += 4; } else { return null; }
    }
    return null;
  }
  function onMessage(data) {
    if (typeof Blob !== 'undefined' && data instanceof Blob) {
      data.arrayBuffer().then(onMessage);
      return;
    }
    if (!(data instanceof ArrayBuffer)) return;
    let kind = null;
    try { kind = scan(data); } catch (e) { return; }
    if (!kind) return;
    if (kind[0] === 'started') { c.started++; return; }
    if (kind[0] === 'notFound') { c.pageNotFound = location.pathname; return; }
    if (kind[1] === 2) { c.superseded++; return; }
    c.finished++;
    c.lastFinishedAt = performance.now();
    c.finishedAt.push(c.lastFinishedAt);
    if (c.finishedAt.length > 1000) c.finishedAt.shift();
    if (c.probe && c.probe.tFinished === null) c.probe.tFinished = c.lastFinishedAt;
  }
  const NativeWebSocket = window.WebSocket;
  class CountingWebSocket extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      c.sockets++;
      this.addEventListener('message', (ev) => onMessage(ev.data));
    }
  }
  window.WebSocket = CountingWebSocket;

  // Time of the last DOM change anywhere: charts keep re-rendering for a while
  // after their data arrives (Streamlit sets the width in a second render).
  c.lastMutation = performance.now();
  new MutationObserver(() => { c.lastMutation = performance.now(); })
    .observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  c.quiet = (ms) => performance.now() - c.lastMutation >= ms;
  // Runs `callback` once the frame showing the current DOM has been produced:
  // rAF callbacks run just before rendering, a message posted from one runs
  // after it.
  c.afterPaint = (callback) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => callback(performance.now());
    channel.port2.postMessage(0);
  });

  c.idle = () => {
    const app = document.querySelector("[data-testid='stApp']");
    return !!app
      && app.getAttribute('data-test-connection-state') === 'CONNECTED'
      && app.getAttribute('data-test-script-state') === 'notRunning'
      && c.started <= c.finished + c.superseded
      && !document.querySelector("[data-testid='stSkeleton'], [data-testid='stAppSkeleton']");
  };

  // --- Charts ----------------------------------------------------------------
  c.plots = () => Array.from(document.querySelectorAll('.js-plotly-plot'));
  c.drawn = (el) => !!(el && el.data && el._fullLayout && el.querySelector('.main-svg'));
  // Everything Plotly.js keeps on private keys ("_inputArray", "_fullData"...)
  // is skipped: the public spec is what the app sent.
  const skipPrivate = (k, v) => (k && k[0] === '_' ? undefined : v);
  c.signature = (el) => {
    try { return JSON.stringify(el.data, skipPrivate); } catch (e) { return String(Math.random()); }
  };
  const DTYPES = {
    f8: Float64Array, f4: Float32Array, i4: Int32Array, u4: Uint32Array,
    i2: Int16Array, u2: Uint16Array, i1: Int8Array, u1: Uint8Array, u1c: Uint8ClampedArray,
  };
  // Plotly.py >= 6 sends numpy arrays as {dtype, bdata (base64), shape}.
  function decode(spec) {
    const Ctor = DTYPES[spec.dtype];
    if (!Ctor) return spec;
    const raw = atob(spec.bdata);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    const flat = Array.from(new Ctor(bytes.buffer));
    const shape = spec.shape ? String(spec.shape).split(',').map(Number) : [flat.length];
    if (shape.length !== 2) return flat;
    const rows = [];
    for (let r = 0; r < shape[0]; r++) rows.push(flat.slice(r * shape[1], (r + 1) * shape[1]));
    return rows;
  }
  c.plain = (v) => {
    if (v === null || typeof v !== 'object') return v;
    if (ArrayBuffer.isView(v)) return Array.from(v);
    if (Array.isArray(v)) return v.map(c.plain);
    if (typeof v.bdata === 'string' && typeof v.dtype === 'string') return decode(v);
    if (v instanceof Node) return undefined;
    const out = {};
    for (const k of Object.keys(v)) if (k[0] !== '_') out[k] = c.plain(v[k]);
    return out;
  };
  c.readChart = (el) => ({
    data: c.plain(el.data || []),
    layout: c.plain(el.layout || {}),
    frames: ((el._transitionData && el._transitionData._frames) || []).map((f) => f.name),
  });

  // --- Probe: input event -> chart shows new data -------------------------
  // arm(index) remembers every chart's data; the next keydown/pointerdown
  // starts the clock (event.timeStamp); the clock stops when chart `index`
  // (-1: any chart) holds different data, checked on every DOM mutation (so
  // right after the task that drew it) and on every animation frame.
  // tPaint: the frame showing it has been rendered (see afterPaint); work the
  // page does before that frame (a second render of the chart, say) counts.
  c.arm = (index) => {
    const base = c.plots().map((el) => ({ el, data: el.data, sig: c.signature(el) }));
    const p = {
      index, t0: null, tData: null, tPaint: null, tFinished: null,
      finishedBefore: c.finished, base, done: false, observer: null,
    };
    c.probe = p;
    const changed = () => {
      const els = c.plots();
      const idx = index < 0 ? els.map((_, i) => i) : [index];
      for (const i of idx) {
        const el = els[i];
        if (!c.drawn(el)) continue;
        const old = base[i];
        if (old && old.el === el && old.data === el.data) continue;
        if (!old || c.signature(el) !== old.sig) return true;
        base[i] = { el, data: el.data, sig: old.sig };
      }
      return false;
    };
    const check = () => {
      if (c.probe !== p || p.tData !== null || p.t0 === null) return;
      if (changed()) {
        p.tData = performance.now();
        if (p.observer) p.observer.disconnect();
        c.afterPaint((t) => { p.tPaint = t; p.done = true; });
      }
    };
    p.observer = new MutationObserver(check);
    p.observer.observe(document.body, { subtree: true, childList: true, attributes: true });
    const frame = () => {
      if (c.probe !== p || p.tData !== null) return;
      check();
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
    return true;
  };
  c.disarm = () => {
    if (c.probe && c.probe.observer) c.probe.observer.disconnect();
    c.probe = null;
  };
  c.probeResult = () => {
    const p = c.probe;
    if (!p) return null;
    return { t0: p.t0, tData: p.tData, tPaint: p.tPaint, tFinished: p.tFinished, done: p.done };
  };
  const startClock = (ev) => {
    const p = c.probe;
    if (!p || p.t0 !== null) return;
    const now = performance.now();
    // event.timeStamp is when the browser took the input; fall back to now
    // if a browser reports a time from another clock.
    const ts = ev.timeStamp;
    p.t0 = ts > 0 && ts <= now && now - ts < 5000 ? ts : now;
  };
  window.addEventListener('keydown', startClock, true);
  window.addEventListener('pointerdown', startClock, true);
})();

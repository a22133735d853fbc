// Draws a Plotly figure and updates the same plot in place on every rerun.
//
// Why not st.plotly_chart for the Explorer: Streamlit keys each chart by an id
// that hashes the figure, so every new figure remounts the chart (a new plot
// from scratch, then a second draw) and the learner's zoom and pan are lost.
// Here one Plotly.react updates the existing plot: one draw, and `uirevision`
// keeps the view. A figure marked `defer` is drawn just after the browser has
// painted, so the map on the same page shows its change first.
//
// Narrow screens: a figure may carry `layout.meta.compact` = {below, layout, data}
// (built and tested in landscapes/figures.py): when the plot is narrower than `below`
// pixels, `layout` is merged into the figure's layout and `data[i]` into trace i
// (shorter legend names, a horizontal colour bar, a square-ish plot), and merged
// back out when it grows wider again.
//
// Plotly.js comes from the Python plotly package, served by the app's static
// folder (`ui.plotly_script_url`). It is loaded once and kept to itself:
// whatever `window.Plotly` was before (Streamlit's own copy) is put back.

function loadPlotly(url) {
  if (!window.__cliffsPlotly) {
    window.__cliffsPlotly = new Promise((resolve, reject) => {
      const before = window.Plotly;
      const script = document.createElement("script");
      script.src = url;
      script.async = true;
      script.onload = () => {
        const mine = window.Plotly;
        if (before) window.Plotly = before;
        mine ? resolve(mine) : reject(new Error(`${url} did not define Plotly`));
      };
      script.onerror = () => reject(new Error(`could not load ${url}`));
      document.head.appendChild(script);
    });
  }
  return window.__cliffsPlotly;
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

// Deep merge: objects key by key, arrays element by element, anything else replaced.
function merge(base, patch) {
  if (Array.isArray(base) && Array.isArray(patch)) {
    return base.map((item, i) => (i < patch.length && patch[i] != null ? merge(item, patch[i]) : item));
  }
  if (!isObject(base) || !isObject(patch)) return patch;
  const out = { ...base };
  for (const key of Object.keys(patch)) out[key] = key in base ? merge(base[key], patch[key]) : patch[key];
  return out;
}

function compactRule(figure) {
  const meta = figure.layout && figure.layout.meta;
  return meta && isObject(meta.compact) ? meta.compact : null;
}

function fitted(figure, width) {
  const rule = compactRule(figure);
  if (!rule || !(width > 0) || width >= rule.below) return figure;
  const patches = rule.data || {};
  return {
    ...figure,
    layout: merge(figure.layout, rule.layout || {}),
    data: figure.data.map((trace, i) => (patches[i] ? merge(trace, patches[i]) : trace)),
  };
}

function isCompact(figure, width) {
  const rule = compactRule(figure);
  return !!rule && width > 0 && width < rule.below;
}

// Draws `figure` as it fits `width`; the box keeps the drawn height while Plotly works.
function show(Plotly, plot, figure, width) {
  const shown = fitted(figure, width);
  plot.style.minHeight = `${(shown.layout && shown.layout.height) || 450}px`;
  return Plotly.react(plot, shown);
}

function afterPaint(callback) {
  requestAnimationFrame(() => setTimeout(callback, 0));
}

// The data arrives as JSON in raw bytes (ui/fences.py: component_data); a string or an object
// is read too.
const readData = (data) => {
  if (typeof data === "string") return JSON.parse(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return JSON.parse(new TextDecoder().decode(data));
  return data;
};

export default function ({ data: raw, parentElement }) {
  const data = readData(raw);
  let plot = parentElement.querySelector(".cliffs-plot");
  if (!plot) {
    plot = document.createElement("div");
    plot.className = "cliffs-plot";
    plot.style.width = "100%";
    const rule = compactRule(data.figure);
    const narrow = rule && (parentElement.clientWidth || window.innerWidth) < rule.below;
    const first = narrow && rule.layout.height ? rule.layout.height : data.figure.layout.height;
    plot.style.minHeight = `${first || 450}px`;
    parentElement.appendChild(plot);
  }
  if (!plot.__cliffsResize) {
    // Follow the container's width (the window resized, the sidebar folded away, an
    // expander opened); this replaces Plotly's `responsive`, which sees the window only.
    let width = 0;
    plot.__cliffsResize = new ResizeObserver(([entry]) => {
      const now = Math.round(entry.contentRect.width);
      if (now === width || now === 0) return;
      const crossed = plot.__cliffsFigure && isCompact(plot.__cliffsFigure, now) !== isCompact(plot.__cliffsFigure, width);
      width = now;
      if (!plot._fullLayout) return;
      loadPlotly(data.plotly).then((Plotly) =>
        crossed ? show(Plotly, plot, plot.__cliffsFigure, now) : Plotly.Plots.resize(plot),
      );
    });
    plot.__cliffsResize.observe(plot);
  }
  const serial = (plot.__cliffsSerial = (plot.__cliffsSerial || 0) + 1);
  const figure = { ...data.figure, config: data.config };
  plot.__cliffsFigure = figure;
  loadPlotly(data.plotly)
    .then((Plotly) => {
      const draw = () => {
        // a newer figure wins
        if (plot.__cliffsSerial === serial) show(Plotly, plot, figure, plot.clientWidth || window.innerWidth);
      };
      data.defer ? afterPaint(draw) : draw();
    })
    .catch((error) => {
      plot.textContent = `The chart could not be drawn: ${error.message}. Reload the page to try again.`;
      console.warn(error);
    });
}

// Draws a Plotly figure and updates the same plot in place on every rerun.
//
// Why not st.plotly_chart for the Explorer: Streamlit keys each chart by an id
// that hashes the figure, so every new figure remounts the chart (a new plot
// from scratch, then a second draw) and the learner's zoom and pan are lost.
// Here one Plotly.react updates the existing plot: one draw, and `uirevision`
// keeps the view. A figure marked `defer` is drawn just after the browser has
// painted, so the map on the same page shows its change first.
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

function afterPaint(callback) {
  requestAnimationFrame(() => setTimeout(callback, 0));
}

export default function ({ data, parentElement }) {
  let plot = parentElement.querySelector(".cliffs-plot");
  if (!plot) {
    plot = document.createElement("div");
    plot.className = "cliffs-plot";
    plot.style.width = "100%";
    plot.style.minHeight = `${data.figure.layout.height || 450}px`;
    parentElement.appendChild(plot);
  }
  if (!plot.__cliffsResize) {
    // Follow the container's width (the window resized, the sidebar folded away, an
    // expander opened); this replaces Plotly's `responsive`, which sees the window only.
    let width = 0;
    plot.__cliffsResize = new ResizeObserver(([entry]) => {
      const now = Math.round(entry.contentRect.width);
      if (now === width || now === 0) return;
      width = now;
      if (plot._fullLayout) loadPlotly(data.plotly).then((Plotly) => Plotly.Plots.resize(plot));
    });
    plot.__cliffsResize.observe(plot);
  }
  const serial = (plot.__cliffsSerial = (plot.__cliffsSerial || 0) + 1);
  const figure = { ...data.figure, config: data.config };
  loadPlotly(data.plotly)
    .then((Plotly) => {
      const draw = () => {
        if (plot.__cliffsSerial === serial) Plotly.react(plot, figure);  // a newer figure wins
      };
      data.defer ? afterPaint(draw) : draw();
    })
    .catch((error) => {
      plot.textContent = `The chart could not be drawn: ${error.message}. Reload the page to try again.`;
      console.warn(error);
    });
}

// Reports a click anywhere inside a Plotly chart's plot area, in data coordinates.
//
// Streamlit's chart selections only fire on drawn points, so the map used to carry
// an invisible 25 x 25 grid of them: 625 SVG nodes redrawn with every change, and
// clicks snapped to the grid. This listens on the document instead and turns the
// pointer position into (x, y) from the plot area's box and the axes' current
// ranges (so it stays right after a pan). A press that moves more than 4 px is a
// pan, not a click. The chart is found by its Streamlit key: `.st-key-<target>`.
// The data arrives as JSON in raw bytes (ui/fences.py: component_data); a string or an object
// is read too.
const readData = (data) => {
  if (typeof data === "string") return JSON.parse(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return JSON.parse(new TextDecoder().decode(data));
  return data;
};

export default function ({ data: raw, setTriggerValue }) {
  const data = readData(raw);
  const relays = (window.__cliffsClickRelays = window.__cliffsClickRelays || {});
  if (relays[data.target]) relays[data.target]();  // one listener pair per chart

  const chart = () => document.querySelector(`.st-key-${data.target} .js-plotly-plot`);
  const plotArea = (gd) => (gd && gd.layout && gd.layout.xaxis && gd.querySelector(".nsewdrag")) || null;
  let pressed = null;

  const onDown = (event) => {
    pressed = null;
    const area = plotArea(chart());
    if (!area || event.button !== 0) return;
    const box = area.getBoundingClientRect();
    const inside =
      event.clientX >= box.left && event.clientX <= box.right &&
      event.clientY >= box.top && event.clientY <= box.bottom;
    if (inside) pressed = { x: event.clientX, y: event.clientY };
  };

  const onUp = (event) => {
    const start = pressed;
    pressed = null;
    if (!start || Math.hypot(event.clientX - start.x, event.clientY - start.y) > 4) return;
    const gd = chart();
    const area = plotArea(gd);
    if (!area) return;
    const box = area.getBoundingClientRect();
    const [x0, x1] = gd.layout.xaxis.range;
    const [y0, y1] = gd.layout.yaxis.range;
    setTriggerValue("click", {
      x: x0 + ((start.x - box.left) / box.width) * (x1 - x0),
      y: y1 - ((start.y - box.top) / box.height) * (y1 - y0),
    });
  };

  document.addEventListener("pointerdown", onDown, true);
  document.addEventListener("pointerup", onUp, true);
  const stop = () => {
    document.removeEventListener("pointerdown", onDown, true);
    document.removeEventListener("pointerup", onUp, true);
    if (relays[data.target] === stop) delete relays[data.target];
  };
  relays[data.target] = stop;
  return stop;
}

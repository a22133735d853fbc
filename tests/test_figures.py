"""Figure builders tested as data: traces, colours, the wall, border arrows, frames."""

import itertools

import numpy as np
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st

import landscapes as ls
from landscapes.figures import explorer as figures
from landscapes.figures.palette import MODE_COLORS, WALL_COLOR
from landscapes.reference.rules import ZClip
from landscapes.views.config import ExplorerConfig, preset
from landscapes.views.explorer import border_point, exit_events, run_modes, summary_html, summary_rows


@pytest.fixture(scope="module")
def catapult():
    return run_modes(ExplorerConfig())


@pytest.fixture(scope="module")
def surface():
    return ls.loss_surface("pascanu", 40)


def traces_named(spec, name):
    return [t for t in spec["data"] if t.get("name") == name]


def test_map_spec_is_valid_plotly(catapult, surface):
    spec = figures.map_figure(surface, catapult)
    fig = go.Figure(spec)  # raises on any invalid property
    assert len(fig.frames) == len(spec["frames"]) > 1


def test_paths_have_their_fixed_colours_and_every_point_on_the_map(catapult, surface):
    spec = figures.map_figure(surface, catapult)
    for mode, label in (("value", "value clipping"), ("norm", "norm clipping")):
        (path,) = traces_named(spec, label)
        assert path["line"]["color"] == MODE_COLORS[mode]
        np.testing.assert_allclose(path["x"], catapult.runs[mode].params[:, 0], rtol=1e-5)
        np.testing.assert_allclose(path["y"], catapult.runs[mode].params[:, 1], rtol=1e-5)
        assert path["customdata"] == list(range(len(catapult.runs[mode].params)))
    # The thrown path: steps 0-3, then the border point where step 4 leaves; nothing after.
    (plain,) = traces_named(spec, "no clipping")
    params = catapult.runs["none"].params
    np.testing.assert_allclose(plain["x"][:4], params[:4, 0], rtol=1e-5)
    assert plain["customdata"] == [0, 1, 2, 3, None] and plain["marker"]["size"][-1] == 0
    assert plain["y"][4] == pytest.approx(-1.0)  # on the top border
    assert spec["layout"]["xaxis"]["range"] == [3.5, 6.5] and spec["layout"]["xaxis"]["autorange"] is False


def test_clipped_steps_are_marked(catapult, surface):
    spec = figures.map_figure(surface, catapult)
    (rings,) = traces_named(spec, "norm clipping: clipped here")
    fired = np.flatnonzero(catapult.runs["norm"].clipped)
    assert [c[0] for c in rings["customdata"]] == fired.tolist()
    np.testing.assert_allclose(rings["x"], catapult.runs["norm"].params[fired, 0], rtol=1e-5)
    assert traces_named(spec, "no clipping: clipped here")[0]["x"] == []


def test_wall_line_is_drawn_on_the_analytic_formula(catapult, surface):
    spec = figures.map_figure(surface, catapult)
    (wall,) = traces_named(spec, "the wall (analytic)")
    assert wall["line"]["color"] == WALL_COLOR
    np.testing.assert_allclose(wall["y"], ls.pascanu_wall_b(np.array(wall["x"])), atol=1e-5)
    assert wall["x"][0] == pytest.approx(ls.PASCANU_CRITICAL_W, rel=1e-5)


def test_border_arrow_says_where_the_step_went(catapult, surface):
    spec = figures.map_figure(surface, catapult)
    arrows = [a for a in spec["layout"]["annotations"] if a["name"].startswith("exit-none")]
    assert len(arrows) == 1
    arrow = arrows[0]
    assert arrow["text"] == "step 4: thrown to<br>(39, 53.4)"
    assert arrow["arrowcolor"] == MODE_COLORS["none"]
    # The head sits on the window's border, on the segment from step 3 to step 4.
    assert arrow["y"] == pytest.approx(-1.0) and 3.5 <= arrow["x"] <= 6.5
    p3, p4 = catapult.runs["none"].params[3], catapult.runs["none"].params[4]
    cross = (p4 - p3)[0] * (arrow["y"] - p3[1]) - (p4 - p3)[1] * (arrow["x"] - p3[0])
    assert abs(cross) < 1e-6
    assert not [a for a in spec["layout"]["annotations"] if a["name"].startswith("exit-norm")]


def test_border_point_and_exit_events():
    window = ((0.0, 1.0), (0.0, 1.0))
    np.testing.assert_allclose(border_point(np.array([0.5, 0.5]), np.array([2.5, 0.5]), window), [1.0, 0.5])
    np.testing.assert_allclose(border_point(np.array([0.5, 0.5]), np.array([0.5, -9.5]), window), [0.5, 0.0])
    run = ls.simulate("ravine", None, lr=1.5, steps=10)
    assert exit_events(run, ls.get_landscape("ravine").window)[0] == run.left_window_at(
        ls.get_landscape("ravine").window
    )


def test_playback_frames_move_each_head(catapult, surface):
    spec = figures.map_figure(surface, catapult)
    heads = [i for i, t in enumerate(spec["data"]) if t.get("name", "").endswith(" now")]
    assert all(frame["traces"] == heads for frame in spec["frames"])
    frame4 = next(f for f in spec["frames"] if f["name"] == "4")
    plain = frame4["data"][0]
    # The step that leaves the map is drawn up to the border; later frames draw nothing.
    p3, p4 = catapult.runs["none"].params[3:5]
    np.testing.assert_allclose(plain["x"], [p3[0], border_point(p3, p4, catapult.window)[0]], rtol=1e-5)
    assert plain["y"][1] == pytest.approx(-1.0)
    frame9 = next(f for f in spec["frames"] if f["name"] == "9")
    assert frame9["data"][0]["x"] == [] and len(frame9["data"][2]["x"]) == 2
    slider = spec["layout"]["sliders"][0]
    assert [s["args"][0][0] for s in slider["steps"]] == [f["name"] for f in spec["frames"]]
    assert spec["layout"]["updatemenus"][0]["buttons"][0]["method"] == "animate"


def test_long_runs_keep_the_frame_count_bounded(surface):
    result = run_modes(ExplorerConfig(steps=1000))
    spec = figures.map_figure(surface, result)
    assert len(spec["frames"]) <= figures.MAX_FRAMES
    assert spec["frames"][-1]["name"] == "1000"


def test_background_image_is_the_log_loss_with_a_colour_bar_in_loss_units(surface, catapult):
    import base64
    import io

    from PIL import Image

    spec = figures.map_figure(surface, catapult)
    (image,) = spec["layout"]["images"]
    assert (image["x"], image["y"], image["sizex"], image["sizey"]) == (3.5, -1.0, 3.0, 3.0)
    png = Image.open(io.BytesIO(base64.b64decode(image["source"].split(",", 1)[1])))
    assert png.size == (len(surface.x), len(surface.y))
    # Darker pixels where the loss is higher: compare the image with log10(loss) (top row = highest b).
    grey = np.asarray(png.convert("L"), float)[::-1]
    z = np.log10(np.maximum(surface.loss, 1e-12))
    # (iso-lines darken a few pixels, so the match is strong but not perfect)
    assert np.corrcoef(grey.ravel(), np.clip(z, zmin_of(z), None).ravel())[0, 1] < -0.85
    (bar,) = traces_named(spec, "loss")
    zmin, zmax = bar["marker"]["cmin"], bar["marker"]["cmax"]
    assert zmin >= zmax - 8 and zmax == pytest.approx(z.max())
    for value, text in zip(
        bar["marker"]["colorbar"]["tickvals"], bar["marker"]["colorbar"]["ticktext"], strict=True
    ):
        assert float(text) == pytest.approx(10.0**value)


def zmin_of(z):
    return figures.colour_range(z)[0]


def test_contour_trace_for_notebooks(surface):
    contour = figures.contour_trace(surface)
    go.Figure({"data": [contour]})
    np.testing.assert_allclose(contour["z"], np.log10(np.maximum(surface.loss, 1e-12)), atol=1e-3)


def test_history_figure_draws_threshold_and_ceiling(catapult):
    spec = figures.history_figure(catapult)
    go.Figure(spec)
    (threshold,) = [t for t in spec["data"] if t["name"].startswith("threshold c")]
    assert threshold["y"] == [1.0, 1.0] and threshold["yaxis"] == "y2"
    (ceiling,) = [t for t in spec["data"] if t["name"].startswith("norm-clipping ceiling")]
    assert ceiling["y"] == [0.5, 0.5] and ceiling["yaxis"] == "y3"
    lengths = next(t for t in spec["data"] if t.get("yaxis") == "y3" and t["name"] == "norm clipping")["y"]
    assert max(v for v in lengths if v is not None) <= 0.5 + 1e-9
    assert all(spec["layout"][f"yaxis{s}"]["type"] == "log" for s in ("", "2", "3"))
    # The plain run's gradient is exactly 0 after the catapult: a gap, never a fake value.
    plain_g = next(t for t in spec["data"] if t.get("yaxis") == "y2" and t["name"] == "no clipping")["y"]
    assert plain_g[5] is None


def test_no_ceiling_for_adam():
    result = run_modes(ExplorerConfig(optimizer="adam", lr=0.01))
    assert not [t for t in figures.history_figure(result)["data"] if "ceiling" in t["name"]]


def test_surface3d_fits_its_box_and_its_colours_are_the_colour_bars(catapult, surface):
    spec = figures.surface3d_figure(surface, catapult)
    go.Figure(spec)  # the 3-D view keeps a real surface trace
    (sheet,) = [t for t in spec["data"] if t["type"] == "surface"]
    z = np.array(sheet["z"], float)
    # The height is log10(loss) clipped to the flat map's colour range...
    zmin, zmax = figures.colour_range(np.log10(np.maximum(surface.loss, 1e-12)))
    np.testing.assert_allclose(z, np.clip(np.log10(np.maximum(surface.loss, 1e-12)), zmin, zmax), atol=1e-3)
    # ...the box's z range starts there and holds all of it (the surface fits the box)...
    low, high = spec["layout"]["scene"]["zaxis"]["range"]
    assert low == pytest.approx(zmin) and z.min() >= low - 1e-9 and z.max() <= high
    # ...and the colours are the bar's: same values, scale and range, ticks in loss units.
    assert sheet["surfacecolor"] == sheet["z"] and sheet["cauto"] is False
    assert (sheet["cmin"], sheet["cmax"]) == (zmin, zmax)
    assert sheet["colorscale"] == figures.SURFACE_COLORSCALE
    assert sheet["lighting"]["diffuse"] == 0 and sheet["lighting"]["ambient"] == 1  # no shading
    bar = sheet["colorbar"]
    assert bar["tickvals"] and all(zmin - 1e-9 <= v <= zmax + 1e-9 for v in bar["tickvals"])
    for value, text in zip(bar["tickvals"], bar["ticktext"], strict=True):
        assert float(text) == pytest.approx(10.0**value)
    # The loss axis labels the bar's ticks, except in the bottom tenth of the box: there the z
    # axis meets the corner where the other axes' labels are drawn (they ran into each other).
    assert_loss_axis_clears_the_corner(spec)


def assert_loss_axis_clears_the_corner(spec):
    """The 3-D view's loss axis labels the colour bar's ticks except in the bottom tenth of the
    box (where it met the bias axis's labels), and always keeps at least the top one."""
    (sheet,) = [t for t in spec["data"] if t["type"] == "surface"]
    bar, zaxis = sheet["colorbar"], spec["layout"]["scene"]["zaxis"]
    zmin, zmax = sheet["cmin"], sheet["cmax"]
    clear = zmin + figures.Z_TICK_CLEARANCE * (zmax - zmin)
    labels = list(zip(bar["tickvals"], bar["ticktext"], strict=True))
    want = [(v, t) for v, t in labels if v >= clear] or labels[-1:]
    assert list(zip(zaxis["tickvals"], zaxis["ticktext"], strict=True)) == want
    assert zaxis["tickvals"], "the loss axis keeps a label"


def test_surface3d_draws_start_wall_and_paths_cut_at_the_edge(catapult, surface):
    spec = figures.surface3d_figure(surface, catapult)
    (start,) = traces_named(spec, "start")
    assert (start["x"][0], start["y"][0]) == catapult.config.start
    zmin, top = spec["data"][0]["cmin"], spec["data"][0]["cmax"]
    own = np.clip(np.log10(catapult.runs["none"].loss[0]), zmin, top)
    drawn = figures.surface_heights(surface, np.array([catapult.config.start]), zmin, top)[0]
    assert start["z"][0] > max(own, drawn)
    (wall,) = traces_named(spec, "the wall (analytic)")
    np.testing.assert_allclose(wall["y"], ls.pascanu_wall_b(np.array(wall["x"])), atol=1e-5)
    high = spec["layout"]["scene"]["zaxis"]["range"][1]
    assert max(wall["z"]) <= high  # drawn inside the box
    (x0, x1), (y0, y1) = catapult.window
    for mode, label in (("none", "no clipping"), ("value", "value clipping"), ("norm", "norm clipping")):
        (path,) = traces_named(spec, label)
        pts = [(x, y, z) for x, y, z in zip(path["x"], path["y"], path["z"], strict=True) if x is not None]
        assert all(x0 - 1e-9 <= x <= x1 + 1e-9 and y0 - 1e-9 <= y <= y1 + 1e-9 for x, y, _ in pts)
        assert all(z <= high for _, _, z in pts)
        run = catapult.runs[mode]
        # Each step sits at its own loss (clipped like the surface) or on the drawn surface,
        # whichever is higher, so that no step hides under the surface.
        zmin = spec["layout"]["scene"]["zaxis"]["range"][0]
        for k, x, y, z in zip(path["customdata"], path["x"], path["y"], path["z"], strict=True):
            if k is not None:
                own = np.clip(np.log10(max(run.loss[k], 1e-12)), zmin, high)
                drawn = figures.surface_heights(surface, np.array([[x, y]]), zmin, spec["data"][0]["cmax"])[0]
                assert max(own, drawn) < z <= max(own, drawn) + 0.05 * (high - zmin)
    # The thrown path: steps 0-3 and the point where it leaves the box, nothing after.
    assert traces_named(spec, "no clipping")[0]["customdata"] == [0, 1, 2, 3, None]


@pytest.mark.parametrize("name", [s.name for s in ls.list_landscapes()])
def test_every_landscape_builds_valid_figures(name):
    scape = ls.get_landscape(name)
    config = ExplorerConfig().with_landscape(name)
    result = run_modes(config)
    surface = ls.loss_surface(name, 30)
    go.Figure(figures.map_figure(surface, result))
    assert_loss_axis_clears_the_corner(figures.surface3d_figure(surface, result))
    walls = [t for t in figures.map_figure(surface, result)["data"] if t.get("legendgroup") == "wall"]
    assert len(walls) == len(scape.walls(dict(config.params), scape.window))


def test_summary_rows_and_table(catapult):
    rows = summary_rows(catapult)
    assert [r["mode"] for r in rows] == ["none", "value", "norm"]
    assert rows[0]["outcome"].endswith("at step 4") and rows[2]["clipped steps"] == 2
    assert rows[2]["longest step"] == pytest.approx(0.5)
    html = summary_html(catapult)
    assert html.count("<tr>") == 6 and MODE_COLORS["norm"] in html


@pytest.mark.parametrize("setting", ["c", "lr"])
def test_sweep_figure_ships_every_slider_value_as_a_frame(setting, surface):
    from landscapes.views.config import LR_CHOICES, THRESHOLD_CHOICES
    from landscapes.views.explorer import sweep_setting

    config = ExplorerConfig(steps=30)
    sweep = sweep_setting(config, setting)
    spec = figures.sweep_figure(surface, sweep)
    go.Figure(spec)
    values = THRESHOLD_CHOICES if setting == "c" else LR_CHOICES
    assert [f["name"] for f in spec["frames"]] == [f"{v:g}" for v in values]
    slider = spec["layout"]["sliders"][0]
    assert (
        slider["steps"][slider["active"]]["label"]
        == f"{(config.threshold if setting == 'c' else config.lr):g}"
    )
    # Each frame's paths are exactly the runs for that value (checked against simulate).
    j = 7
    lr = config.lr if setting == "c" else values[j]
    c = values[j] if setting == "c" else config.threshold
    frame = spec["frames"][j]
    modes = [m for m in ("none", "value", "norm") if setting == "lr" or m != "none"]
    assert len(frame["traces"]) == len(modes)
    # Each move redraws the figure (so the layout note follows the slider), and the
    # paths carry no per-step markers, which made every redraw slower.
    assert all(step["args"][1]["frame"]["redraw"] for step in slider["steps"])
    assert all(trace["mode"] == "lines" for f in spec["frames"] for trace in f["data"])
    for trace, mode in zip(frame["data"], modes, strict=True):
        run = ls.simulate("pascanu", config.start, lr, 30, mode, c)
        np.testing.assert_allclose(trace["x"], run.params[:, 0], rtol=1e-5)
    assert (
        "final loss" in spec["layout"]["annotations"][0]["text"]
        or "off the map" in spec["layout"]["annotations"][0]["text"]
    )


def test_thinning_keeps_the_catapult():
    run = ls.simulate("pascanu", (4.7, -2.2), 0.5, 1000)
    idx = figures.thinned(run, 100)
    assert len(idx) < 130 and {3, 4} <= set(idx.tolist()) and idx[-1] == 1000


# --- paths that leave the map ----------------------------------------------------------

WINDOW = ((0.0, 1.0), (0.0, 1.0))


def segments(trace):
    """The drawn line segments of a trace with None gaps."""
    pts = list(zip(trace["x"], trace["y"], strict=True))
    return [(a, b) for a, b in itertools.pairwise(pts) if a[0] is not None and b[0] is not None]


def crosses_window(a, b, window, samples=200):
    """Whether the straight segment a-b passes through the window's interior (sampled)."""
    (x0, x1), (y0, y1) = window
    t = np.linspace(0, 1, samples)
    x, y = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
    return bool(np.any((x > x0) & (x < x1) & (y > y0) & (y < y1)))


def test_the_tenfold_path_stops_at_the_border_where_it_leaves():
    from landscapes.views.config import from_query, to_query

    config, _ = from_query(
        {"landscape": "ravine", "steepness": "100", "start": "3,2.5", "lr": "1.2", "c": "1", "steps": "200"}
    )
    assert to_query(config)["start"] == "3,2.5"
    result = run_modes(config)
    run = result.runs["none"]
    window = result.window
    exits = exit_events(run, window)
    assert exits == [2]  # thrown off at step 2, never back
    spec = figures.map_figure(ls.loss_surface("ravine", 30, steepness=100.0), result)
    (path,) = traces_named(spec, "no clipping")
    # One piece: steps 0 and 1, then the border point of step 2. Before the fix every later
    # step (all outside) was joined to the next, ~200 lines across the map.
    assert path["customdata"] == [0, 1, None]
    assert None not in path["x"]
    (bx, by) = border_point(run.params[1], run.params[2], window)
    assert (path["x"][-1], path["y"][-1]) == pytest.approx((bx, by), rel=1e-5)
    # No drawn segment between two points that are both off the map.
    later = range(2, len(run.params) - 1)
    naive = sum(crosses_window(run.params[i], run.params[i + 1], window) for i in later)
    assert naive > 20  # what the old figure drew
    (x0, x1), (y0, y1) = window
    for a, b in segments(path):
        for x, y in (a, b):
            assert x0 - 1e-9 <= x <= x1 + 1e-9 and y0 - 1e-9 <= y <= y1 + 1e-9
    # One label at the border for it, saying the step; playback draws nothing after it left.
    (note,) = [a for a in spec["layout"]["annotations"] if a["name"].startswith("exit-none")]
    assert note["text"].startswith("step 2: thrown to") and (note["x"], note["y"]) == pytest.approx((bx, by))
    heads = [i for i, t in enumerate(spec["data"]) if t.get("name") == "no clipping now"]
    later = [f for f in spec["frames"] if int(f["name"]) >= 3]
    position = next(j for j, i in enumerate(spec["frames"][0]["traces"]) if i in heads)
    assert later and all(f["data"][position]["x"] == [] for f in later)


def test_the_sweep_figure_cuts_paths_at_the_border_too():
    from landscapes.views.explorer import sweep_setting

    config = preset("tenfold").config
    sweep = sweep_setting(config, "lr")
    spec = figures.sweep_figure(ls.loss_surface("ravine", 20, steepness=100.0), sweep)
    (x0, x1), (y0, y1) = sweep.window
    for frame in spec["frames"]:
        for trace in frame["data"]:
            for a, b in segments(trace):
                for x, y in (a, b):
                    assert x0 - 1e-6 <= x <= x1 + 1e-6 and y0 - 1e-6 <= y <= y1 + 1e-6


def test_a_path_that_comes_back_is_drawn_again_from_where_it_re_enters():
    params = np.array(
        [
            [0.5, 0.5],  # 0 inside
            [0.8, 0.5],  # 1 inside
            [3.0, 0.5],  # 2 leaves through x = 1
            [-2.0, 0.6],  # 3 outside -> outside across the whole map: not drawn
            [-1.0, 0.5],  # 4 outside
            [0.2, 0.5],  # 5 back in through x = 0
            [0.3, 0.4],  # 6 inside
        ]
    )
    xs, ys, steps = figures.path_pieces(params, WINDOW)
    assert steps == [0, 1, None, None, None, 5, 6]
    assert xs[2] == pytest.approx(1.0) and xs[3] is None and xs[4] == pytest.approx(0.0)
    assert ys[4] == pytest.approx(0.5)
    drawn = segments({"x": xs, "y": ys})
    assert len(drawn) == 4  # 0-1, 1-border, border-5, 5-6: nothing from step 2 to 5
    assert all(0 <= x <= 1 for seg in drawn for x, _ in seg)


@given(
    st.tuples(*[st.floats(-3, 4, allow_nan=False)] * 4),
)
def test_visible_segment_is_the_part_inside_or_nothing(coords):
    p, q = np.array(coords[:2]), np.array(coords[2:])
    part = figures.visible_segment(p, q, WINDOW)
    inside = [bool(figures._inside(v, WINDOW)) for v in (p, q)]
    if not any(inside):
        assert part is None
        return
    a, b = part
    for v in (a, b):
        assert -1e-9 <= v[0] <= 1 + 1e-9 and -1e-9 <= v[1] <= 1 + 1e-9
        # on the segment p-q
        assert abs((q - p)[0] * (v - p)[1] - (q - p)[1] * (v - p)[0]) < 1e-6 * (1 + np.abs(q - p).sum())
    if all(inside):
        np.testing.assert_array_equal(a, p) and np.testing.assert_array_equal(b, q)


# --- labels that overlap nothing ------------------------------------------------------

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # Chromium's sans-serif here (wide)


def text_box_px(text, size):
    """The label's box in pixels, measured with a real font (independent of figures.label_size)."""
    from PIL import ImageFont

    font = ImageFont.truetype(FONT, size)
    lines = text.split("<br>")
    width = max(font.getlength(line) for line in lines) + 2 * (3 + 1)
    height = len(lines) * size * 1.25 + 2 * (3 + 1)
    return width, height


PLOT_SIZES = {"phone": (260, 280), "desktop": (460, 466), "projector": (1100, 606)}


def label_boxes(spec, window, plot):
    (x0, x1), (y0, y1) = window
    boxes = []
    for note in spec["layout"]["annotations"]:
        if not note["name"].startswith("exit-") or not note["text"]:
            continue
        cx = (note["ax"] - x0) / (x1 - x0) * plot[0]
        cy = (y1 - note["ay"]) / (y1 - y0) * plot[1]
        w, h = text_box_px(note["text"], note["font"]["size"])
        boxes.append((note["name"], cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return boxes


def end_markers(result):
    (x0, x1), (y0, y1) = result.window
    points = [np.asarray(result.config.start, float)]
    points += [run.params[-1] for run in result.visible().values()]
    return [p for p in points if x0 <= p[0] <= x1 and y0 <= p[1] <= y1]


def assert_labels_clear(result, surface):
    spec = figures.map_figure(surface, result)
    window = result.window
    (x0, x1), (y0, y1) = window
    for size, plot in PLOT_SIZES.items():
        boxes = label_boxes(spec, window, plot)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
                assert apart, f"{size}: labels {a[0]} and {b[0]} overlap"
            for p in end_markers(result):
                px = (p[0] - x0) / (x1 - x0) * plot[0]
                py = (y1 - p[1]) / (y1 - y0) * plot[1]
                r = 9.0  # the start star (18 px) and the end markers (15 px + border)
                on = a[1] - r < px < a[3] + r and a[2] - r < py < a[4] + r
                assert not on, f"{size}: label {a[0]} sits on the marker at {p}"
            assert a[1] >= -1 and a[2] >= -1 and a[3] <= plot[0] + 1 and a[4] <= plot[1] + 1, size
    return spec


@pytest.mark.parametrize(
    "config",
    [
        preset("tenfold").config,
        preset("bend").config,
        preset("catapult").config,
        ExplorerConfig(threshold=70.0),  # value and norm clipping thrown together with no clipping
        ExplorerConfig(threshold=70.0, steps=200, lr=0.8),
    ],
    ids=["tenfold", "bend", "catapult", "c70", "c70-lr0.8"],
)
def test_labels_overlap_no_label_and_no_end_marker(config):
    result = run_modes(config)
    surface = ls.loss_surface(config.landscape, 20, **config.params)
    spec = assert_labels_clear(result, surface)
    names = [a["name"] for a in spec["layout"]["annotations"] if a["name"].startswith("exit-")]
    if config == ExplorerConfig(threshold=70.0):
        # The case that collided: three modes leave at step 4 for different places; each keeps its label.
        assert sorted(names) == ["exit-none-4", "exit-norm-4", "exit-value-4"]
    if config.lr == 0.8:
        # Three identical paths (c = 70 never fires) leave together: one label says so.
        (note,) = [a for a in spec["layout"]["annotations"] if a["name"].startswith("exit-")]
        assert note["name"] == "exit-none+value+norm-21"
        assert note["text"].startswith("step 21 (all paths):<br>")
        runs = result.runs
        assert all(np.array_equal(runs["none"].params[:22], runs[m].params[:22]) for m in ("value", "norm"))


def test_labels_overlap_nothing_on_random_runs():
    from landscapes.views.config import LR_CHOICES, THRESHOLD_CHOICES

    rng = np.random.default_rng(9)
    labelled = 0
    for name in ("pascanu", "ravine", "deep_product", "staircase"):
        scape = ls.get_landscape(name)
        (x0, x1), (y0, y1) = scape.window
        surface = ls.loss_surface(name, 12)
        for _ in range(8):
            config = ExplorerConfig().with_landscape(name)
            config = ExplorerConfig(
                landscape=name,
                params=dict(config.params),
                start=(float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))),
                lr=float(rng.choice(LR_CHOICES[20:])),
                threshold=float(rng.choice(THRESHOLD_CHOICES)),
                steps=int(rng.integers(5, 120)),
                optimizer=str(rng.choice(["sgd", "momentum", "adam"])),
            )
            spec = assert_labels_clear(run_modes(config), surface)
            labelled += sum(a["name"].startswith("exit-") for a in spec["layout"]["annotations"])
    assert labelled >= 10  # the random runs did exercise the placement


# --- narrow screens -----------------------------------------------------------------


def merged(base, patch):
    """The deep merge assets/plotly_view.js applies (objects by key, arrays by element)."""
    if isinstance(base, list) and isinstance(patch, list):
        return [
            merged(b, patch[i]) if i < len(patch) and patch[i] is not None else b for i, b in enumerate(base)
        ]
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return patch
    return {k: merged(base[k], v) if k in base else v for k, v in patch.items()} | {
        k: v for k, v in base.items() if k not in patch
    }


def compact(spec):
    rule = spec["layout"]["meta"]["compact"]
    data = [merged(t, rule["data"].get(str(i), {})) for i, t in enumerate(spec["data"])]
    return {**spec, "data": data, "layout": merged(spec["layout"], rule["layout"])}, rule


def test_the_map_on_a_phone_is_square_ish_with_a_small_legend(catapult, surface):
    spec = figures.map_figure(surface, catapult, height=680)
    phone, rule = compact(spec)
    go.Figure(phone)
    container = 340  # a 390 px phone less the page's padding (measured in Chromium)
    assert container < rule["below"] <= 700  # a phone gets it, a desktop column does not
    m = phone["layout"]["margin"]
    plot_w = container - m["l"] - m["r"]
    plot_h = phone["layout"]["height"] - m["t"] - m["b"]
    assert 0.8 <= plot_h / plot_w <= 1.25  # before: 210 px wide, 466 px tall
    assert plot_w >= figures.LABEL_PLOT_PX[0]  # labels were placed for a plot this small
    # The legend: short names, at most two rows of the plot's width (measured with a real font).
    from PIL import ImageFont

    font = ImageFont.truetype(FONT, phone["layout"]["legend"]["font"]["size"])
    shown = [t for t in phone["data"] if t.get("showlegend", True) and t.get("name")]
    widths = [40 + font.getlength(t["name"]) + 8 for t in shown]
    rows, used = 1, 0.0
    for w in widths:
        if used + w > plot_w:
            rows, used = rows + 1, 0.0
        used += w
    assert rows <= 2 and rows * 20 <= m["t"]
    # The colour bar lies under the x axis, the playback controls under it, all inside the margin.
    (bar_trace,) = [t for t in phone["data"] if (t.get("marker") or {}).get("showscale")]
    bar = bar_trace["marker"]["colorbar"]
    assert bar["orientation"] == "h"
    bar_top = -bar["y"] * plot_h
    buttons = -phone["layout"]["updatemenus"][0]["y"] * plot_h
    slider = -phone["layout"]["sliders"][0]["y"] * plot_h
    # under the x title (~36 px), the bar and its ticks (~30 px), the buttons (~30 px), then
    # the slider (its label, rail and tick labels: ~60 px) ends inside the margin
    assert 36 <= bar_top and bar_top + 30 <= buttons and buttons + 30 <= slider and slider + 60 <= m["b"]
    # Nothing of the desktop layout changes.
    assert spec["layout"]["height"] == 680 and spec["layout"]["legend"]["orientation"] == "h"


def test_history_draws_each_adaptive_rules_own_threshold():
    """AutoClip's percentile line, ZClip's mu + z sigma, AGC's c max(||theta||, eps): each in its colour."""
    config = ExplorerConfig(
        paths=("none", "agc", "autoclip", "zclip"),
        rule_options={"zclip": {"warmup": 5}, "autoclip": {"threshold": 30}},
    )
    result = run_modes(config)
    spec = figures.history_figure(result)
    go.Figure(spec)
    lines = {t["name"]: t for t in spec["data"] if t["name"].endswith(": its threshold")}
    assert set(lines) == {f"{ls.CLIP_SPECS[m].label}: its threshold" for m in ("agc", "autoclip", "zclip")}
    for mode in ("agc", "autoclip", "zclip"):
        line = lines[f"{ls.CLIP_SPECS[mode].label}: its threshold"]
        assert line["line"]["color"] == MODE_COLORS[mode] and line["yaxis"] == "y2"
    # Computed here from the runs' own norms and points, independently of the rules' code.
    auto = result.runs["autoclip"]
    expected = [np.percentile(auto.grad_norm[: t + 1], 30) for t in range(auto.steps_taken)]
    np.testing.assert_allclose(lines["AutoClip (percentile): its threshold"]["y"], expected, rtol=1e-5)
    agc = result.runs["agc"]
    bound = 0.01 * np.maximum(np.linalg.norm(agc.params[:-1], axis=1), 1e-3)
    np.testing.assert_allclose(lines["adaptive clipping (AGC): its threshold"]["y"], bound, rtol=1e-5)
    zclip = lines["ZClip (z-score): its threshold"]["y"]
    assert zclip[:5] == [None] * 5  # the warm-up: no threshold yet
    replay = ZClip(2.5, warmup=5)  # the reference rule fed the run's own raw gradients
    run = result.runs["zclip"]
    levels = [replay.clip(g, p)[1] for g, p in zip(run.grad, run.params[:-1], strict=True)]
    np.testing.assert_allclose(zclip[5:], levels[5:], rtol=1e-5)
    # No shown rule uses the slider's c: no c line and no lr*c ceiling.
    assert not [t for t in spec["data"] if t["name"].startswith(("threshold c", "norm-clipping ceiling"))]

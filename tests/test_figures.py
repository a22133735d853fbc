"""Figure builders tested as data: traces, colours, the wall, border arrows, frames."""

import numpy as np
import plotly.graph_objects as go
import pytest

import landscapes as ls
from landscapes import figures
from landscapes.config import ExplorerConfig, preset
from landscapes.explorer import border_point, exit_events, run_modes, summary_html, summary_rows
from landscapes.palette import MODE_COLORS, WALL_COLOR


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


def test_surface3d_is_valid(catapult, surface):
    spec = figures.surface3d_figure(surface, catapult)
    go.Figure(spec)  # the 3-D view keeps a real surface trace
    assert spec["data"][0]["type"] == "surface"
    plain = next(t for t in spec["data"] if t.get("name") == "no clipping")
    assert plain["x"][4] is None  # the thrown point is outside the box, not drawn on its edge


@pytest.mark.parametrize("name", ["pascanu", "ravine", "deep_product", "staircase"])
def test_every_landscape_builds_valid_figures(name):
    scape = ls.get_landscape(name)
    config = ExplorerConfig().with_landscape(name)
    result = run_modes(config)
    surface = ls.loss_surface(name, 30)
    go.Figure(figures.map_figure(surface, result))
    walls = [t for t in figures.map_figure(surface, result)["data"] if t.get("legendgroup") == "wall"]
    assert len(walls) == len(scape.walls(dict(config.params), scape.window))


def test_summary_rows_and_table(catapult):
    rows = summary_rows(catapult)
    assert [r["mode"] for r in rows] == ["none", "value", "norm"]
    assert rows[0]["outcome"] == "left the window at step 4" and rows[2]["clipped steps"] == 2
    assert rows[2]["longest step"] == pytest.approx(0.5)
    html = summary_html(catapult)
    assert html.count("<tr>") == 6 and MODE_COLORS["norm"] in html


def test_preset_claims_hold():
    tenfold = run_modes(preset("tenfold").config).runs
    assert tenfold["none"].left_window_at(ls.get_landscape("ravine").window) == 2
    slow = ls.simulate("ravine", (3.0, 2.5), lr=0.12, steps=200)
    assert slow.final_loss / tenfold["norm"].final_loss > 1e18
    crawl = run_modes(preset("crawl").config).runs["norm"]
    assert crawl.longest_step <= 0.005 + 1e-12
    bend = run_modes(preset("bend").config).runs
    from landscapes.narrate import turn_angle

    angles = [turn_angle(g, np.clip(g, -0.3, 0.3)) for g in bend["value"].grad[bend["value"].clipped]]
    assert max(angles) == pytest.approx(31, abs=1)
    assert np.linalg.norm(bend["value"].params[-1] - bend["norm"].params[-1]) > 0.5


@pytest.mark.parametrize("setting", ["c", "lr"])
def test_sweep_figure_ships_every_slider_value_as_a_frame(setting, surface):
    from landscapes.config import LR_CHOICES, THRESHOLD_CHOICES
    from landscapes.explorer import sweep_setting

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

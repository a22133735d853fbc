"""A real network: train a small RNN live with up to four clipping rules and find its cliff."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

import landscapes as ls
import ui
from landscapes.core.network import NetworkRun
from landscapes.core.network_slice import NetworkSlice, network_loss_slice, spike_step
from landscapes.figures import network as fn
from landscapes.views import network_config as nc
from landscapes.views import network_words as words
from landscapes.views.config import threshold_symbol

ui.init_page()
ss = st.session_state
#: How many pieces a live training is cut into (a progress update and a redraw after each).
CHUNKS = 10

STATE = ui.PageState(
    "net_",
    nc.network_from_query,
    nc.network_to_query,
    nc.network_widget_values,
    nc.network_from_widget_values,
)


# --- computation (cached on the settings value) ---------------------------------------------

#: Runs a live training finished, handed to the cache below (which then stores them).
_HANDOFF: dict[nc.NetworkConfig, list[NetworkRun]] = {}


@st.cache_resource
def _trained_configs() -> set[nc.NetworkConfig]:
    """The settings whose runs the cache holds (so the page knows when to train live)."""
    return set()


@st.cache_data(max_entries=16, show_spinner="Training the network…")
def trained_runs(config: nc.NetworkConfig) -> list[NetworkRun]:
    """The runs of ``config``: those the live training just handed over, or trained in one go."""
    handed = _HANDOFF.pop(config, None)
    return handed if handed is not None else nc.train_network(config)


@st.cache_data(max_entries=16, show_spinner="Slicing the loss around the spike (65 × 65 points, one batch)…")
def loss_slice(config: nc.NetworkConfig, run_index: int, step: int) -> NetworkSlice:
    return network_loss_slice(trained_runs(config)[run_index], step)


# --- widgets --------------------------------------------------------------------------------


def apply_preset(key: str) -> None:
    STATE.seed(replace(nc.network_preset(key).config, present=bool(ss.get("net_present", False))))


def leave_presentation() -> None:
    STATE.seed(replace(STATE.value, present=False))


def rule_widgets(k: int) -> None:
    choices = (nc.OFF, *nc.network_rules()) if k > 1 else nc.network_rules()
    mode = ss.get(f"net_rule{k}") or nc.OFF
    title = f"Rule {k}: " + (ls.CLIP_SPECS[mode].label if mode != nc.OFF else "off")
    with st.expander(title, expanded=k <= 2):
        st.selectbox(
            "rule",
            choices,
            key=f"net_rule{k}",
            format_func=lambda m: "off" if m == nc.OFF else ls.CLIP_SPECS[m].label,
        )
        mode = ss.get(f"net_rule{k}") or nc.OFF
        if mode == nc.OFF:
            return
        spec = ls.CLIP_SPECS[mode]
        if spec.uses_threshold:
            st.number_input(
                f"threshold {threshold_symbol(mode)}",
                min_value=nc.NET_THRESHOLD_RANGE[0],
                max_value=min(nc.NET_THRESHOLD_RANGE[1], spec.threshold_max),
                key=f"net_c{k}",
                format="%g",
                help=spec.threshold_meaning,
            )
        if mode in nc.SCOPED_RULES:
            st.segmented_control(
                "scope",
                ["global", "per_tensor"],
                key=f"net_scope{k}",
                required=True,
                format_func=lambda s: "whole gradient" if s == "global" else "each tensor",
            )
        for option in spec.options:
            st.number_input(
                option.name,
                min_value=None if option.low == float("-inf") else float(option.low),
                max_value=None if option.high == float("inf") else float(option.high),
                key=f"net_o{k}_{mode}_{option.name}",
                format="%g",
                help=option.description,
            )


def sidebar() -> None:
    with st.sidebar:
        st.subheader("Presets")
        for p in nc.NETWORK_PRESETS:
            st.button(
                p.title, key=f"net_preset_{p.key}", on_click=apply_preset, args=(p.key,), width="stretch"
            )
        st.subheader("Network and task")
        st.selectbox(
            "task", ls.NETWORK_TASKS, key="net_task", format_func=lambda t: nc.TASK_LABELS.get(str(t), str(t))
        )
        st.slider("sequence length T", *nc.NET_T_RANGE, key="net_T")
        st.slider("hidden units", *nc.NET_HIDDEN_RANGE, key="net_H")
        st.number_input(
            "rec_scale (spectral radius of W_rec at the start)",
            *nc.NET_REC_RANGE,
            key="net_rec",
            format="%g",
            step=0.1,
            help="Above 1 the recurrence amplifies: gradients through many steps explode more easily.",
        )
        st.subheader("Training")
        st.number_input("learning rate", *nc.NET_LR_RANGE, key="net_lr", format="%g", step=0.01)
        st.segmented_control(
            "optimizer",
            list(ls.OPTIMIZERS),
            key="net_opt",
            required=True,
            format_func=lambda n: ui.OPTIMIZER_NAMES.get(str(n), str(n)),
        )
        st.number_input("steps", *nc.NET_STEPS_RANGE, key="net_steps", step=100)
        st.number_input("seed", *nc.NET_SEED_RANGE, key="net_seed", step=1)
        st.subheader("Clipping rules (side by side)")
        for k in range(1, nc.MAX_RULES + 1):
            rule_widgets(k)
        st.toggle("presentation mode", key="net_present")


# --- rendering ------------------------------------------------------------------------------


def charts(runs: list[NetworkRun], labels: list[str], config: nc.NetworkConfig, slots) -> None:
    """Draws the five charts of the runs into their placeholders (again after every chunk)."""
    font = 17 if config.present else 13
    kw = {"steps": config.steps, "font_size": font}
    figs = (
        fn.network_loss_figure(runs, labels, **kw),
        fn.network_grad_norm_figure(runs, labels, **kw),
        fn.network_tensor_norms_figure(runs, labels, **kw),
        fn.network_clipped_figure(runs, labels, **kw),
        fn.network_radius_figure(runs, labels, **kw),
    )
    for slot, fig, name in zip(
        slots, figs, ("loss", "grad-norm", "tensor-norms", "clipped", "radius"), strict=True
    ):
        slot.plotly_chart(fig, config=ui.plotly_config(f"network-{name}"), theme=None)


def train_live(config: nc.NetworkConfig, labels: list[str], slots) -> list[NetworkRun]:
    """Trains chunk by chunk with a progress bar, redrawing the charts after each chunk."""
    bar = st.progress(0.0, text="Compiling the training program (the first run of a size takes a while)…")

    def on_chunk(runs: list[NetworkRun], training) -> None:
        bar.progress(training.step / config.steps, text=f"Training: step {training.step} of {config.steps}")
        charts(runs, labels, config, slots)

    runs = nc.train_network(config, chunks=CHUNKS, on_chunk=on_chunk)
    bar.empty()
    _HANDOFF[config] = runs
    runs = trained_runs(config)  # stores them in the cache
    _trained_configs().add(config)
    return runs


def render() -> None:
    STATE.sync()
    sidebar()
    config = STATE.commit()
    if config.present:
        ui.presentation_style()
        st.button("✕ Leave presentation mode", key="net_leave_present", on_click=leave_presentation)
    st.title("A real network")
    ui.show_notices(STATE.notices())
    if not config.present:
        st.markdown(
            f"A vanilla RNN with {config.hidden} tanh units reads sequences of {config.T} steps of the "
            f"{nc.TASK_LABELS[config.task]} (Pascanu et al. 2013, §4) and is trained by "
            f"{ui.OPTIMIZER_NAMES.get(config.optimizer, config.optimizer)} gradient descent, once per "
            "clipping rule, all from the same start on the same batches. Watch the gradient norm: when it "
            "spikes, an unclipped step can throw the network far away."
        )
    preset = nc.which_preset(config)
    labels = nc.run_labels(config)
    slots = [st.empty() for _ in range(5)]
    known = config in _trained_configs()
    runs = trained_runs(config) if known else train_live(config, labels, slots)
    charts(runs, labels, config, slots)
    if preset is not None:
        st.info(f"**{preset.title}.** " + words.PRESET_CAPTIONS[preset.key](runs, labels))
    for run, label in zip(runs, labels, strict=True):
        if run.diverged:
            st.warning(f"{label}: {run.reason}.", icon=":material/warning:")
    st.markdown(
        "\n".join(f"- {words.run_summary(run, label)}" for run, label in zip(runs, labels, strict=True))
    )

    st.header("The cliff in this network")
    default = fn.slice_run_index(runs)
    if default is None:
        st.info("No run took a step, so there is no spike to slice.")
        return
    choices = [r for r, run in enumerate(runs) if spike_step(run) is not None]
    if ss.get("net_slice_run") not in choices:
        ss["net_slice_run"] = default
    r = st.selectbox("run to slice", choices, key="net_slice_run", format_func=lambda i: labels[i])
    step = spike_step(runs[r])
    assert step is not None  # the choices hold only runs with a step
    sl = loss_slice(config, r, step)
    st.plotly_chart(
        fn.network_slice_figure(
            sl, labels[r], height=640 if config.present else 520, font_size=17 if config.present else 13
        ),
        config=ui.plotly_config("network-slice"),
        theme=None,
        key="net_slice_chart",
    )
    st.caption(words.slice_caption(sl, runs[r], labels[r]))


ui.guarded(render)

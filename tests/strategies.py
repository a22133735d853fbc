"""Hypothesis strategies the tests share."""

from hypothesis import strategies as st

from landscapes.views import config as cf


def _setting_values(option) -> st.SearchStrategy:
    """Any valid value of one rule setting (open ends excluded, whole numbers where asked)."""
    high = min(option.high, 1e6)
    if option.integer:
        return st.integers(int(option.low), int(high)).map(float)
    return st.floats(
        option.low,
        high,
        exclude_min=option.low_open,
        exclude_max=option.high_open and high == option.high,
        allow_subnormal=False,
    )


@st.composite
def rule_settings(draw, mode: str) -> dict[str, float]:
    """Any subset of rule ``mode``'s settings (its own threshold and options), each any valid value."""
    return {
        option.name: draw(_setting_values(option)) for option in cf.rule_settings(mode) if draw(st.booleans())
    }


@st.composite
def explorer_configs(draw) -> cf.ExplorerConfig:
    """Any configuration the Explorer can show, every field drawn (floats anywhere in their range)."""
    name = draw(st.sampled_from([s.name for s in cf.list_landscapes()]))
    scape = cf.get_landscape(name)
    params = {}
    for spec in scape.params:
        if spec.log:
            params[spec.name] = draw(st.sampled_from(cf.log_choices(spec.low, spec.high)))
        elif spec.integer:
            params[spec.name] = float(draw(st.integers(int(spec.low), int(spec.high))))
        else:
            params[spec.name] = draw(st.floats(spec.low, spec.high))
    (x0, x1), (y0, y1) = scape.window
    chosen = draw(st.sets(st.sampled_from(cf.path_modes()), max_size=cf.MAX_PATHS))
    paths = tuple(m for m in cf.path_modes() if m in chosen)
    return cf.ExplorerConfig(
        landscape=name,
        params=params,
        start=(draw(st.floats(x0, x1)), draw(st.floats(y0, y1))),
        lr=draw(st.sampled_from(cf.LR_CHOICES)),
        threshold=draw(st.sampled_from(cf.THRESHOLD_CHOICES)),
        steps=draw(st.integers(*cf.STEPS_RANGE)),
        optimizer=draw(st.sampled_from(["sgd", "momentum", "adam", "adamw"])),
        paths=paths,
        rule_options={mode: draw(rule_settings(mode)) for mode in paths},
        view3d=draw(st.booleans()),
        present=draw(st.booleans()),
        scrub=draw(st.sampled_from(cf.SCRUB_CHOICES)),
        predict=draw(st.booleans()),
        dtype=draw(st.sampled_from(cf.DTYPES)),
        noise=draw(st.none() | noise_settings()),
        # Any decay in the app's range (kept only for AdamW: other optimizers have none).
        weight_decay=draw(st.floats(*cf.WEIGHT_DECAY_RANGE, allow_subnormal=False)),
    )


@st.composite
def noise_settings(draw) -> dict[str, float]:
    """Any valid gradient noise (floats anywhere in their range, any seed)."""
    return {
        "sigma": draw(st.floats(0, 1e6, allow_subnormal=False)),
        "spike_prob": draw(st.floats(0, 1, allow_subnormal=False)),
        "spike_scale": draw(st.floats(-1e6, 1e6, allow_subnormal=False)),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }

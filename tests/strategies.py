"""Hypothesis strategies the tests share."""

from hypothesis import strategies as st

from landscapes.views import config as cf


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
    return cf.ExplorerConfig(
        landscape=name,
        params=params,
        start=(draw(st.floats(x0, x1)), draw(st.floats(y0, y1))),
        lr=draw(st.sampled_from(cf.LR_CHOICES)),
        threshold=draw(st.sampled_from(cf.THRESHOLD_CHOICES)),
        steps=draw(st.integers(*cf.STEPS_RANGE)),
        optimizer=draw(st.sampled_from(["sgd", "momentum", "adam"])),
        paths=tuple(m for m in cf.PATH_MODES if m in draw(st.sets(st.sampled_from(cf.PATH_MODES)))),
        view3d=draw(st.booleans()),
        present=draw(st.booleans()),
        scrub=draw(st.sampled_from(cf.SCRUB_CHOICES)),
        predict=draw(st.booleans()),
    )

"""One fixed colour (and dash and marker) per clipping mode, on every page.

Okabe & Ito's colour-blind-safe palette; dashes and markers differ too, so the
modes stay apart in greyscale and on a washed-out projector.
"""

MODE_COLORS = {"none": "#D55E00", "value": "#0072B2", "norm": "#009E73"}
MODE_DASHES = {"none": "solid", "value": "dash", "norm": "dot"}
MODE_MARKERS = {"none": "circle", "value": "square", "norm": "diamond"}
MODE_LABELS = {"none": "no clipping", "value": "value clipping", "norm": "norm clipping"}
WALL_COLOR = "#CC79A7"  # reddish purple: the analytic wall line
ACCENT = "#E69F00"  # orange: thresholds and ceilings drawn on charts

"""The app's colours: each clipping rule's colour, dash and marker (from the rule registry, so a
rule registered from a notebook is drawn like the built-in ones), and the fixed accents.

Okabe & Ito's colour-blind-safe palette throughout.
"""

from ..core.clipping import MODE_COLORS, MODE_DASHES, MODE_LABELS, MODE_MARKERS

WALL_COLOR = "#CC79A7"  # reddish purple: the analytic wall line
ACCENT = "#E69F00"  # orange: thresholds and ceilings drawn on charts

__all__ = ["ACCENT", "MODE_COLORS", "MODE_DASHES", "MODE_LABELS", "MODE_MARKERS", "WALL_COLOR"]

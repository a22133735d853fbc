"""The words layer: lesson computations (``demos``), the Learn page's texts, the narration and the
take-home snippets. The demos' names are re-exported here.
"""

from .demos import (
    LOOP_ORDERS,
    BandCheck,
    BandRun,
    ClipComparison,
    LoopOrder,
    PlacementDemo,
    ThresholdAdvice,
    angle_between,
    check_band,
    clip_comparison,
    placement_demos,
    threshold_advice,
)

__all__ = [
    "LOOP_ORDERS",
    "BandCheck",
    "BandRun",
    "ClipComparison",
    "LoopOrder",
    "PlacementDemo",
    "ThresholdAdvice",
    "angle_between",
    "check_band",
    "clip_comparison",
    "placement_demos",
    "threshold_advice",
]

"""Trajectories to CSV and JSON, and back.

Both formats hold one row per step per run (a run is usually one clipping
mode of the Explorer). Row ``i`` of a run has the point visited after ``i``
steps and its loss, and (except in the run's last row) the raw gradient
there, its norm, the update applied and whether clipping changed it.

Numbers are written with Python's ``repr``, the shortest text that reads back
as the same float, so parsing an export gives the runs back bit for bit.
The JSON file also carries each run's settings and, optionally, the whole
ExplorerConfig; the CSV is the flat table for spreadsheets.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..core.engine import Trajectory
from ..core.outcomes import train_tolerance
from ..core.registry import get_landscape
from .config import ExplorerConfig, from_query, to_query
from .explorer import run_outcome

FORMAT_NAME = "cliffs-trajectories"
#: 2: the settings in their URL form, each run's outcome; 3: each rule's options; 4: the settings'
#: number format (``dtype``) and gradient noise (``noise``), as the URL writes them.
FORMAT_VERSION = 4
#: Versions the reader still accepts (a version-2 file has no rule options, and a version 2 or 3
#: file no number format or noise in its settings: the defaults, float64 and exact gradients).
READABLE_VERSIONS = (2, 3, 4)


def _columns(names: tuple[str, str]) -> list[str]:
    a, b = names
    return [
        "mode",
        "step",
        a,
        b,
        "loss",
        f"grad_{a}",
        f"grad_{b}",
        "grad_norm",
        f"update_{a}",
        f"update_{b}",
        "clipped",
    ]


def _param_names(runs: Mapping[str, Trajectory]) -> tuple[str, str]:
    names = {get_landscape(run.landscape).param_names for run in runs.values()}
    if len(names) > 1:
        raise ValueError(f"runs on landscapes with different parameters cannot share one table: {names}")
    return names.pop() if names else ("p1", "p2")


def _num(value: float) -> str:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cannot export the non-finite value {number!r}")
    return repr(number)


def _rows(mode: str, run: Trajectory) -> list[list[str | int]]:
    """The rows of one run as text cells (blank where a value does not exist)."""
    k = run.steps_taken
    rows: list[list[str | int]] = []
    for i in range(k + 1):
        point = [_num(run.params[i, 0]), _num(run.params[i, 1]), _num(run.loss[i])]
        if i < k:
            step = [
                _num(run.grad[i, 0]),
                _num(run.grad[i, 1]),
                _num(run.grad_norm[i]),
                _num(run.update[i, 0]),
                _num(run.update[i, 1]),
                "1" if run.clipped[i] else "0",
            ]
        else:
            step = [""] * 6
        rows.append([mode, i, *point, *step])
    return rows


def runs_to_csv(runs: Mapping[str, Trajectory]) -> str:
    """One CSV table of all runs: one row per step per run, keyed by the run's name.

    Columns: ``mode, step, <p1>, <p2>, loss, grad_<p1>, grad_<p2>, grad_norm,
    update_<p1>, update_<p2>, clipped`` with the landscape's parameter names
    (``w, b`` for the Pascanu RNN). The last row of each run has no gradient
    or update: no step was taken from that point.

    Raises:
      ValueError: if the runs' landscapes have different parameter names.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_columns(_param_names(runs)))
    for mode, run in runs.items():
        writer.writerows(_rows(mode, run))
    return out.getvalue()


@dataclass(frozen=True)
class PathTable:
    """One run read back from a CSV export (the numbers only).

    Attributes mirror ``Trajectory``: params (k+1, 2), loss (k+1,), grad,
    update (k, 2), grad_norm (k,), clipped (k,) bool; ``param_names`` are the
    column names of the two parameters.
    """

    mode: str
    param_names: tuple[str, str]
    params: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    update: np.ndarray
    grad_norm: np.ndarray
    clipped: np.ndarray


def _table(mode: str, names: tuple[str, str], rows: list[list[str]], where: str) -> PathTable:
    if not rows:
        raise ValueError(f"{where}: run {mode!r} has no rows")
    try:
        return _parse_table(mode, names, rows, where)
    except (TypeError, ValueError) as error:
        if str(error).startswith(where):
            raise
        raise ValueError(f"{where}: a cell of run {mode!r} is not a number ({error})") from None


def _parse_table(mode: str, names: tuple[str, str], rows: list[list[str]], where: str) -> PathTable:
    steps = [int(r[1]) for r in rows]
    if steps != list(range(len(rows))):
        raise ValueError(f"{where}: the steps of run {mode!r} are not 0, 1, 2, ...")
    if any(cell != "" for cell in rows[-1][5:]):
        raise ValueError(f"{where}: the last row of run {mode!r} must have no gradient or update")
    taken = rows[:-1]

    def floats(cells: list[list[str]], columns: slice) -> np.ndarray:
        return np.array([[float(c) for c in row[columns]] for row in cells], dtype=np.float64)

    numbers = floats(rows, slice(2, 5))
    steps_part = floats(taken, slice(5, 10)).reshape(-1, 5)
    clipped = [row[10] for row in taken]
    if any(c not in ("0", "1") for c in clipped):
        raise ValueError(f"{where}: 'clipped' must be 0 or 1 in run {mode!r}")
    return PathTable(
        mode=mode,
        param_names=names,
        params=numbers[:, :2],
        loss=numbers[:, 2],
        grad=steps_part[:, 0:2],
        update=steps_part[:, 3:5],
        grad_norm=steps_part[:, 2],
        clipped=np.array([c == "1" for c in clipped], dtype=bool),
    )


def runs_from_csv(text: str) -> dict[str, PathTable]:
    """Reads a table written by ``runs_to_csv``.

    Returns:
      {run name: PathTable}, in the order the runs appear.

    Raises:
      ValueError: if the header or a row does not have the expected shape.
    """
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("the CSV is empty: expected a header row") from None
    if len(header) != 11 or header[:2] != ["mode", "step"]:
        raise ValueError(f"not a trajectory table: unexpected header {header!r}")
    names = (header[2], header[3])
    if header != _columns(names):
        raise ValueError(f"not a trajectory table: unexpected header {header!r}")
    grouped: dict[str, list[list[str]]] = {}
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != 11:
            raise ValueError(f"line {line}: expected 11 cells, got {len(row)}")
        grouped.setdefault(row[0], []).append(row)
    return {mode: _table(mode, names, rows, "CSV") for mode, rows in grouped.items()}


# ---------------------------------------------------------------------------
# JSON


_RUN_FIELDS = (
    "landscape",
    "landscape_params",
    "lr",
    "clip",
    "threshold",
    "optimizer",
    "steps_requested",
    "dtype",
    "diverged_at",
    "reason",
    "clip_options",
    "optimizer_options",
    "noise",
)


def _options_in(values: Mapping[str, float | None] | None) -> dict[str, float] | None:
    return None if values is None else {k: math.inf if v is None else float(v) for k, v in values.items()}


def _thresholds_out(values) -> list[float | None]:
    """A rule's threshold at each step; null for infinity (no threshold yet, or none at all)."""
    return [None if math.isinf(v) else float(v) for v in np.asarray(values, dtype=float)]


def _config_to_dict(config: ExplorerConfig) -> dict[str, str]:
    # The URL form: one serialisation of the settings, so the export cannot drift from links.
    return to_query(config)


def _config_from_dict(data: Mapping) -> ExplorerConfig:
    config, notices = from_query(dict(data))
    if notices:
        raise ValueError("the stored settings are not valid: " + " ".join(notices))
    return config


def _run_settings(run: Trajectory) -> dict[str, object]:
    settings = {key: getattr(run, key) for key in _RUN_FIELDS}
    for key in ("clip_options", "optimizer_options", "noise"):
        value = settings[key]
        # An infinite option (ZClip's max_norm: no cap) is written as null.
        if value is not None:
            settings[key] = dict(zip(value, _thresholds_out(list(value.values())), strict=True))
    # Each rule's own threshold at each step (AutoClip's percentile, ZClip's band, AGC's bound).
    settings["clip_threshold"] = _thresholds_out(np.asarray(run.clip_threshold))
    settings["spiked"] = [bool(v) for v in np.asarray(run.spiked)]
    settings["landscape_params"] = dict(run.landscape_params)
    # The outcome class in the words the Explorer and the Sweeps use (derived; not read back).
    scape = get_landscape(run.landscape)
    settings["outcome"] = run_outcome(
        run, scape.window, train_tolerance(run.landscape, **run.landscape_params)
    )
    return settings


def runs_to_json(runs: Mapping[str, Trajectory], config: ExplorerConfig | None = None) -> str:
    """The runs as JSON: each run's settings, then one row per step per run.

    Args:
      runs: {run name (e.g. the clipping mode): Trajectory}.
      config: the Explorer settings that produced them, stored alongside.

    Returns:
      A JSON document with ``format``, ``version``, ``config`` (or null),
      ``columns``, ``runs`` (settings by name) and ``rows`` (objects keyed by
      the column names; null where a value does not exist).
    """
    names = _param_names(runs)
    columns = _columns(names)
    rows = []
    for mode, run in runs.items():
        for cells in _rows(mode, run):
            row: dict[str, object] = {}
            for column, cell in zip(columns, cells, strict=True):
                if column in ("mode", "step"):
                    row[column] = cell
                elif column == "clipped":
                    row[column] = None if cell == "" else cell == "1"
                else:
                    row[column] = None if cell == "" else float(cell)
            rows.append(row)
    document = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "config": None if config is None else _config_to_dict(config),
        "columns": columns,
        "runs": {mode: _run_settings(run) for mode, run in runs.items()},
        "rows": rows,
    }
    return json.dumps(document, indent=1, allow_nan=False)


@dataclass(frozen=True)
class ExportedRuns:
    """What ``runs_from_json`` reads back: the runs and the config, if one was stored."""

    runs: dict[str, Trajectory]
    config: ExplorerConfig | None


def runs_from_json(text: str) -> ExportedRuns:
    """Reads a document written by ``runs_to_json`` back into Trajectories.

    Raises:
      ValueError: if the text is not such a document.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ValueError(f"not a {FORMAT_NAME} document")
    if document.get("version") not in READABLE_VERSIONS:
        raise ValueError(
            f"unsupported version {document.get('version')!r} (this reader knows "
            f"{', '.join(map(str, READABLE_VERSIONS))})"
        )
    columns = document["columns"]
    names = (columns[2], columns[3])
    if columns != _columns(names):
        raise ValueError(f"unexpected columns {columns!r}")
    grouped: dict[str, list[list[str]]] = {mode: [] for mode in document["runs"]}
    for row in document["rows"]:
        cells = []
        for column in columns:
            value = row[column]
            if column == "clipped":
                cells.append("" if value is None else ("1" if value else "0"))
            elif column in ("mode", "step"):
                cells.append(value)
            else:
                cells.append("" if value is None else repr(float(value)))
        if cells[0] not in grouped:
            raise ValueError(f"row for unknown run {cells[0]!r}")
        grouped[cells[0]].append(cells)
    runs = {}
    for mode, meta in document["runs"].items():
        table = _table(mode, names, grouped[mode], "JSON")
        dtype = np.dtype(meta["dtype"])
        runs[mode] = Trajectory(
            params=table.params.astype(dtype),
            loss=table.loss.astype(dtype),
            grad=table.grad.astype(dtype),
            update=table.update.astype(dtype),
            grad_norm=table.grad_norm.astype(dtype),
            clipped=table.clipped,
            diverged_at=meta["diverged_at"],
            reason=meta["reason"],
            landscape=meta["landscape"],
            lr=meta["lr"],
            clip=meta["clip"],
            threshold=meta["threshold"],
            optimizer=meta["optimizer"],
            landscape_params=dict(meta["landscape_params"]),
            steps_requested=meta["steps_requested"],
            dtype=meta["dtype"],
            clip_options=_options_in(meta.get("clip_options")) or {},
            optimizer_options=_options_in(meta.get("optimizer_options")) or {},
            noise=_options_in(meta.get("noise")),
            clip_threshold=(
                None
                if meta.get("clip_threshold") is None
                else np.array(
                    [math.inf if v is None else float(v) for v in meta["clip_threshold"]], dtype=dtype
                )
            ),
            # files before version 4 carry no noise: no step spiked
            spiked=np.array(meta.get("spiked") or [False] * len(table.update), dtype=bool),
        )
    config = document.get("config")
    return ExportedRuns(runs=runs, config=None if config is None else _config_from_dict(config))

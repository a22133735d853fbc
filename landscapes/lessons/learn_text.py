r"""The Learn page's text, as data: Markdown sections with LaTeX math.

Streamlit's ``st.markdown`` renders ``$...$`` inline and ``$$...$$`` as a
display formula. Each section names the figure builder that illustrates it
(``figure``), so the page can put text and picture side by side without
knowing what either says.

Numbers quoted here come from this package; ``tests/test_lessons.py``
recomputes the ones that could drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.clipping import MODE_LABELS
from ..core.objectives import PASCANU_CRITICAL_W
from ..core.rnn import (
    FIXED_POINT_SLOPE,
    PeakGradients,
    RnnUnroll,
    nearest_wall_b,
    state_drift,
    unroll_on_wall,
    wall_offset,
)
from ..views.config import ExplorerConfig
from ..views.explorer import ExplorerRuns, outcome, tolerance_of
from .demos import BandCheck, BandRun, ClipComparison


@dataclass(frozen=True)
class LearnSection:
    """One section of the Learn page.

    Attributes:
      key: a stable identifier (for anchors and tests).
      title: the heading.
      body: Markdown with ``$...$`` / ``$$...$$`` math.
      figure: the name of the ``landscapes`` figure builder that goes with
        it, or None.
      sources: short references for the section's facts.
    """

    key: str
    title: str
    body: str
    figure: str | None = None
    sources: tuple[str, ...] = ()


_PASCANU = "Pascanu, Mikolov & Bengio, On the difficulty of training recurrent neural networks, ICML 2013"
_GOODFELLOW = "Goodfellow, Bengio & Courville, Deep Learning, MIT Press 2016, sections 8.2.4 and 10.11"

EXPLODING = LearnSection(
    key="exploding",
    title="Exploding and vanishing gradients, and what a cliff is",
    figure="rnn_jacobians_figure",
    sources=(_PASCANU, _GOODFELLOW),
    body=r"""
Gradient descent moves the parameters a small distance against the gradient,
$\theta \leftarrow \theta - \eta\, g$ with $g = \nabla_\theta E$. In a recurrent
network the same weights are used at every time step, so the gradient has to be
carried back through all of them. Take the single recurrent unit used throughout
this app, $x_t = w\,\sigma(x_{t-1}) + b$ with a loss $E$ on the last state $x_T$.
The chain rule splits the gradient into one term per time step:

$$
\frac{\partial E}{\partial w}
= \sum_{t=1}^{T} \frac{\partial E}{\partial x_T}
\left( \prod_{k=t+1}^{T} w\,\sigma'(x_{k-1}) \right) \sigma(x_{t-1}).
$$

The bracket is a product of one-step Jacobians $\partial x_k / \partial x_{k-1} =
w\,\sigma'(x_{k-1})$, one for every step between $t$ and the end. A product of many
numbers behaves like a power:

- if the factors are mostly **larger than 1**, the early terms grow exponentially
  with the distance $T - t$: the gradient **explodes**;
- if they are mostly **smaller than 1**, those terms shrink exponentially: the
  gradient **vanishes**, and events far in the past stop influencing learning.

Because $\sigma'$ is never larger than $1/4$, each factor here is at most $|w|/4$
in size, so this unit can only explode when $|w| > 4$.

**A cliff** is how an exploding gradient looks in the loss landscape: a thin strip
of parameter space where the loss changes by a lot over a tiny distance. For the
unit above (with $x_0 = 0.5$, $T = 50$ and $E = (\sigma(x_T) - 0.7)^2$), once
$w$ exceeds $1/\sigma'(0.5) \approx 4.26$ the start state $0.5$ becomes an
*unstable* fixed point exactly on the line $b = 0.5 - w\,\sigma(0.5)$. On one side of
that line the state drifts down, on the other it climbs, and at $w = 5$ the loss
drops from about $0.35$ to about $0.01$ as you cross it. On the line, every factor equals
$w\,\sigma'(0.5) \approx 0.235\,w$, so the gradient there grows like
$(0.235\,w)^T$: at $w = 5$ it reaches about $7 \times 10^3$, while a hundredth away
in $b$ it is about $0.2$.

Steepness alone would be harmless; the damage comes from the step. A gradient only
describes the loss in a tiny neighbourhood of the current point, but a step of
length $\eta \lVert g \rVert$ with $\lVert g \rVert$ in the hundreds leaves that
neighbourhood far behind. From the start $(4.7, -2.2)$ with $\eta = 0.5$, the
fourth step meets a gradient of length about $131$ and is thrown to roughly
$(39, 53)$, where $\sigma(x_T) = 1$, the loss is stuck at $0.09$ and the gradient is
exactly zero: training never recovers.
""".strip(),
)

VALUE_VS_NORM = LearnSection(
    key="value_vs_norm",
    title="Value clipping vs norm clipping",
    figure="clip_vector_figure",
    sources=(_PASCANU, _GOODFELLOW),
    body=r"""
Clipping edits the gradient before the optimizer uses it. Both common rules take a
threshold $c > 0$ and leave small gradients alone.

**Value clipping** limits each component on its own:

$$
g_i \leftarrow \min\big(\max(g_i, -c),\, c\big).
$$

It is cheap, but because components are treated separately, clipping one and not
another **turns the vector**. The gradient $g = (3, 1)$ with $c = 1$ becomes
$(1, 1)$: its direction changes by about $26.6^\circ$. With many large components
the result points towards a corner of the box $[-c, c]^n$, whatever the true
direction was.

**Norm clipping** rescales the whole vector when it is too long:

$$
\text{if } \lVert g \rVert > c: \quad g \leftarrow \frac{c}{\lVert g \rVert}\, g.
$$

The direction is kept and only the length is capped, so with plain gradient descent
no step can be longer than $\eta\, c$. That bound is the whole safety argument: on
the cliff the step still points the right way, it just cannot fling the parameters
across the landscape. This is the rule Pascanu et al. proposed, and the usual
choice in practice. The norm is the *global* one, taken over all parameters at once.

In the diagram, value clipping sends $g$ to the dashed box and norm clipping to the
dotted circle of radius $c$. Library details differ slightly: PyTorch's
`clip_grad_norm_` divides by $\lVert g \rVert + 10^{-6}$, and Keras's `clipnorm`
clips each weight tensor separately (which turns the overall direction, like value
clipping); Keras's `global_clipnorm` is the global rule.
""".strip(),
)

PLACEMENT = LearnSection(
    key="placement",
    title="Where clipping belongs in a training loop",
    figure="placement_figure",
    sources=("PyTorch documentation: torch.nn.utils.clip_grad_norm_ and automatic mixed precision",),
    body=r"""
One PyTorch training step makes four moves: clear the old gradients
(`zero_grad()`), compute new ones (`backward()`), optionally change them, and apply
them (`step()`). Clipping has exactly one correct place: **after `backward()` and
before `step()`**, the only moment when the gradient buffers hold this step's
gradient and the optimizer has not read them yet.

```python
optimizer.zero_grad()
loss = loss_fn(model(inputs), targets)
loss.backward()
torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
optimizer.step()
```

The classic mistakes raise no error, which is what makes them dangerous:

1. **Clipping after `step()`.** The weights have already moved with the raw
   gradient. The clip then shortens numbers that nobody reads before the next
   `zero_grad()` wipes them.
2. **Clipping right after `zero_grad()`, before `backward()`.** There is no
   gradient to clip yet. With `zero_grad()`'s default `set_to_none=True` every
   `.grad` is `None` and `clip_grad_norm_` skips it; with `set_to_none=False` it is
   a zero tensor, and a zero vector is never clipped. Either way `backward()` then
   writes the raw gradient and `step()` uses it unchanged.
3. **Calling `zero_grad()` between `backward()` and `step()`.** This erases the
   fresh gradient before the optimizer reads it. With the default
   `set_to_none=True` every `.grad` is `None`, PyTorch's optimizers skip
   parameters without a gradient, and training stalls: nothing moves. With
   `set_to_none=False` the step runs with zero gradients: plain SGD stands still,
   while momentum, Adam or weight decay keep moving the weights on their old
   state alone, never on a new gradient.
4. **Clipping scaled gradients.** With mixed-precision loss scaling, call
   `scaler.unscale_(optimizer)` before clipping; otherwise the threshold is compared
   with gradients multiplied by the (large) scale factor. With gradient
   accumulation, clip once, after the last micro-batch's `backward()`.

The demo runs the same loop on the single-unit RNN from the catapult start with the
clip in each place. Mistakes 1 and 2 reproduce the unclipped run number for number:
they are thrown off the cliff at the same step. Only the correct order keeps the
step short. In Keras and optax the placement is taken care of for you: the
optimizer's `clipnorm`/`global_clipnorm`/`clipvalue` options, or a clip placed
first in `optax.chain`, act between computing the gradient and applying it.
""".strip(),
)

THRESHOLD = LearnSection(
    key="threshold",
    title="Choosing a threshold",
    figure="grad_norm_histogram",
    sources=(
        _PASCANU,
        "Brown et al., Language models are few-shot learners (GPT-3), 2020, appendix B",
        "Merity, Keskar & Socher, Regularizing and optimizing LSTM language models (AWD-LSTM), ICLR 2018",
        "Sutskever, Vinyals & Le, Sequence to sequence learning with neural networks, NeurIPS 2014",
        "Seetharaman et al., AutoClip, 2020; Brock et al., NFNets (adaptive gradient clipping), 2021",
    ),
    body=r"""
The threshold decides how often clipping acts. Set it far above every gradient the
model produces and it never fires. Set it far below and it fires on almost every
step: each update then has length $\eta\, c$ whatever the slope, the size of the
gradient is ignored, and the effective learning rate becomes
$\eta\, c / \lVert g \rVert$, so progress can get very slow.

Pascanu et al. suggest a simple recipe: record the gradient norm over a good number
of updates and look at its **average**. In their experience, thresholds from
**half to ten times that average** could still make training converge, although
it might converge more slowly. That is a rule of thumb from their experiments, not
a guarantee: below the histogram, the band's two ends are run on your current
Explorer run, and on the default catapult run the top of the band does not save
it. The histogram shows the norms of a run on a log axis, the average, and that
band.

Two cautions. A single hit on a cliff can be a thousand times larger than a
typical gradient (from the catapult start, $131$ against a median near $0.1$) and
drags the average up with it, so compare with the median, or measure during a
quiet stretch of training. And the threshold and the learning rate
work together: the longest possible step is $\eta\, c$.

Common starting points:

- **1.0 for Transformers.** Large language models are usually trained with the
  global norm clipped at 1.0 (GPT-3, for example), and Hugging Face's `Trainer`
  uses `max_grad_norm=1.0` by default.
- **0.25 to 5 for recurrent networks.** Published LSTM settings span this range:
  0.25 for the AWD-LSTM language models (Merity et al.), 5 for the
  sequence-to-sequence LSTMs of Sutskever et al.

Adaptive schemes remove the guesswork: AutoClip sets $c$ to a percentile of the
gradient norms seen so far, and adaptive gradient clipping (AGC) clips each unit
when its gradient is large *relative to its weights*.
""".strip(),
)

LIMITS = LearnSection(
    key="limits",
    title="What clipping does not fix, and what else helps",
    figure="rnn_contributions_figure",
    sources=(_PASCANU, _GOODFELLOW, "Hochreiter & Schmidhuber, Long short-term memory, 1997"),
    body=r"""
Clipping caps large gradients. It cannot enlarge small ones, so it does nothing for
**vanishing gradients**: when the one-step Jacobians are mostly below 1, the terms
that link the loss to distant time steps are still exponentially small, and the
network still cannot learn long-range dependencies. Nor does clipping remove a cliff:
the landscape is unchanged, a clipped step can still land on the cliff face, and it
only limits how far a single step can go. A gradient that has already overflowed to
infinity cannot be rescued either (norm clipping in PyTorch and optax turns it into
NaN), and if clipping
fires on almost every step the real problem is usually a learning rate that is too
high.

What else helps:

- **Gated units (LSTM, GRU).** The cell state is updated by addition, scaled by a
  forget gate; while that gate stays near 1 the gradient along the cell passes back
  almost unchanged, so it does not fade away over many steps. (Gated networks can
  still produce large gradients, which is why they are usually clipped as well.)
- **Careful initialisation.** An orthogonal recurrent weight matrix has all its
  singular values equal to 1, so at the start of training a signal keeps its size
  from step to step (a scaled identity $\alpha I$ has all of them equal to
  $|\alpha|$, so only $|\alpha| = 1$ does the same); Xavier/Glorot and He initialisation
  choose weight scales with the same aim for feed-forward layers.
- **Normalisation.** Layer normalisation (in RNNs and Transformers) and batch
  normalisation (in convolutional networks) keep activations in a range where
  derivatives neither saturate nor blow up.
- **Residual connections.** A block $y = x + f(x)$ has Jacobian $I + \partial f /
  \partial x$, so the gradient always has a direct path back through the identity.
- **A smaller learning rate, or a warmup.** Smaller steps travel less far on a
  steep slope; a warmup keeps them short during the first updates, when the
  parameters and the optimizer's statistics are least settled.
- **Pascanu's regulariser.** Pascanu et al. add a penalty that asks the
  backpropagated error $\delta_{k+1} = \partial E / \partial x_{k+1}$ to keep its
  size when it passes back through one step's Jacobian
  $J_k = \partial x_{k+1} / \partial x_k$:

  $$\Omega = \sum_k \left( \dfrac{\lVert \delta_{k+1} J_k \rVert}{\lVert \delta_{k+1} \rVert} - 1 \right)^2.$$

  It targets vanishing gradients; they use it together with clipping, which
  handles the exploding side.
""".strip(),
)

BEYOND = LearnSection(
    key="beyond",
    title="Beyond a fixed threshold",
    figure=None,  # the Explorer's own map and history figures (figures.explorer), drawn by the page
    sources=(
        "Seetharaman, Wichern, Pardo & Le Roux, AutoClip: adaptive gradient clipping for source "
        "separation networks, MLSP 2020",
        "Kumar et al., ZClip: adaptive spike mitigation for LLM pre-training, arXiv:2504.02507, 2025",
        "Brock, De, Smith & Simonyan, High-performance large-scale image recognition without "
        "normalization (NFNets, adaptive gradient clipping), ICML 2021; optax.adaptive_grad_clip",
        "Zhang, He, Sra & Jadbabaie, Why gradient clipping accelerates training, ICLR 2020",
        "optax.apply_if_finite; optax.chain(..., optax.clip_by_global_norm(c), ...)",
    ),
    body=r"""
A fixed $c$ has to be chosen before training, in the units of a gradient nobody has
measured yet. The rules below set or apply the limit differently. Each is one more
rule in this app's registry, so every page can draw it.

- **AutoClip** keeps every gradient norm seen so far and clips to their $p$-th
  percentile (10 by default). The limit follows the run: it is low while the
  gradients are small and rises only if large ones keep coming.
- **ZClip** keeps a moving mean $\mu$ and standard deviation $\sigma$ of the norm
  and clips a norm whose z-score $(\lVert g \rVert - \mu)/\sigma$
  is above a limit $z$ (2.5 by default), pulling it back towards the mean. It needs a warm-up to
  learn $\mu$ and $\sigma$ first, and during that warm-up it clips nothing.
- **Adaptive gradient clipping (AGC)** compares the gradient with the parameters
  it updates: it clips when $\lVert g \rVert \ge \lambda
  \max(\lVert\theta\rVert, \varepsilon)$. With plain descent no step then moves the
  weights by more than $\eta\,\lambda$ times their size (for $\lVert\theta\rVert \ge \varepsilon$).
- **Normalized gradient descent** rescales *every* gradient to length $c$: the
  step length is always about $\eta\, c$, on the plateau as on the cliff. Norm
  clipping is the same rule, but applied only to long gradients.
- **Skipping** drops a step whose gradient is too large (or not finite) and keeps
  the parameters and the optimizer's state as they were. With exact gradients the
  next step meets the same gradient again, so a run that reaches a steep spot
  stays parked there; it only helps when a spike is noise and the next gradient is
  different.
- **Clipping after the optimizer** limits the optimizer's update direction (the
  velocity, for momentum) instead of the raw gradient. For plain gradient descent
  it is norm clipping; with momentum it lets the velocity that has built up keep
  pushing, so the two can end very differently.

Pick a story below: the paths start from the same point, with the same learning
rate, and the sentences that go with the map are computed from these runs.
""".strip(),
)

#: The Learn page, in reading order.
LEARN_SECTIONS: tuple[LearnSection, ...] = (EXPLODING, VALUE_VS_NORM, PLACEMENT, THRESHOLD, BEYOND, LIMITS)

#: Full references for the page's footer.
LEARN_REFERENCES: tuple[str, ...] = (
    "R. Pascanu, T. Mikolov, Y. Bengio. On the difficulty of training recurrent neural networks. ICML 2013.",
    "I. Goodfellow, Y. Bengio, A. Courville. Deep Learning. MIT Press 2016, sections 8.2.4 and 10.11.1.",
    "S. Hochreiter, J. Schmidhuber. Long short-term memory. Neural Computation 9(8), 1997.",
    "T. Brown et al. Language models are few-shot learners. NeurIPS 2020.",
    "S. Merity, N. S. Keskar, R. Socher. Regularizing and optimizing LSTM language models. ICLR 2018.",
    "I. Sutskever, O. Vinyals, Q. V. Le. Sequence to sequence learning with neural networks. NeurIPS 2014.",
    "P. Seetharaman et al. AutoClip: adaptive gradient clipping for source separation networks. 2020.",
    "A. Brock, S. De, S. Smith, K. Simonyan. High-performance large-scale image recognition without "
    "normalization. ICML 2021.",
    "A. Kumar et al. ZClip: adaptive spike mitigation for LLM pre-training. arXiv:2504.02507, 2025.",
    "J. Zhang, T. He, S. Sra, A. Jadbabaie. Why gradient clipping accelerates training: a theoretical "
    "justification for adaptivity. ICLR 2020.",
)


def learn_section(key: str) -> LearnSection:
    """The section with this key.

    Raises:
      KeyError: if there is none (the message lists the keys).
    """
    for section in LEARN_SECTIONS:
        if section.key == key:
            return section
    raise KeyError(f"no Learn section {key!r}; the keys are {', '.join(s.key for s in LEARN_SECTIONS)}")


# ---------------------------------------------------------------------------
# Sentences computed from a run, for the Learn and "Inside the RNN" pages.
# Each states only what the numbers passed in show; tests/test_learn_text.py
# recomputes every number.


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 step``, ``2 steps``: a count with its noun."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def _sci(x: float) -> str:
    return f"{x:.3g}"


def exploding_caption(unroll: RnnUnroll) -> str:
    """The Learn page's caption under the factors of an unroll (for any T)."""
    f = np.abs(unroll.factors)
    product = float(np.abs(unroll.running_product[-1]))
    if np.ptp(f) == 0:
        each = f"every one of the {plural(unroll.T, 'factor')} equals {f[0]:.4f}"
    else:
        each = f"the {plural(unroll.T, 'factor')} run from {f.min():.4f} to {f.max():.4f}"
    return (
        f"Exactly on the wall at w = {unroll.w:g} the state never leaves 0.5, so {each}; "
        f"their product after T = {unroll.T} is {_sci(product)}."
    )


def wall_state_text(unroll: RnnUnroll) -> str:
    """What the hidden state of this unroll does relative to the wall's fixed point 0.5."""
    drift = state_drift(unroll)
    w, b, T = unroll.w, unroll.b, unroll.T
    factor = w * FIXED_POINT_SLOPE
    offset = wall_offset(w, b)
    if b == nearest_wall_b(w):
        where = (
            f"This b is the float64 number nearest the line, {offset:+.1e} from it: the line's b is "
            "irrational, so no float64 lies exactly on it. "
        )
    else:
        where = f"This b is {offset:+.3g} from the line. "
    if drift.exact:
        what = f"Computed in float64, the state is exactly 0.5 at all {plural(T, 'step')}."
    elif drift.left_at is None:
        what = (
            f"Computed in float64, the state stays within {drift.max_deviation:.1e} of 0.5 for all "
            f"{plural(T, 'step')}."
        )
    elif drift.left_at == 1:
        what = f"The state leaves 0.5 at once and ends at $x_T = {unroll.states[-1]:.4g}$."
    else:
        what = (
            f"The state stays within {drift.level:g} of 0.5 until step {drift.left_at - 1}, leaves "
            f"at step {drift.left_at} and ends at $x_T = {unroll.states[-1]:.4g}$."
        )
    why = ""
    if factor > 1 and abs(offset) < 1e-12:
        if drift.left_at is not None:
            why = (
                f" Each step multiplies the distance from 0.5 by about w σ′(0.5) = {factor:.3f}, so even "
                "a difference of a rounding error grows until it shows."
            )
        else:
            exact = unroll_on_wall(w, T, offset)
            why = (
                f" Rounding happens to hold it there. In exact arithmetic this b would end "
                f"{abs(exact.states[-1] - 0.5):.0e} from 0.5 after T = {T}: the unstable fixed point "
                f"multiplies the distance by w σ′(0.5) = {factor:.3f} each step."
            )
    return where + what + why


def wall_explanation(unroll: RnnUnroll) -> str:
    """The RNN page's paragraph under "Why the wall is there", for this w (``wall_state_text``
    says what the state of this very unroll does)."""
    w = unroll.w
    factor = w * FIXED_POINT_SLOPE
    head = (
        f"On the line $b = 0.5 - \\sigma(0.5)\\,w$ (for this $w$: $b \\approx {nearest_wall_b(w):.6f}$) "
        "the start state 0.5 maps to itself: exactly on the line, the state would never move. Whether "
        "nearby states stay close depends on the slope of the map at 0.5, "
        f"$w\\,\\sigma'(0.5) = {factor:.3f}$. "
    )
    if factor > 1:
        head += (
            "That is **above 1**, so the fixed point repels: a bias a hair above the line sends the "
            "state running up to one attractor, a hair below sends it down to the other. The loss jumps "
            "between the two outcomes across a band that narrows with every step of the loop: that "
            "jump is the cliff."
        )
    else:
        head += (
            f"That is **at most 1** (it needs $w > {PASCANU_CRITICAL_W:.4f}$ to pass 1), so the fixed "
            "point attracts and nearby states settle back: here there is no wall, only a gentle slope."
        )
    return head


def jacobians_caption(unroll: RnnUnroll) -> str:
    """How many one-step factors exceed 1 in this unroll, and what their product is."""
    f = np.abs(unroll.factors)
    above = int(np.sum(f > 1))
    product = float(np.abs(unroll.running_product[-1]))
    trend = "grows" if product > 1 else "shrinks"
    return (
        f"Each step multiplies the sensitivity by $w\\,\\sigma'(x_{{t-1}})$. Here {above} of the "
        f"{plural(unroll.T, 'factor')} exceed 1, and their product $|\\partial x_T/\\partial x_0|$ "
        f"{trend} to {_sci(product)}: the product of Jacobians behind exploding (above 1) and vanishing "
        "(below 1) gradients."
    )


def contributions_caption(unroll: RnnUnroll) -> str:
    """Which time steps carry the gradient of this unroll."""
    size = np.abs(unroll.contrib_w) + np.abs(unroll.contrib_b)
    total = float(size.sum())
    T = unroll.T
    lead = "How much each time step adds to ∂E/∂w and ∂E/∂b (they sum to the gradient)."
    if total == 0:
        return lead + " Here every term is zero: the loss is flat at this point."
    top = int(np.argmax(size)) + 1
    third = max(1, T // 3)
    early = float(size[:third].sum() / total)
    text = (
        f"{lead} The largest term comes from step {top} of {T}, and the first "
        f"{plural(third, 'step')} carry {100 * early:.0f}% of the total."
    )
    reach = float(np.abs(unroll.to_output[0]))  # |dx_T/dx_1|
    if T >= 3:
        if top <= third and reach > 1:
            text += (
                f" The early steps win: step 1 reaches the loss through the product of the later "
                f"factors, here {_sci(reach)}."
            )
        elif top > T - third and reach < 1:
            text += (
                f" The last steps win: the product of factors from step 1 to the end is only "
                f"{_sci(reach)}, so distant steps barely reach the loss."
            )
    return text


def peak_heading(peaks: PeakGradients) -> str:
    """The RNN page's heading over the cliff-height figure, true for this w."""
    if peaks.fixed_point_factor > 1:
        return "The cliff sharpens exponentially with T"
    return f"No wall on this line below w = {PASCANU_CRITICAL_W:.4g}"


def _still_grows(peaks: PeakGradients) -> bool:
    """Whether the peak rose by more than 20 % between half the longest T and the longest T."""
    half = int(np.argmin(np.abs(peaks.T - peaks.T[-1] / 2)))
    return peaks.T[half] < peaks.T[-1] and peaks.peak_norm[-1] > 1.2 * peaks.peak_norm[half]


def peak_caption(peaks: PeakGradients) -> str:
    """What the cliff-height figure shows at this w."""
    w, factor = peaks.w, peaks.fixed_point_factor
    first, last = int(peaks.T[0]), int(peaks.T[-1])
    lo, hi = float(peaks.peak_norm[0]), float(peaks.peak_norm[-1])
    if factor > 1:
        return (
            f"The largest gradient norm across the wall at w = {w:.4g}, for each length T (log "
            f"scale). It grows from {_sci(lo)} at T = {first} to {_sci(hi)} at T = {last}, about "
            f"×{peaks.growth_per_step:.3f} per extra step, close to w σ′(0.5) = {factor:.3f}: a "
            "straight line on this plot is exponential growth."
        )
    text = (
        f"At w = {w:.4g} the slope w σ′(0.5) = {factor:.3f} is at most 1, so the start state 0.5 is no "
        "unstable fixed point and the line b = 0.5 − σ(0.5) w is no wall. The largest gradient norm "
        f"near that line goes from {_sci(lo)} at T = {first} to {_sci(hi)} at T = {last}"
    )
    grows = _still_grows(peaks)
    if abs(w) > 4:
        text += (
            ". Above w = 4 the steepest factor, w/4, exceeds 1, and for some b the map has two "
            "attractors; near the b where they appear the gradient "
            + ("still grows with T" if grows else "stays moderate")
            + f", but the cliff through the start state begins only above w = {PASCANU_CRITICAL_W:.4g}."
        )
    else:
        text += (
            f". Every factor is at most |w|/4 = {abs(w) / 4:.3g} here, so the terms of distant steps "
            + (
                "cannot be multiplied up, though the peak still rises slowly as more terms add up."
                if grows
                else "fade and the peak levels off."
            )
            + f" Raise w above {PASCANU_CRITICAL_W:.4g} to see the cliff."
        )
    return text


def vanishing_caption(unroll: RnnUnroll) -> str:
    """The Learn page's caption for an unroll far from the wall."""
    f = np.abs(unroll.factors)
    size = np.abs(unroll.contrib_w) + np.abs(unroll.contrib_b)
    ratio = float(size[0] / size[-1]) if size[-1] > 0 else float("nan")
    return (
        f"Here (w = {unroll.w:g}, b = {unroll.b:g}, T = {unroll.T}) every factor is at most "
        f"{f.max():.3f}, below 1, so step 1's term is only {ratio:.1e} times step {unroll.T}'s: the "
        "early steps contribute almost nothing to the gradient. Clipping only ever shrinks "
        "gradients, so it cannot bring them back."
    )


def clip_table(cmp: ClipComparison) -> str:
    """A Markdown table of what each rule does to one gradient (wraps on a phone)."""

    def vec(v) -> str:
        return f"({v[0]:.3g}, {v[1]:.3g})"

    rows = [
        ("raw g", cmp.grad, "—"),
        ("value clipping", cmp.value_clipped, f"{cmp.value_angle:.1f}°"),
        ("norm clipping", cmp.norm_clipped, f"{cmp.norm_angle:.1f}°"),
    ]
    lines = ["| | vector | length | turned by |", "|---|---|---|---|"]
    lines += [f"| {name} | {vec(v)} | {float(np.hypot(*v)):.3g} | {turn} |" for name, v, turn in rows]
    return "\n".join(lines) + (
        f"\n\nValue clipping turns g by {cmp.value_angle:.1f}°; norm clipping keeps its direction. "
        f"Box: every |gᵢ| ≤ c; circle: |g| ≤ c; here c = {cmp.threshold:g}."
    )


def _band_run_text(run: BandRun, tolerance: float) -> str:
    traj = run.trajectory
    if run.outcome == "trains":
        return f"trains (final loss {traj.final_loss:.2g}, at or below the bar of {tolerance:.2g})"
    if run.outcome == "diverged":
        return f"diverges at step {traj.diverged_at}"
    if run.outcome == "thrown":
        return f"leaves the window at step {run.left_at} and ends at loss {traj.final_loss:.2g}"
    return f"stays in the window but ends at loss {traj.final_loss:.2g}, above the bar of {tolerance:.2g}"


def band_text(check: BandCheck, threshold: float) -> str:
    """The Learn page's sentence on Pascanu's band for the learner's current run."""
    advice = check.advice
    n = check.run.steps_taken
    inside = advice.contains(threshold)
    text = (
        f"Over the {plural(n, 'step')} of the current Explorer run (norm clipping at c = {threshold:g}), "
        f"the average gradient norm is **{advice.mean_norm:.3g}** (the median is {advice.median_norm:.3g}), "
        f"so Pascanu's rule of thumb suggests a threshold between **{advice.low:.3g}** and "
        f"**{advice.high:.3g}**. Your threshold c = {threshold:g} lies {'inside' if inside else 'outside'} "
        "that band. "
        f"Run again with the band's bottom, c = {advice.low:.3g}, the descent "
        f"{_band_run_text(check.bottom, check.tolerance)}; with its top, c = {advice.high:.3g}, it "
        f"{_band_run_text(check.top, check.tolerance)}."
    )
    if check.top.outcome != "trains":
        text += " So here the top of the band does not train: the band is a heuristic, not a guarantee."
    return text


# ---------------------------------------------------------------------------
# "Beyond a fixed threshold": the stories the section's figure tells, and their sentences.


@dataclass(frozen=True)
class BeyondStory:
    """One view of the section: a label and the Explorer settings it runs (one start, several rules)."""

    key: str
    label: str
    config: ExplorerConfig


BEYOND_STORIES: tuple[BeyondStory, ...] = (
    BeyondStory(
        "adaptive",
        "adaptive thresholds",
        ExplorerConfig(paths=("none", "norm", "agc", "autoclip", "zclip")),
    ),
    BeyondStory(
        "normalize_skip",
        "normalize or skip",
        ExplorerConfig(paths=("none", "norm", "normalize", "skip")),
    ),
    BeyondStory(
        "after_momentum",
        "clip after momentum",
        ExplorerConfig(paths=("none", "norm", "clip_update"), optimizer="momentum", lr=0.1),
    ),
)


def beyond_story(key: str) -> BeyondStory:
    for story in BEYOND_STORIES:
        if story.key == key:
            return story
    raise KeyError(f"no story {key!r}; the keys are {', '.join(s.key for s in BEYOND_STORIES)}")


def _g(x: float) -> str:
    return f"{x:.3g}"


def _pt(p: np.ndarray) -> str:
    return f"({p[0]:.3g}, {p[1]:.3g})"


def _label(mode: str) -> str:
    label = MODE_LABELS[mode]
    return label[:1].upper() + label[1:]


def beyond_sentences(result: ExplorerRuns) -> list[str]:
    """What each rule did on this run, one sentence or two per rule, every number from the runs."""
    config = result.config
    tolerance = tolerance_of(config)
    runs = result.visible()
    lines: list[str] = []
    plain = runs.get("none")
    spike = int(np.argmax(plain.grad_norm)) if plain is not None and plain.steps_taken else None
    for mode, run in runs.items():
        if run.steps_taken == 0:
            continue
        ending = outcome(run, result.window, tolerance)
        fired = f"{run.n_clipped} of {run.steps_taken} steps"
        levels = np.asarray(run.clip_threshold)  # each rule's own limit per step (never None after init)
        label = _label(mode)
        if mode == "none":
            j = int(np.argmax(run.grad_norm))
            lines.append(
                f"{label}: the steepest gradient, |g| = {_g(float(run.grad_norm[j]))} at step {j}, "
                f"becomes a step {_g(float(run.step_length[j]))} long; outcome: **{ending}**."
            )
        elif mode == "zclip":
            warmup = int(config.clip_options_of("zclip")["warmup"])
            text = f"{label}: clipped {fired}; outcome: **{ending}**."
            if spike is not None and spike < run.steps_taken and np.isinf(levels[spike]):
                text += (
                    f" The spike came at step {spike}, inside its {warmup}-step warm-up, when it only "
                    f"collects norms, so it let a step of {_g(float(run.step_length[spike]))} through."
                )
            lines.append(text)
        elif mode == "autoclip":
            p = config.threshold_of("autoclip")
            lines.append(
                f"{label}: its limit, the {_g(p)}th percentile of the norms so far, went from "
                f"{_g(float(levels[0]))} to {_g(float(levels[-1]))}; it clipped {fired}, "
                f"its longest step was {_g(run.longest_step)}; outcome: **{ending}**."
            )
        elif mode == "agc":
            ratio = config.threshold_of("agc")
            lines.append(
                f"{label}: it allowed |g| up to {_g(ratio)} × ||θ||, about "
                f"{_g(float(levels[0]))} at the start; it clipped {fired}, its longest step was "
                f"{_g(run.longest_step)}; outcome: **{ending}**."
            )
        elif mode == "normalize":
            target = config.lr * config.threshold
            off = float(np.max(np.abs(run.step_length - target)))
            lines.append(
                f"{label}: every one of its {run.steps_taken} steps had length {_g(target)} = lr·c "
                f"(to within {_g(off)}), however flat or steep the ground; outcome: **{ending}**."
            )
        elif mode == "skip":
            first = int(np.argmax(run.clipped)) if run.n_clipped else None
            text = f"{label}: it skipped {fired}"
            if first is not None and bool(np.all(run.clipped[first:])):
                text += (
                    f", every one from step {first} on: it stays parked at {_pt(run.params[-1])}, "
                    f"where |g| = {_g(float(run.grad_norm[-1]))} is above c = {_g(config.threshold)}"
                )
            lines.append(text + f"; outcome: **{ending}**.")
        else:
            lines.append(
                f"{label}: clipped {fired}, longest step {_g(run.longest_step)}; outcome: **{ending}**."
            )
    if "clip_update" in runs and "norm" in runs and config.optimizer != "sgd":
        same = np.array_equal(runs["clip_update"].params, runs["norm"].params)
        lines.append(
            "With momentum the two norm rules are different rules: "
            + ("here their paths are the same." if same else "the paths part ways once clipping fires.")
        )
    return lines

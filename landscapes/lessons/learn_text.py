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
2. **Clipping right after `zero_grad()`, before `backward()`.** The buffers are all
   zero at that point, and a zero vector is never clipped. `backward()` then writes
   the raw gradient and `step()` uses it unchanged.
3. **Calling `zero_grad()` between `backward()` and `step()`.** This erases the
   fresh gradient, so the step has nothing to apply and training stalls.
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
        "Seetharaman et al., AutoClip, 2020; Brock et al., NFNets (adaptive gradient clipping), 2021",
    ),
    body=r"""
The threshold decides how often clipping acts. Set it far above every gradient the
model produces and it never fires. Set it far below and it fires on almost every
step: each update then has length $\eta\, c$ whatever the slope, the size of the
gradient is ignored, and the effective learning rate becomes
$\eta\, c / \lVert g \rVert$, so progress can get very slow.

Pascanu et al. suggest a simple recipe: record the gradient norm over a good number
of updates and look at its **average**. In their experiments any threshold from
**half to ten times that average** still trained well, so the choice is not
delicate. The histogram shows the norms of a run on a log axis, the average, and
that band.

Two cautions. A single hit on a cliff can be hundreds of times larger than a
typical gradient and drags the average up with it, so compare with the median, or
measure during a quiet stretch of training. And the threshold and the learning rate
work together: the longest possible step is $\eta\, c$.

Common starting points:

- **1.0 for Transformers.** Large language models are usually trained with the
  global norm clipped at 1.0 (GPT-3, for example), and Hugging Face's `Trainer`
  uses `max_grad_norm=1.0` by default.
- **1 to 5 for recurrent networks** (plain RNNs, LSTMs, GRUs).

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
- **Careful initialisation.** An orthogonal (or scaled identity) recurrent weight
  matrix has all its singular values equal to 1, so at the start of training a
  signal keeps its size from step to step; Xavier/Glorot and He initialisation
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

#: The Learn page, in reading order.
LEARN_SECTIONS: tuple[LearnSection, ...] = (EXPLODING, VALUE_VS_NORM, PLACEMENT, THRESHOLD, LIMITS)

#: Full references for the page's footer.
LEARN_REFERENCES: tuple[str, ...] = (
    "R. Pascanu, T. Mikolov, Y. Bengio. On the difficulty of training recurrent neural networks. ICML 2013.",
    "I. Goodfellow, Y. Bengio, A. Courville. Deep Learning. MIT Press 2016, sections 8.2.4 and 10.11.1.",
    "S. Hochreiter, J. Schmidhuber. Long short-term memory. Neural Computation 9(8), 1997.",
    "T. Brown et al. Language models are few-shot learners. NeurIPS 2020.",
    "P. Seetharaman et al. AutoClip: adaptive gradient clipping for source separation networks. 2020.",
    "A. Brock, S. De, S. Smith, K. Simonyan. High-performance large-scale image recognition without "
    "normalization. ICML 2021.",
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

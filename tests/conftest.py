import jax
import pytest
from hypothesis import HealthCheck, settings

import landscapes

jax.config.update("jax_numpy_rank_promotion", "raise")

# JAX calls are slow on the first example (compiles); keep examples modest and
# never let a deadline flake on a noisy 2-core machine.
settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")


@pytest.fixture(scope="session")
def pascanu():
    return landscapes.get_landscape("pascanu")


#: Test modules that run under JAX's strict dtype promotion (no implicit float64 <-> float32 or
#: int -> float mixing). Not yet the rest: optax's Adam computes ``decay ** count`` (a Python float
#: to an int32 power) in ``tree_bias_correction``, which strict promotion refuses (optax's code);
#: and two spots of ours still mix a Python float with an int array (``objectives._stairs_edges``,
#: the RNN's backward scan in ``rnn._wall_gradient``), to be cast without changing float32 bits.
STRICT_DTYPE_MODULES = {"test_clipping", "test_mesh"}


@pytest.fixture(autouse=True)
def strict_dtype_promotion(request):
    if request.module.__name__.rsplit(".", 1)[-1] in STRICT_DTYPE_MODULES:
        with jax.numpy_dtype_promotion("strict"):
            yield
    else:
        yield

import os

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


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server for the session (Debian's ``postgresql``, in a temporary folder, on
    loopback), as a SQLAlchemy URL. Without PostgreSQL the tests that use it skip on a developer's
    machine but fail when CI is set (scripts/test.sh installs it): CI must never pass by skipping."""
    from classroom.pgserver import TempPostgres, postgres_bin

    if postgres_bin() is None:
        reason = "PostgreSQL is not installed (apt-get install postgresql; scripts/test.sh does it)"
        if os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}:
            pytest.fail(reason)
        pytest.skip(reason)
    with TempPostgres() as server:
        yield server.url

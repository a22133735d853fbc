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

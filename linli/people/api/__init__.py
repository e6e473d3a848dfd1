"""The people API under /api/people/: the register, the care registry, stewards and the 三亮 card."""

from linli.people.api import care, register, stewards  # noqa: F401 - importing registers the routes
from linli.people.api.common import router

__all__ = ["router"]

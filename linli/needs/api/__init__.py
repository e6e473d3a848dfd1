"""The needs JSON API, mounted at /api/needs/: needs and matching, resources, projects, organisations and
the public community progress."""

from ninja import Router

from linli.needs.api import lists, projects

router = Router(tags=["needs"])
router.add_router("", projects.router)
router.add_router("", lists.router)

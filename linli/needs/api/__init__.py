"""The needs JSON API, mounted at /api/needs/: needs and matching, resources, projects, organisations, the
public community progress, volunteers' service on projects and organisations' own representatives."""

from ninja import Router

from linli.needs.api import lists, participation, projects

router = Router(tags=["needs"])
router.add_router("", projects.router)
router.add_router("", participation.router)
router.add_router("", lists.router)

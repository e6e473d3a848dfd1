from django.urls import path

from linli.needs.views import needs, orgs, projects, public, representative, resources

app_name = "needs"
urlpatterns = [
    path("", needs.needs_list, name="needs"),
    path("new/", needs.need_new, name="need_new"),
    path("export.csv", needs.needs_export, name="needs_export"),
    path("<int:need_id>/", needs.need_detail, name="need"),
    path("<int:need_id>/accept/<int:resource_id>/", needs.need_accept, name="need_accept"),
    path("<int:need_id>/reject/<int:resource_id>/", needs.need_reject, name="need_reject"),
    path("<int:need_id>/release/<int:match_id>/", needs.need_release, name="need_release"),
    path("<int:need_id>/reveal/", needs.need_reveal, name="need_reveal"),
    path("<int:need_id>/<slug:action>/", needs.need_action, name="need_action"),
    path("resources/", resources.resources_list, name="resources"),
    path("resources/new/", resources.resource_new, name="resource_new"),
    path("resources/<int:resource_id>/", resources.resource_detail, name="resource"),
    path("resources/<int:resource_id>/edit/", resources.resource_edit, name="resource_edit"),
    path("projects/", projects.projects_board, name="projects"),
    path("projects/new/", projects.project_new, name="project_new"),
    path("projects/<int:project_id>/", projects.project_detail, name="project"),
    path("projects/<int:project_id>/<slug:action>/", projects.project_action, name="project_action"),
    path("orgs/", orgs.orgs_list, name="orgs"),
    path("orgs/new/", orgs.org_new, name="org_new"),
    path("orgs/<int:organisation_id>/", orgs.org_detail, name="org"),
    path(
        "orgs/<int:organisation_id>/representatives/add/",
        orgs.org_representative_add,
        name="org_representative_add",
    ),
    path(
        "orgs/<int:organisation_id>/representatives/<int:member_id>/remove/",
        orgs.org_representative_remove,
        name="org_representative_remove",
    ),
    path("orgs/<int:organisation_id>/<slug:action>/", orgs.org_incubate, name="org_incubate"),
    path("my-org/", representative.organisation_home, name="rep_home"),
    path(
        "my-org/<int:organisation_id>/projects/<int:project_id>/claim/",
        representative.organisation_claim,
        name="rep_claim",
    ),
    path("public/", public.public_index, name="public_index"),
    path("public/<slug:code>/", public.public_community_page, name="public_community"),
]

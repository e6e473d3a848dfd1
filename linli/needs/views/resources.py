"""Staff pages of the resources list: filters (htmx), registering a resource, a resource's page (the needs
it serves, capacity and validity edits)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from linli.accounts.roles import Capability
from linli.needs import selectors
from linli.needs.errors import NeedsError
from linli.needs.forms import ResourceCapacityForm, ResourceFilterForm, ResourceForm
from linli.needs.services import resource_create, resource_update
from linli.needs.views.common import is_htmx, paginate, query_without_page, staff_view, user_of
from linli.security.masking import mask_name, mask_phone


@staff_view()
def resources_list(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = ResourceFilterForm(request.GET or None)
    filters = selectors.ResourceFilters()
    if form.is_valid():
        d = form.cleaned_data
        filters = selectors.ResourceFilters(
            kind=d["kind"], category=d["category"], provider_kind=d["provider_kind"], available=d["available"],
            q=d["q"].strip(),
        )  # fmt: skip
    page = paginate(request, selectors.resources_for_user(user=user, filters=filters))
    context = {"form": form, "page": page, "query": query_without_page(request)}
    if is_htmx(request):
        return render(request, "needs/resources_list.html#rows", context)
    return render(request, "needs/resources_list.html", context)


@staff_view(Capability.NEEDS_MANAGE)
@require_http_methods(["GET", "POST"])
def resource_new(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    form = ResourceForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            resource = resource_create(
                actor=user, name=d["name"], kind=d["kind"], category=d["category"],
                provider_kind=d["provider_kind"], region_id=d["region"], capacity=d["capacity"],
                capacity_unit=d["capacity_unit"], organisation_id=d["organisation"], station_id=d["station"],
                provider_name=d["provider_name"], volunteer_team_id=d["volunteer_team"], lat=d["lat"], lng=d["lng"], valid_from=d["valid_from"],
                valid_until=d["valid_until"], description=d["description"], contact_name=d["contact_name"],
                contact_phone=d["contact_phone"],
            )  # fmt: skip
        except NeedsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "资源已登记。")
            return redirect("needs:resource", resource_id=resource.pk)
    return render(request, "needs/resource_new.html", {"form": form}, status=400 if form.errors else 200)


@staff_view()
def resource_detail(request: HttpRequest, resource_id: int) -> HttpResponse:
    user = user_of(request)
    resource = selectors.resource_for_user(user=user, resource_id=resource_id)
    if resource is None:
        raise Http404
    may_manage = selectors.user_may_manage(user=user, region_path=resource.region_path)
    context = {
        "resource": resource,
        "matches": selectors.resource_needs(resource=resource, user=user),
        "may_manage": may_manage,
        "contact_name": mask_name(resource.contact_name),
        "contact_phone": mask_phone(resource.contact_phone),
        "form": ResourceCapacityForm(
            initial={
                "capacity": resource.capacity,
                "valid_until": resource.valid_until,
                "is_active": resource.is_active,
            }
        ),
    }
    response = render(request, "needs/resource_detail.html", context)
    response["Cache-Control"] = "no-store"
    return response


@staff_view(Capability.NEEDS_MANAGE)
@require_POST
def resource_edit(request: HttpRequest, resource_id: int) -> HttpResponse:
    form = ResourceCapacityForm(request.POST)
    if not form.is_valid():
        messages.error(request, "可服务数量或有效期不正确。")
        return redirect("needs:resource", resource_id=resource_id)
    try:
        resource_update(actor=user_of(request), resource_id=resource_id, changes=dict(form.cleaned_data))
    except NeedsError as exc:
        if exc.status == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, "已保存。")
    return redirect("needs:resource", resource_id=resource_id)

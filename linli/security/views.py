"""The auditor's screen (VIEW_AUDIT): search the audit trail, page through it, export it (audited)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.security.audit import audit_record
from linli.security.audit_export import audit_row_display, csv_lines, xlsx_bytes
from linli.security.denials import ScopeDenied
from linli.security.forms import AuditSearchForm
from linli.security.models import AuditResult
from linli.security.selectors import audit_may_view, audit_search

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _auditor_only(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not audit_may_view(request.user):
        # Other roles are told nothing exists here (404), and the attempt is audited.
        raise ScopeDenied(reason="audit_view_forbidden")
    return None


def _no_store(response: HttpResponseBase) -> HttpResponseBase:
    response["Cache-Control"] = "no-store"  # the trail names people (PI-8)
    return response


def audit_list(request: HttpRequest) -> HttpResponse:
    if (early := _auditor_only(request)) is not None:
        return early
    form = AuditSearchForm(request.GET or None)
    filters = form.filters()
    page = Paginator(audit_search(viewer=request.user, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = urlencode(filters.as_dict())
    context = {
        "form": form,
        "page": page,
        "rows": [audit_row_display(e) for e in page.object_list],
        "query": query,
        "csv_url": f"{reverse('security:audit_export')}?{urlencode({**filters.as_dict(), 'format': 'csv'})}",
        "xlsx_url": f"{reverse('security:audit_export')}?{urlencode({**filters.as_dict(), 'format': 'xlsx'})}",
    }
    response = render(request, "security/audit_list.html", context)
    _no_store(response)
    return response


def audit_export(request: HttpRequest) -> HttpResponseBase:
    if (early := _auditor_only(request)) is not None:
        return early
    form = AuditSearchForm(request.GET)
    kind = request.GET.get("format", "csv")
    back = f"{reverse('security:audit')}?{request.GET.urlencode()}"
    if kind not in {"csv", "xlsx"} or not form.is_valid():
        messages.error(request, _("导出条件不正确,请检查后重试"))
        return redirect(back)
    filters = form.filters()
    rows = audit_search(viewer=request.user, filters=filters)
    count = rows.count()
    newest = rows.values_list("seq", flat=True).first()
    limit = settings.LINLI_AUDIT_EXPORT_MAX_ROWS
    if count > limit:
        messages.error(
            request,
            _("共 %(count)d 条,超过单次导出上限 %(limit)d 条,请缩小查询范围")
            % {"count": count, "limit": limit},
        )
        return redirect(back)
    audit_record(
        action="audit.export",
        actor=request.user,
        obj=None,
        object_type="security.auditevent",
        result=AuditResult.OK,
        data={"format": kind, "rows": count, "filters": filters.as_dict()},
        request=request,
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    # Exactly the rows counted above: not the export's own row, nor anything written while streaming.
    events = rows.filter(seq__lte=newest).iterator(chunk_size=2000) if newest else iter(())
    if kind == "csv":
        response: HttpResponseBase = StreamingHttpResponse(
            csv_lines(events), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(xlsx_bytes(events), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{kind}"'
    return _no_store(response)

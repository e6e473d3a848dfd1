"""The hotline import screen: a district's 12345 export (CSV/XLSX) uploaded from the workbench.

The same service as ``manage.py import_hotline`` (``integrations.hotline.services.hotline_import``): all or
nothing, every row checked, the errors listed per row and column on the page. Only staff who may file
cases for the whole district (cases.intake at district level or global) see it: the file's orders may lie
anywhere in the district. The upload is audited with its uploader.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.cases.views.access import staff_view, user_of
from linli.core.scoping import scope_for
from linli.integrations.hotline.services import hotline_import, hotline_import_audit
from linli.security.denials import ScopeDenied

MAX_BYTES = 20 * 1024 * 1024  # a district's export of several months; larger files go through the command
ERRORS_SHOWN = 200


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("12345工单文件(CSV 或 XLSX)"))

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("只接受 .csv 或 .xlsx 文件"))
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("文件超过20MB,请分批导出,或由管理员用命令行导入"))
        return upload


def may_import(user: User) -> bool:
    """cases.intake over a whole district (a path of one segment) or everywhere."""
    scope = scope_for(user, Capability.CASES_INTAKE)
    return scope.is_global or any(path.count("/") == 2 for path in scope.region_paths)


@staff_view(Capability.CASES_INTAKE)
@require_http_methods(["GET", "POST"])
def hotline_upload(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if not may_import(user):
        raise ScopeDenied(reason="hotline_import_needs_district_intake")
    form = ImportForm(request.POST or None, request.FILES or None)
    context: dict[str, object] = {"form": form, "max_mb": MAX_BYTES // (1024 * 1024)}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        report = hotline_import(data=upload.read(), filename=upload.name)
        hotline_import_audit(report, filename=upload.name, actor=user, request=request)
        if report.ok:
            messages.success(
                request,
                _("已导入 {created} 件,跳过已导入 {skipped} 件,共 {rows} 行").format(
                    created=report.created, skipped=report.skipped, rows=report.rows
                ),
            )
            return redirect("cases:hotline_import")
        context.update(
            {
                "file_error": report.file_error,
                "errors": report.errors[:ERRORS_SHOWN],
                "error_count": len(report.errors),
                "rows": report.rows,
            }
        )
        return render(request, "cases/wb/hotline_import.html", context, status=400)
    return render(request, "cases/wb/hotline_import.html", context, status=400 if form.errors else 200)

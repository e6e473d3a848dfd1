"""The certificate of service hours: a printable page, and the same document as a PDF when WeasyPrint is
installed. Readable by the volunteer and by party staff in scope; staff reads are audited (pii.read)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse

from linli.party import selectors
from linli.party.models import HoursCertificate
from linli.party.pdf import html_to_pdf, pdf_available
from linli.party.presenters import shown_name
from linli.party.views.common import user_of
from linli.security.audit import audit_sensitive_read


def _context(request: HttpRequest, certificate: HoursCertificate) -> dict[str, Any]:
    viewer = user_of(request)
    volunteer = certificate.volunteer
    if volunteer.user_id != viewer.pk:
        audit_sensitive_read(
            viewer=viewer, obj=certificate, fields=["name"], purpose="查看志愿服务时长证明", request=request
        )
    return {
        "c": certificate,
        "name": shown_name(viewer, volunteer),
        "community": volunteer.community.name,
        "verify_url": request.build_absolute_uri(reverse("party:verify"))
        + f"?code={certificate.verify_code}",
        "pdf": pdf_available(),
    }


@login_required
def certificate(request: HttpRequest, certificate_id: int) -> HttpResponse:
    found = selectors.certificate_for_user(user_of(request), certificate_id)
    return render(request, "party/certificate.html", _context(request, found))


@login_required
def certificate_pdf(request: HttpRequest, certificate_id: int) -> HttpResponse:
    found = selectors.certificate_for_user(user_of(request), certificate_id)
    html = render_to_string("party/certificate_document.html", _context(request, found))
    pdf = html_to_pdf(html)
    if pdf is None:
        return HttpResponse(
            "本服务器未安装PDF组件,请使用“打印”另存为PDF。",
            status=501,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{found.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response

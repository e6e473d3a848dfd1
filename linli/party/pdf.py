"""PDF certificates through WeasyPrint (with fonts-noto-cjk for Chinese). Optional: when WeasyPrint or
its system libraries are missing, ``pdf_available()`` is False and the printable HTML page is the
certificate (browsers print it to PDF)."""

from __future__ import annotations

from functools import cache

from django.contrib.staticfiles import finders

STYLESHEET = "party/certificate.css"


@cache
def pdf_available() -> bool:
    from PIL import ImageFile

    # WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES on import; the upload pipeline relies on
    # truncated images being refused (IO-1), and certificates load no images, so the flag is put back.
    truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):  # OSError: pango/cairo libraries missing
        return False
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated
    return True


def html_to_pdf(html: str, *, stylesheet: str = STYLESHEET) -> bytes | None:
    """Render ``html`` (a complete document, no external URLs) to PDF bytes, or None without WeasyPrint.
    ``stylesheet`` is a static file path (the certificate's by default; the building poster passes its own)."""
    if not pdf_available():
        return None
    import weasyprint

    css_path = finders.find(stylesheet)
    stylesheets = [weasyprint.CSS(filename=str(css_path))] if css_path else []
    # No base URL: the document cannot reach the network or the file system (url_fetcher refuses all).
    document = weasyprint.HTML(string=html, url_fetcher=_refuse)
    return bytes(document.write_pdf(stylesheets=stylesheets))


def _refuse(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"PDFs load nothing external: {url}")

"""Photo ingestion for cases: every photo goes through ``attachment_ingest`` (QUALITY PI-6, IO-1).

The work is the shared upload pipeline's (``linli.security.uploads``): JPEG, PNG and HEIC/HEIF recognised by
their magic bytes, at most 10 MB and 40 megapixels, decoded, turned upright, scaled to at most 2,560 px on
the long edge and re-encoded from pixels only (no EXIF, GPS, XMP or comment survives), stored under a random
name ``cases/YYYY/MM/<32 hex>.<ext>`` and served only through ``serve_upload`` after a scope check. This
module keeps the case API's error codes and the per-case limit of nine photos.
"""

from __future__ import annotations

from collections.abc import Sequence

from linli.cases.errors import CaseError
from linli.cases.models import Case, CaseAttachment, CaseEvent
from linli.security.uploads import PreparedUpload, UploadError, upload_prepare, upload_store

PreparedImage = PreparedUpload  # the name the case services use

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_EDGE = 2560
MAX_PHOTOS = 9


# The shared pipeline's refusals under the case API's established codes (clients already handle these).
_CODES = {
    "upload_empty": "image_empty",
    "upload_too_large": "image_too_big",
    "upload_type_not_allowed": "image_type_not_allowed",
    "upload_too_many_pixels": "image_too_large",
    "upload_corrupt": "image_unreadable",
}


def image_reencode(data: bytes) -> PreparedImage:
    """Validate and re-encode one uploaded image; raises CaseError with a clear code otherwise."""
    try:
        return upload_prepare(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, max_edge=MAX_EDGE)
    except UploadError as exc:
        raise CaseError(_CODES.get(exc.code, "image_unreadable"), exc.message) from exc


def attachment_ingest(
    *,
    case: Case,
    upload: bytes | PreparedImage,
    kind: str,
    uploaded_by_id: int | None = None,
    is_public: bool = False,
    event: CaseEvent | None = None,
) -> CaseAttachment:
    """Store one photo of a case: re-encoded, under a random name, with its row."""
    image = upload if isinstance(upload, PreparedImage) else image_reencode(upload)
    stored = upload_store(image, purpose="cases")
    return CaseAttachment.objects.create(
        case=case,
        event=event,
        kind=kind,
        file=stored.name,
        content_type=image.content_type,
        size=stored.size,
        width=image.width,
        height=image.height,
        is_public=is_public,
        uploaded_by_id=uploaded_by_id,
    )


def images_prepare(photos: Sequence[bytes | PreparedImage]) -> list[PreparedImage]:
    """Re-encode a case's photos before any transaction opens (decoding is the slow part)."""
    if len(photos) > MAX_PHOTOS:
        raise CaseError("too_many_photos", f"最多上传{MAX_PHOTOS}张图片")
    return [p if isinstance(p, PreparedImage) else image_reencode(p) for p in photos]

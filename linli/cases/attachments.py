"""Photo ingestion for cases: every photo goes through ``attachment_ingest`` (QUALITY PI-6, IO-1).

Accepted: JPEG, PNG and HEIC/HEIF recognised by their magic bytes (never the file name or the client's
content type), at most 10 MB and 40 megapixels. Each image is decoded, turned upright, scaled to at most
2,560 px on the long edge and re-encoded from pixels only, so no EXIF, GPS, XMP or comment survives; it is
stored under a random name. The security work will replace the body of ``image_reencode`` with the shared
upload pipeline; callers do not change.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from linli.cases.errors import CaseError
from linli.cases.models import Case, CaseAttachment, CaseEvent

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_EDGE = 2560
MAX_PHOTOS = 9
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


@dataclass(frozen=True)
class PreparedImage:
    """A clean re-encoded image, ready to store (decoding is done before any transaction opens)."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def sniff_format(head: bytes) -> str | None:
    """ "jpeg" | "png" | "heif" from the first bytes, or None."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heif"
    return None


def _open_heif(data: bytes) -> Image.Image:
    import pillow_heif  # lazy: only HEIC uploads need the decoder

    heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=True)
    if heif.size[0] * heif.size[1] > MAX_PIXELS:
        raise CaseError("image_too_large", "图片像素过大")
    return heif.to_pillow()


def image_reencode(data: bytes) -> PreparedImage:
    """Validate and re-encode one uploaded image; raises CaseError with a clear code otherwise."""
    if not data:
        raise CaseError("image_empty", "图片文件为空")
    if len(data) > MAX_BYTES:
        raise CaseError("image_too_big", "图片不能超过10MB")
    fmt = sniff_format(data[:16])
    if fmt is None:
        raise CaseError("image_type_not_allowed", "只支持 JPEG、PNG、HEIC 格式的图片")
    try:
        if fmt == "heif":
            image = _open_heif(data)
        else:
            image = Image.open(io.BytesIO(data))
            if image.width * image.height > MAX_PIXELS:
                raise CaseError("image_too_large", "图片像素过大")
            image.load()
    except CaseError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise CaseError("image_unreadable", "图片无法识别或已损坏") from exc
    image = ImageOps.exif_transpose(image) or image  # apply the rotation the EXIF asked for, then drop EXIF
    image.thumbnail((MAX_EDGE, MAX_EDGE))
    keep_png = fmt == "png"
    out = io.BytesIO()
    if keep_png:
        clean = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        clean.save(out, format="PNG", optimize=True)
    else:
        clean = image.convert("RGB")
        clean.save(out, format="JPEG", quality=85, optimize=True)
    return PreparedImage(
        data=out.getvalue(),
        content_type="image/png" if keep_png else "image/jpeg",
        extension="png" if keep_png else "jpg",
        width=clean.width,
        height=clean.height,
    )


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
    now = timezone.now()
    name = f"cases/{now:%Y/%m}/{secrets.token_hex(16)}.{image.extension}"
    stored = default_storage.save(name, ContentFile(image.data))
    return CaseAttachment.objects.create(
        case=case,
        event=event,
        kind=kind,
        file=stored,
        content_type=image.content_type,
        size=len(image.data),
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

"""The one ingestion pipeline for every uploaded photo (IO-1, PI-6), and the one way to serve it back.

``upload_ingest`` decides the type by magic bytes (never the file name or the browser's Content-Type),
caps the byte size before decoding and the pixel count before allocating pixels (decompression bombs),
applies the EXIF orientation, then re-encodes from bare pixels: EXIF, GPS, XMP, IPTC, comments and
thumbnails do not survive because nothing but pixels is carried over. The result is stored under a random
name ``<purpose>/YYYY/MM/<32 hex>.<ext>`` in the default storage (``MEDIA_ROOT``).

| input (magic bytes) | stored as |
|---|---|
| JPEG ``FF D8 FF`` | JPEG, quality 85 |
| PNG ``89 50 4E 47 0D 0A 1A 0A`` | PNG (keeps transparency) |
| HEIC/HEIF ``....ftypheic`` etc. (iPhone) | JPEG (browsers do not show HEIC) |
| anything else (GIF, WebP, SVG, PDF, text renamed .jpg, ...) | refused: ``upload_type_not_allowed`` |

``serve_upload`` answers 404 unless the caller's authorisation check passed, and sends the file with
``nosniff``, ``Content-Disposition: inline`` under its random name, ``Cache-Control: private, no-store``
and a sandboxing CSP. Files are never served from ``MEDIA_URL`` directly.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import warnings
from dataclasses import dataclass
from typing import IO, Any

import pillow_heif
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage, default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageFile, ImageOps

pillow_heif.register_heif_opener()

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # 8660 × 5773; larger phone "hi-res" shots must be scaled down by the client
MAX_EDGE = 2048
JPEG_QUALITY = 85
_PURPOSE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_STORED_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png)$")
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


class UploadError(Exception):
    """A refused upload with a machine-readable code and a Chinese message; nothing was stored."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class StoredUpload:
    name: str  # storage name: "<purpose>/YYYY/MM/<random>.jpg"; keep this in the owning row
    content_type: str
    width: int
    height: int
    size: int  # bytes stored
    sha256: str  # of the stored bytes
    source_type: str  # "jpeg" | "png" | "heif": what the magic bytes said the upload was

    @classmethod
    def from_name(cls, name: str, *, storage: Storage | None = None) -> StoredUpload:
        """Rebuild from a stored name (for serving); dimensions are not re-read."""
        if not _STORED_NAME.match(name):
            raise Http404
        ext = name.rsplit(".", 1)[1]
        size = (storage or default_storage).size(name)
        return cls(name, CONTENT_TYPES[ext], 0, 0, size, "", ext)


def sniff_image_type(head: bytes) -> str | None:
    """``jpeg``, ``png`` or ``heif`` from the first bytes, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heif"
    return None


def _read_capped(file: File[Any] | IO[bytes] | bytes, max_bytes: int) -> bytes:
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        chunks, total = [], 0
        # Read one byte past the cap, so an oversized upload is refused without reading all of it.
        while total <= max_bytes:
            chunk = file.read(min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        data = b"".join(chunks)
    if len(data) > max_bytes:
        raise UploadError(
            "upload_too_large", _("文件超过%(mb)d MB,请压缩后重新上传") % {"mb": max_bytes // (1024 * 1024)}
        )
    if not data:
        raise UploadError("upload_empty", _("上传的文件是空的"))
    return data


def _decode(data: bytes, kind: str, max_pixels: int, max_edge: int) -> Image.Image:
    pil_format = {"jpeg": "JPEG", "png": "PNG", "heif": "HEIF"}[kind]
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # a library imported later flipped Pillow's global: refuse it
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[pil_format])
            width, height = image.size  # read from the header; no pixels decoded yet
            if width * height > max_pixels or width <= 0 or height <= 0:
                raise UploadError(
                    "upload_too_many_pixels",
                    _("图片尺寸过大(%(w)d×%(h)d),请缩小到%(mp)d百万像素以内")
                    % {"w": width, "h": height, "mp": max_pixels // 1_000_000},
                )
            if kind == "jpeg" and max(width, height) > max_edge:
                # libjpeg can decode at 1/2, 1/4 or 1/8 scale far faster than we can resize; accept a
                # long edge down to 3/4 of max_edge for that (a 12 MP photo: 2000 px, no resampling).
                scale = 0.75 * max_edge / max(width, height)
                image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            return image
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadError("upload_too_many_pixels", _("图片像素数过大,无法处理")) from exc
    except Exception as exc:  # truncated or malformed files surface as many exception types
        raise UploadError("upload_corrupt", _("图片已损坏或格式不完整,无法读取")) from exc


def _reencode(image: Image.Image, kind: str, max_edge: int) -> tuple[bytes, str, Image.Image]:
    has_alpha = image.mode in {"RGBA", "LA", "PA"} or (image.mode == "P" and "transparency" in image.info)
    keep_png = kind == "png"
    mode = "RGBA" if keep_png and has_alpha else "RGB"
    pixels = image if image.mode == mode else image.convert(mode)
    if max(pixels.size) > max_edge:
        pixels.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    # A fresh image from raw pixels: no info dict, no EXIF/GPS/XMP/ICC/comment can be carried along.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if keep_png:
        clean.save(out, format="PNG", optimize=True)
        return out.getvalue(), "png", clean
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue(), "jpg", clean


@dataclass(frozen=True)
class PreparedUpload:
    """A checked, cleaned and re-encoded image, not yet stored (decoding is slow: do it before a
    transaction opens, store inside it)."""

    data: bytes
    extension: str  # "jpg" | "png"
    content_type: str
    width: int
    height: int
    source_type: str  # "jpeg" | "png" | "heif": what the magic bytes said the upload was


def upload_prepare(
    file: File[Any] | IO[bytes] | bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_edge: int = MAX_EDGE,
) -> PreparedUpload:
    """Check, clean and resize one uploaded image; raise ``UploadError`` otherwise. Stores nothing."""
    data = _read_capped(file, max_bytes)
    kind = sniff_image_type(data[:32])
    if kind is None:
        raise UploadError("upload_type_not_allowed", _("只能上传 JPEG、PNG 或 HEIC 格式的图片"))
    image = _decode(data, kind, max_pixels, max_edge)
    try:
        encoded, ext, clean = _reencode(image, kind, max_edge)
    except (OSError, ValueError) as exc:  # exotic modes (16-bit, CMYK PNG) that cannot become RGB
        raise UploadError("upload_corrupt", _("图片的颜色格式无法处理,请另存为普通 JPEG 后上传")) from exc
    return PreparedUpload(encoded, ext, CONTENT_TYPES[ext], clean.width, clean.height, kind)


def upload_store(prepared: PreparedUpload, *, purpose: str, storage: Storage | None = None) -> StoredUpload:
    """Store a prepared image under a random name ``<purpose>/YYYY/MM/<32 hex>.<ext>``."""
    if not _PURPOSE.match(purpose):
        raise ValueError(f"purpose must be a short lower-case slug, got {purpose!r}")
    now = timezone.localtime()
    name = f"{purpose}/{now:%Y}/{now:%m}/{secrets.token_hex(16)}.{prepared.extension}"
    saved = (storage or default_storage).save(name, ContentFile(prepared.data))
    return StoredUpload(
        name=saved,
        content_type=prepared.content_type,
        width=prepared.width,
        height=prepared.height,
        size=len(prepared.data),
        sha256=hashlib.sha256(prepared.data).hexdigest(),
        source_type=prepared.source_type,
    )


def upload_ingest(
    file: File[Any] | IO[bytes] | bytes,
    *,
    purpose: str,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_edge: int = MAX_EDGE,
    storage: Storage | None = None,
) -> StoredUpload:
    """Check, clean, resize and store one uploaded image; raise ``UploadError`` and store nothing otherwise."""
    if not _PURPOSE.match(purpose):
        raise ValueError(f"purpose must be a short lower-case slug, got {purpose!r}")
    prepared = upload_prepare(file, max_bytes=max_bytes, max_pixels=max_pixels, max_edge=max_edge)
    return upload_store(prepared, purpose=purpose, storage=storage)


def serve_upload(
    request: HttpRequest,
    stored: StoredUpload | str,
    *,
    allowed: bool,
    storage: Storage | None = None,
    cache_control: str = "private, no-store",
) -> FileResponse:
    """Send a stored upload after the caller's authorisation check; 404 when not allowed or not found.
    ``cache_control`` may be relaxed only for files that anyone may see (a 公示 photo)."""
    if not allowed:
        raise Http404
    storage = storage or default_storage
    name = stored.name if isinstance(stored, StoredUpload) else stored
    if not _STORED_NAME.match(name) or not storage.exists(name):
        raise Http404
    ext = name.rsplit(".", 1)[1]
    response = FileResponse(storage.open(name, "rb"), content_type=CONTENT_TYPES[ext])
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="{name.rsplit("/", 1)[1]}"'
    response["Cache-Control"] = cache_control
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

"""The upload pipeline: magic bytes, caps, metadata stripping, random names, guarded serving (IO-1, PI-6)."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pillow_heif
import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import RequestFactory
from PIL import ExifTags, Image

from linli.security.uploads import StoredUpload, UploadError, serve_upload, sniff_image_type, upload_ingest

XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="39,54.3N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


@pytest.fixture
def storage(tmp_path: Path) -> FileSystemStorage:
    return FileSystemStorage(location=tmp_path)


def exif_with_gps(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 20.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 23.0, 0.0)
    return exif


def jpeg_with_gps(size: tuple[int, int] = (64, 32), orientation: int = 1) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    image.save(out, "JPEG", exif=exif_with_gps(orientation).tobytes(), xmp=XMP, comment=b"home of Zhang San")
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (40, 20), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG", exif=exif_with_gps().tobytes())
    return out.getvalue()


def assert_no_metadata(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    assert dict(image.getexif()) == {}
    assert not set(image.info) & {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"}
    for marker in (b"Exif\x00\x00", b"GPS", b"xmpmeta", b"TestPhone", b"Zhang San"):
        assert marker not in data


def stored_bytes(storage: FileSystemStorage, stored: StoredUpload) -> bytes:
    with storage.open(stored.name, "rb") as fh:
        return bytes(fh.read())


def test_jpeg_with_gps_exif_is_stored_without_any_metadata(storage: FileSystemStorage) -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input has GPS
    assert b"xmpmeta" in original

    stored = upload_ingest(SimpleUploadedFile("IMG_0001.JPG", original), purpose="case", storage=storage)

    data = stored_bytes(storage, stored)
    assert_no_metadata(data)
    assert stored.content_type == "image/jpeg" and stored.source_type == "jpeg"
    assert (stored.width, stored.height) == (64, 32)
    assert stored.size == len(data) and stored.sha256 == hashlib.sha256(data).hexdigest()
    assert re.fullmatch(r"case/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", stored.name)
    assert "IMG_0001" not in stored.name


def test_exif_orientation_is_applied_before_it_is_stripped(storage: FileSystemStorage) -> None:
    stored = upload_ingest(jpeg_with_gps((64, 32), orientation=6), purpose="case", storage=storage)
    assert (stored.width, stored.height) == (32, 64)


def test_large_photo_is_resized_to_the_maximum_edge(storage: FileSystemStorage) -> None:
    stored = upload_ingest(jpeg_with_gps((3000, 1500)), purpose="case", storage=storage)
    assert (stored.width, stored.height) == (2048, 1024)


def test_png_named_jpg_is_accepted_as_png_and_keeps_transparency(storage: FileSystemStorage) -> None:
    original = png_bytes()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # eXIf chunk with GPS
    stored = upload_ingest(SimpleUploadedFile("photo.jpg", original), purpose="case", storage=storage)
    assert stored.name.endswith(".png") and stored.content_type == "image/png"
    data = stored_bytes(storage, stored)
    assert_no_metadata(data)
    assert Image.open(io.BytesIO(data)).mode == "RGBA"


def test_heic_from_an_iphone_becomes_a_clean_jpeg(storage: FileSystemStorage) -> None:
    heif = pillow_heif.from_pillow(Image.new("RGB", (48, 24), (10, 120, 200)))
    out = io.BytesIO()
    heif.save(out, format="HEIF", exif=exif_with_gps().tobytes(), quality=60)
    assert sniff_image_type(out.getvalue()[:32]) == "heif"
    assert Image.open(io.BytesIO(out.getvalue())).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    stored = upload_ingest(
        SimpleUploadedFile("IMG_0002.HEIC", out.getvalue()), purpose="case", storage=storage
    )

    assert stored.source_type == "heif" and stored.name.endswith(".jpg")
    assert (stored.width, stored.height) == (48, 24)
    assert_no_metadata(stored_bytes(storage, stored))


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"just some text, not an image at all", "photo.jpg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.png"),
        (b"GIF89a" + b"\x00" * 40, "anim.gif"),
        (b"%PDF-1.7\n" + b"\x00" * 40, "scan.jpg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 40, "x.webp"),
    ],
)
def test_anything_but_jpeg_png_heic_is_refused_whatever_its_name(
    storage: FileSystemStorage, content: bytes, filename: str
) -> None:
    with pytest.raises(UploadError) as info:
        upload_ingest(SimpleUploadedFile(filename, content), purpose="case", storage=storage)
    assert info.value.code == "upload_type_not_allowed"
    assert "JPEG" in info.value.message
    assert storage.listdir("")[1] == [] and storage.listdir("")[0] == []


def test_file_over_the_byte_cap_is_refused(storage: FileSystemStorage) -> None:
    data = jpeg_with_gps((400, 400))
    with pytest.raises(UploadError) as info:
        upload_ingest(io.BytesIO(data), purpose="case", max_bytes=len(data) - 1, storage=storage)
    assert info.value.code == "upload_too_large"
    assert upload_ingest(io.BytesIO(data), purpose="case", max_bytes=len(data), storage=storage).size > 0


def test_image_over_the_pixel_cap_is_refused_before_decoding(storage: FileSystemStorage) -> None:
    with pytest.raises(UploadError) as info:
        upload_ingest(jpeg_with_gps((1200, 1000)), purpose="case", max_pixels=1_000_000, storage=storage)
    assert info.value.code == "upload_too_many_pixels"
    assert "1200×1000" in info.value.message


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def test_decompression_bomb_header_is_refused(storage: FileSystemStorage) -> None:
    # 100,000 × 100,000 pixels declared in a file of a hundred bytes.
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + _png_chunk(b"IEND", b"")
    )
    with pytest.raises(UploadError) as info:
        upload_ingest(bomb, purpose="case", storage=storage)
    assert info.value.code == "upload_too_many_pixels"


def test_truncated_image_is_refused_as_corrupt(storage: FileSystemStorage) -> None:
    data = jpeg_with_gps((300, 300))
    with pytest.raises(UploadError) as info:
        upload_ingest(data[: len(data) // 2], purpose="case", storage=storage)
    assert info.value.code == "upload_corrupt"


def test_empty_file_is_refused(storage: FileSystemStorage) -> None:
    with pytest.raises(UploadError) as info:
        upload_ingest(b"", purpose="case", storage=storage)
    assert info.value.code == "upload_empty"


def test_purpose_cannot_escape_the_media_root(storage: FileSystemStorage) -> None:
    with pytest.raises(ValueError, match="purpose"):
        upload_ingest(jpeg_with_gps(), purpose="../etc", storage=storage)


def test_serving_requires_authorisation_and_sends_safe_headers(storage: FileSystemStorage) -> None:
    stored = upload_ingest(jpeg_with_gps(), purpose="case", storage=storage)
    request = RequestFactory().get("/files/x")

    with pytest.raises(Http404):
        serve_upload(request, stored, allowed=False, storage=storage)

    response = serve_upload(request, stored, allowed=True, storage=storage)
    body = b"".join(response.streaming_content)  # type: ignore[arg-type]
    assert body == stored_bytes(storage, stored)
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Disposition"] == f'inline; filename="{stored.name.rsplit("/", 1)[1]}"'
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "name", ["../secret.jpg", "case/2026/11/../../../etc/passwd", "case/2026/11/abc.jpg", "/etc/hosts"]
)
def test_serving_refuses_names_it_did_not_make(storage: FileSystemStorage, name: str) -> None:
    with pytest.raises(Http404):
        serve_upload(RequestFactory().get("/"), name, allowed=True, storage=storage)


def test_default_storage_is_media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    stored = upload_ingest(jpeg_with_gps(), purpose="avatar")
    assert (tmp_path / stored.name).is_file()
    assert StoredUpload.from_name(stored.name).size == stored.size

"""Photos: only JPEG/PNG/HEIC by magic bytes, bounded, re-encoded with no EXIF/GPS (QUALITY PI-6, IO-1)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from linli.cases.attachments import MAX_BYTES, attachment_ingest, image_reencode
from linli.cases.errors import CaseError
from linli.cases.models import CaseAttachment
from linli.cases.services import case_accept, case_assign, case_resolve
from linli.cases.tests.factories import World, submit

GPS_IFD = 0x8825


def jpeg_with_gps(size: tuple[int, int] = (120, 80)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° when displayed
    exif[GPS_IFD] = {1: "N", 2: (31.0, 24.0, 5.5), 3: "E", 4: (104.0, 36.0, 1.2)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def encoded(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    Image.new(mode, size).save(out, format=fmt)
    return out.getvalue()


def test_a_jpeg_comes_out_without_exif_or_gps_and_upright() -> None:
    raw = jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get(GPS_IFD) is not None
    clean = image_reencode(raw)
    image = Image.open(io.BytesIO(clean.data))
    assert clean.content_type == "image/jpeg"
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info and "xmp" not in image.info
    assert (image.width, image.height) == (80, 120)  # the orientation was applied before dropping EXIF


@pytest.mark.parametrize(("fmt", "content_type"), [("PNG", "image/png"), ("HEIF", "image/jpeg")])
def test_png_and_heic_are_accepted(fmt: str, content_type: str) -> None:
    clean = image_reencode(encoded(fmt))
    assert clean.content_type == content_type
    assert dict(Image.open(io.BytesIO(clean.data)).getexif()) == {}


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "image_empty"),
        (b"GIF89a" + b"\x00" * 40, "image_type_not_allowed"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image_type_not_allowed"),
        (b"%PDF-1.7 not an image", "image_type_not_allowed"),
        (b"\xff\xd8\xff\xe0" + b"garbage" * 10, "image_unreadable"),
        (b"\xff\xd8\xff" + b"\x00" * (MAX_BYTES + 1), "image_too_big"),
    ],
)
def test_other_files_are_refused_with_a_clear_code(data: bytes, code: str) -> None:
    with pytest.raises(CaseError) as err:
        image_reencode(data)
    assert err.value.code == code


def test_a_decompression_bomb_is_refused() -> None:
    with pytest.raises(CaseError) as err:
        image_reencode(encoded("PNG", size=(8000, 6000), mode="1"))
    assert err.value.code == "image_too_large"


def test_stored_photos_have_random_names_and_no_metadata(world: World) -> None:
    case = submit(world, photos=[jpeg_with_gps()])
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    case_accept(case_id=case.pk, actor=world.handler0)
    case_resolve(
        case_id=case.pk,
        actor=world.handler0,
        result_text="已处理",
        photos=[encoded("PNG")],
        photos_public=True,
    )
    rows = list(CaseAttachment.objects.filter(case=case).order_by("id"))
    assert [(r.kind, r.is_public) for r in rows] == [("report", False), ("result", True)]
    for row in rows:
        assert "jpeg_with_gps" not in row.file.name and len(row.file.name.rsplit("/", 1)[1]) >= 32
        with row.file.open("rb") as f:
            assert dict(Image.open(f).getexif()) == {}
    another = attachment_ingest(case=case, upload=jpeg_with_gps(), kind="report")
    assert another.file.name != rows[0].file.name


def test_a_truncated_photo_is_refused_even_after_a_library_flipped_pillows_global() -> None:
    from PIL import ImageFile

    data = jpeg_with_gps((300, 300))
    ImageFile.LOAD_TRUNCATED_IMAGES = True  # what importing WeasyPrint does to the whole process
    try:
        with pytest.raises(CaseError) as err:
            image_reencode(data[: len(data) // 2])
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
    assert err.value.code == "image_unreadable"

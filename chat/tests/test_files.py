from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from chat import files
from conftest import image_bytes


class SafeFileNameTests:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("report.pdf", "report.pdf"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\me\\secret.docx", "secret.docx"),
            ("nul\x00byte.txt", "nulbyte.txt"),
            ("\u202etxt.exe", "txt.exe"),
            ("...", "file"),
            ("", "file"),
            ("a" * 300 + ".txt", "a" * 251 + ".txt"),
        ],
    )
    def test_names_are_made_safe(self, name: str, expected: str) -> None:
        assert files.safe_file_name(name) == expected


class InspectUploadTests:
    @pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
    def test_raster_images_get_a_reencoded_thumbnail(self, fmt: str) -> None:
        upload = SimpleUploadedFile("x", image_bytes((1200, 900), fmt))
        inspected = files.inspect_upload(upload)
        assert inspected.content_type == f"image/{fmt.lower()}"
        thumbnail = Image.open(io.BytesIO(inspected.thumbnail.read()))
        assert thumbnail.format == "WEBP"
        assert max(thumbnail.size) == 320

    def test_an_image_over_the_pixel_limit_is_a_plain_file(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(files, "MAX_IMAGE_PIXELS", 100)
        inspected = files.inspect_upload(SimpleUploadedFile("x", image_bytes()))
        assert inspected.thumbnail is None

    @pytest.mark.parametrize(
        ("data", "content_type"),
        [
            (b"%PDF-1.7 ...", "application/pdf"),
            ("привет, мир\n".encode(), "text/plain"),
            (b"\x00\x01\x02\xff", "application/octet-stream"),
            (b"<html><script>alert(1)</script>", "text/plain"),
        ],
    )
    def test_other_files_are_typed_by_their_bytes(
        self, data: bytes, content_type: str
    ) -> None:
        inspected = files.inspect_upload(SimpleUploadedFile("x.png", data))
        assert inspected.content_type == content_type
        assert inspected.thumbnail is None

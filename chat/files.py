"""Inspecting uploaded files: their real type, a safe name, a thumbnail."""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

THUMBNAIL_SIZE = (320, 320)
# Decoding more pixels than this is refused: a small file can unpack to
# gigabytes (a decompression bomb).
MAX_IMAGE_PIXELS = 40_000_000
# Only these image formats are shown inline; everything else is a download.
INLINE_IMAGE_TYPES = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
FILE_NAME_MAX_LENGTH = 255


@dataclass(frozen=True)
class Inspected:
    content_type: str
    thumbnail: ContentFile | None


def safe_file_name(name: str) -> str:
    """
    Return the last path component of ``name`` without control characters.

    NUL, control and formatting characters (such as right-to-left overrides
    that make ``exe.txt`` read as ``txt.exe``) are dropped.
    """
    name = PureWindowsPath(PurePosixPath(name or "").name).name
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        char for char in name if unicodedata.category(char) not in {"Cc", "Cf"}
    ).strip(" .")
    if len(name) > FILE_NAME_MAX_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        if dot and len(suffix) <= 16:
            name = stem[: FILE_NAME_MAX_LENGTH - len(suffix) - 1] + "." + suffix
        else:
            name = name[:FILE_NAME_MAX_LENGTH]
    return name or "file"


def _sniff(head: bytes) -> str:
    """Return the content type of a file that is not an inline image."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            # A multi-byte character cut at the end of the sample is fine.
            if error.start < len(head) - 4:
                return "application/octet-stream"
        return "text/plain"
    return "application/octet-stream"


def _thumbnail(image: Image.Image) -> ContentFile:
    image.thumbnail(THUMBNAIL_SIZE)
    if image.mode not in {"RGB", "RGBA"}:
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    image.save(buffer, format="WEBP", quality=80)
    return ContentFile(buffer.getvalue())


def inspect_upload(upload: UploadedFile) -> Inspected:
    """
    Decide an upload's type from its bytes, never from its name or header.

    Images in an inline format get a re-encoded thumbnail; images that fail
    to decode, or that exceed MAX_IMAGE_PIXELS, are kept as plain files.
    """
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image_format = image.format or ""
            if (
                image_format in INLINE_IMAGE_TYPES
                and image.width * image.height <= MAX_IMAGE_PIXELS
            ):
                image.load()
                return Inspected(INLINE_IMAGE_TYPES[image_format], _thumbnail(image))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        pass
    finally:
        upload.seek(0)
    return Inspected(_sniff(head), None)

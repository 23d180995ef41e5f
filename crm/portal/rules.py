"""What a supporting file may be, and what it may be called: pure rules, no Flask, no database.

A file is accepted for what its first bytes say it is, never for the type the browser sent;
the extension of its name must agree with its content, so a page or a script cannot come back
out of the app under an innocent name. Names keep their Chinese characters but lose anything a
file system or a browser could read as a path or a command.
"""

import re
import unicodedata

#: How many first bytes of a file its type is told from.
HEAD_BYTES = 8192
#: The accepted types in words, for the messages.
ACCEPTED_LABEL = "PDF、图片（PNG/JPG）、Word、Excel、PowerPoint、OFD"
#: The longest file name kept, in characters with its extension (a Chinese character takes
#: three bytes in UTF-8, and most file systems allow 255 bytes).
MAX_NAME_LENGTH = 80
#: The name of a file whose own name has nothing left once cleaned.
FALLBACK_STEM = "附件"

#: What the first bytes say: (signature, kind).
_SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    # Office Open XML and OFD are zip archives whose first entry sits right after this.
    (b"PK\x03\x04", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
)
#: The kinds of content in words, for the messages.
KIND_LABELS = {
    "pdf": "PDF",
    "png": "PNG 图片",
    "jpeg": "JPG 图片",
    "zip": "Office 文档或 OFD",
    "ole2": "旧版 Word/Excel/PowerPoint",
}
#: Extension (lower case) → (kind of content it must have, MIME type sent on download).
EXTENSIONS = {
    "pdf": ("pdf", "application/pdf"),
    "png": ("png", "image/png"),
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "docx": (
        "zip",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": ("zip", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (
        "zip",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "ofd": ("zip", "application/ofd"),
    "doc": ("ole2", "application/msword"),
    "xls": ("ole2", "application/vnd.ms-excel"),
    "ppt": ("ole2", "application/vnd.ms-powerpoint"),
}

#: Characters Windows refuses in a name; `/` and `\` have already cut the path off.
_ILLEGAL = re.compile(r'[\\/:*?"<>|]')
_WHITESPACE = re.compile(r"\s+")
#: An extension worth keeping: a few letters and digits.
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")
#: Names Windows keeps for devices, whatever their extension.
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in range(1, 10)}


def content_kind(head: bytes) -> str | None:
    """Return the kind of content the first bytes of a file show (`KIND_LABELS`), if accepted."""
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    return None


def extension_of(filename: str) -> str:
    """Return the extension of `filename` in lower case, without the dot ('' when none)."""
    base = re.split(r"[\\/]", filename)[-1]
    stem, dot, extension = base.rpartition(".")
    return extension.lower() if dot and stem.strip(".") else ""


def sniff_type(head: bytes, filename: str) -> tuple[str, str] | None:
    """Return (extension, MIME type) of an accepted file from its first bytes and its name,
    or None when the content is not accepted or the name's extension disagrees with it."""
    extension = extension_of(filename)
    expected = EXTENSIONS.get(extension)
    if expected is None:
        return None
    kind, mimetype = expected
    if content_kind(head) != kind:
        return None
    return extension, mimetype


def safe_filename(name: str) -> str:
    """Return `name` fit to store and to offer for download: its last path part, its Chinese
    kept, without control or Windows-illegal characters or leading dots, white space
    collapsed, at most `MAX_NAME_LENGTH` characters with its extension kept."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem.strip(".") and _EXTENSION.fullmatch(extension.strip())):
        stem, extension = name, ""
    stem = _clean(stem)
    extension = extension.strip()
    suffix = f".{extension}" if extension else ""
    stem = stem[: MAX_NAME_LENGTH - len(suffix)].rstrip(" .")
    if not stem:
        stem = FALLBACK_STEM
    elif stem.split(".")[0].strip().upper() in _RESERVED:
        stem = f"_{stem}"
    return stem + suffix


def _clean(text: str) -> str:
    """Collapse white space and drop control, format and Windows-illegal characters, and the
    dots and spaces a name may not begin or end with."""
    text = _WHITESPACE.sub(" ", text)
    # Categories C*: controls, format characters (a right-to-left override would show
    # `gpj.exe` as `exe.jpg`), surrogates, private use, unassigned.
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = _ILLEGAL.sub("", text)
    return _WHITESPACE.sub(" ", text).strip(" .")

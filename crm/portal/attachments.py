"""Supporting files attached to change requests and coaching measures: keep, list, find, remove.

A file is kept under a random name in `<folder>/<firm id>/`, where the folder is the
ATTACHMENT_FOLDER setting (`instance/attachments` unless set; with several web machines, a
folder they share). It is written through a temporary file renamed into place, so a reader
never finds half a file. Its type is told from its content (`rules.sniff_type`), never from
what the browser says, and it is sent only to users who may see its firm. The services flush
and never commit.
"""

import hashlib
import os
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path

from flask import abort, current_app
from sqlalchemy import select

from crm.core.permissions import is_enterprise
from crm.extensions import db
from crm.firms.access import get_visible_firm
from crm.portal import rules
from crm.portal.models import Attachment

#: What a file may be attached to.
OWNER_KINDS = ("request", "measure")
#: Bytes read from the upload at a time.
CHUNK_BYTES = 64 * 1024


class AttachmentError(ValueError):
    """A file that cannot be attached; the message says why, in Chinese."""


def attachments_folder() -> Path:
    """Return the folder that keeps the attachments (instance/attachments unless configured)."""
    configured = current_app.config.get("ATTACHMENT_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "attachments"


def max_bytes() -> int:
    """Return the largest attachment accepted, in bytes (ATTACHMENT_MAX_MB)."""
    return int(float(current_app.config["ATTACHMENT_MAX_MB"]) * 1024 * 1024)


def store(upload, *, firm_id: int, owner_kind: str, owner_id: int, user) -> Attachment:
    """Keep an uploaded file (a werkzeug `FileStorage`) for `firm_id`, attached to the request
    or measure `owner_id`; flush and return its row, or raise `AttachmentError`."""
    if owner_kind not in OWNER_KINDS:
        raise ValueError(f"unknown owner kind {owner_kind!r}")
    filename = rules.safe_filename(upload.filename or "")
    folder = attachments_folder() / str(int(firm_id))
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(descriptor, "wb") as out:
            mimetype, size, digest = _copy(upload.stream, out, filename)
            out.flush()
            os.fsync(out.fileno())
        stored_name = secrets.token_hex(16)
        path = folder / stored_name
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    attachment = Attachment(
        firm_id=firm_id,
        owner_kind=owner_kind,
        owner_id=owner_id,
        filename=filename,
        stored_name=stored_name,
        content_type=mimetype,
        size=size,
        digest=digest,
        uploaded_by_id=getattr(user, "id", None),
    )
    db.session.add(attachment)
    try:
        db.session.flush()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment


def _copy(stream, out, filename: str) -> tuple[str, int, str]:
    """Copy `stream` to `out` up to the limit, checking its type from its first bytes; return
    (MIME type, size, SHA-256), or raise `AttachmentError`."""
    limit = max_bytes()
    digest = hashlib.sha256()
    head = b""
    mimetype = None
    size = 0
    while True:
        # One byte past the limit tells a file over it from one just at it.
        chunk = stream.read(min(CHUNK_BYTES, limit + 1 - size))
        if chunk and mimetype is None and len(head) < rules.HEAD_BYTES:
            head += chunk[: rules.HEAD_BYTES - len(head)]
        if mimetype is None and (len(head) >= rules.HEAD_BYTES or not chunk):
            mimetype = _checked_type(head, filename)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise AttachmentError(f"文件超过 {_megabytes()} MB 的大小上限，请压缩或拆分后再上传。")
        digest.update(chunk)
        out.write(chunk)
    return mimetype, size, digest.hexdigest()


def _checked_type(head: bytes, filename: str) -> str:
    """Return the MIME type of an accepted file, or say what is wrong with it."""
    if not head:
        raise AttachmentError("文件是空的，请重新选择。")
    found = rules.sniff_type(head, filename)
    if found is not None:
        return found[1]
    kind = rules.content_kind(head)
    extension = rules.extension_of(filename)
    if kind is None or extension not in rules.EXTENSIONS:
        raise AttachmentError(f"不支持该文件类型，请上传 {rules.ACCEPTED_LABEL} 文件。")
    raise AttachmentError(
        f"文件名的扩展名（.{extension}）与文件内容（{rules.KIND_LABELS[kind]}）不符，"
        "请检查后重新上传。"
    )


def _megabytes() -> str:
    return f"{float(current_app.config['ATTACHMENT_MAX_MB']):g}"


def attach(upload, *, firm_id: int, owner_kind: str, owner_id: int, user) -> Attachment | None:
    """Store `upload` as `store` does when a file was chosen (a form's optional file field);
    return None when none was."""
    if upload is None or not getattr(upload, "filename", None):
        return None
    return store(upload, firm_id=firm_id, owner_kind=owner_kind, owner_id=owner_id, user=user)


def attachments_of(owner_kind: str, owner_ids: Iterable[int]) -> dict[int, list[Attachment]]:
    """Return the attachments of the requests or measures `owner_ids`, by owner, oldest first."""
    ids = set(owner_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Attachment)
        .where(Attachment.owner_kind == owner_kind, Attachment.owner_id.in_(ids))
        .order_by(Attachment.id)
    )
    found: dict[int, list[Attachment]] = {}
    for row in rows:
        found.setdefault(row.owner_id, []).append(row)
    return found


def path_of(attachment: Attachment) -> Path:
    """Return where the file of `attachment` is kept (it may be missing)."""
    root = attachments_folder().resolve()
    path = (root / str(attachment.firm_id) / attachment.stored_name).resolve()
    # Stored names are random hex; one that leads elsewhere was not written here.
    if not path.is_relative_to(root):
        raise ValueError(f"attachment {attachment.id} points outside the folder")
    return path


def remove(attachment: Attachment) -> None:
    """Delete an attachment's row (flush) and its file."""
    path = path_of(attachment)
    db.session.delete(attachment)
    db.session.flush()
    path.unlink(missing_ok=True)


def visible_attachment(user, attachment_id: int) -> Attachment:
    """Load an attachment whose firm `user` may see, or answer 404."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    if is_enterprise(user) and attachment.firm_id != user.firm_id:
        abort(404)
    get_visible_firm(user, attachment.firm_id)
    return attachment

"""Supporting files: kept by the service, checked by content and size, and sent only to the
users who may see the firm (`crm/portal/attachments.py`, `crm/portal/attachment_views.py`)."""

import hashlib
import io
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from crm.extensions import db
from crm.portal import attachments
from crm.portal.models import Attachment
from tests import factories

PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 400 + b"%%EOF\n"
NAME = "营业执照（副本）.pdf"


@pytest.fixture
def world(app, tmp_path):
    """Two firms in two districts, their enterprise users, and a PDF the first firm attached."""
    app.config["ATTACHMENT_FOLDER"] = str(tmp_path)
    home, away = factories.district("450403"), factories.district("450405")
    own = factories.make_firm(district=home)
    other = factories.make_firm(district=away)
    owner = factories.make_user("enterprise", firm_id=own.id)
    stranger = factories.make_user("enterprise", firm_id=other.id)
    file = attachments.store(
        _upload(PDF, NAME), firm_id=own.id, owner_kind="request", owner_id=1, user=owner
    )
    db.session.commit()
    return {"home": home, "own": own, "owner": owner, "stranger": stranger, "file": file}


def _upload(data: bytes, filename: str, content_type: str = "application/pdf") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=filename, content_type=content_type)


def _files(folder) -> list:
    return [path for path in folder.rglob("*") if path.is_file()]


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Attachment))


def test_store_keeps_the_file_under_a_random_name_with_its_digest(world, tmp_path):
    file = world["file"]
    path = attachments.path_of(file)
    assert path.parent == tmp_path / str(world["own"].id)
    assert path.read_bytes() == PDF
    assert file.stored_name != NAME and NAME not in str(path)
    assert file.filename == NAME
    assert file.size == len(PDF)
    assert file.digest == hashlib.sha256(PDF).hexdigest()
    assert file.content_type == "application/pdf"
    assert file.uploaded_by_id == world["owner"].id
    assert _files(tmp_path) == [path]


def test_the_firms_own_user_downloads_the_exact_file(client, login_as, world):
    login_as(user=world["owner"])
    with client.get(f"/portal/attachments/{world['file'].id}") as response:
        assert response.status_code == 200
        assert response.data == PDF
        assert response.mimetype == "application/pdf"
        disposition = response.headers["Content-Disposition"]
        assert disposition.startswith("attachment;")
        assert f"filename*=UTF-8''{quote(NAME)}" in disposition
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_enterprise_cannot_open_another_firms_attachment(client, login_as, world):
    login_as(user=world["stranger"])
    assert client.get(f"/portal/attachments/{world['file'].id}").status_code == 404


def test_a_missing_attachment_answers_404(client, login_as, world):
    login_as(user=world["owner"])
    assert client.get(f"/portal/attachments/{factories.MISSING_ID}").status_code == 404


def test_a_manager_out_of_reach_gets_404(client, login_as, world):
    away = factories.district("450405")
    login_as("manager", districts=[away])
    assert client.get(f"/portal/attachments/{world['file'].id}").status_code == 404


def test_a_manager_in_reach_downloads_it(client, login_as, world):
    login_as("manager", districts=[world["home"]])
    with client.get(f"/portal/attachments/{world['file'].id}") as response:
        assert response.status_code == 200
        assert response.data == PDF


@pytest.mark.parametrize("role", ["admin", "bureau_head"])
def test_roles_that_see_every_firm_download_it(client, login_as, world, role):
    login_as(role)
    with client.get(f"/portal/attachments/{world['file'].id}") as response:
        assert response.status_code == 200


def test_anonymous_is_sent_to_the_login(client, world):
    response = client.get(f"/portal/attachments/{world['file'].id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_file_missing_on_disk_answers_404(client, login_as, world):
    attachments.path_of(world["file"]).unlink()
    login_as(user=world["owner"])
    assert client.get(f"/portal/attachments/{world['file'].id}").status_code == 404


def _store(world, data: bytes, filename: str):
    return attachments.store(
        _upload(data, filename),
        firm_id=world["own"].id,
        owner_kind="measure",
        owner_id=1,
        user=world["owner"],
    )


def test_a_file_over_the_limit_is_refused_and_leaves_nothing(app, world, tmp_path):
    app.config["ATTACHMENT_MAX_MB"] = 1
    before, files = _count(), _files(tmp_path)
    with pytest.raises(attachments.AttachmentError, match="超过 1 MB"):
        _store(world, PDF[:9] + b"0" * (1024 * 1024 + 1 - 9), "大文件.pdf")
    assert _count() == before
    assert _files(tmp_path) == files


def test_a_file_just_at_the_limit_is_kept(app, world):
    app.config["ATTACHMENT_MAX_MB"] = 1
    data = PDF[:9] + b"0" * (1024 * 1024 - 9)
    assert _store(world, data, "刚好.pdf").size == 1024 * 1024


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"plain text pretending", "假的.pdf", "不支持该文件类型"),
        (b"<html><script>alert(1)</script></html>", "page.html", "不支持该文件类型"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "setup.exe", "不支持该文件类型"),
        (PDF, "图片.png", "与文件内容（PDF）不符"),
        (b"", "空白.pdf", "文件是空的"),
    ],
)
def test_a_refused_file_leaves_nothing(world, tmp_path, data, filename, message):
    before, files = _count(), _files(tmp_path)
    with pytest.raises(attachments.AttachmentError, match=message):
        _store(world, data, filename)
    assert _count() == before
    assert _files(tmp_path) == files


def test_the_client_content_type_is_not_trusted(world):
    upload = FileStorage(
        io.BytesIO(b"<svg onload=alert(1)>"), filename="x.png", content_type="image/png"
    )
    with pytest.raises(attachments.AttachmentError):
        attachments.store(
            upload, firm_id=world["own"].id, owner_kind="request", owner_id=1, user=None
        )


def test_attachments_of_groups_by_owner_and_remove_deletes_row_and_file(world):
    second = _store(world, PDF, "../../第二份.pdf")
    assert second.filename == "第二份.pdf"
    found = attachments.attachments_of("measure", [1, 2])
    assert found == {1: [second]}
    assert attachments.attachments_of("request", []) == {}
    path = attachments.path_of(second)
    attachments.remove(second)
    assert not path.exists()
    assert attachments.attachments_of("measure", [1]) == {}

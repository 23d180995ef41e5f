"""What a supporting file may be and what it may be called (`crm/portal/rules.py`)."""

import pytest

from crm.portal import rules

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
ZIP = b"PK\x03\x04\x14\x00\x06\x00\x08\x00" + b"[Content_Types].xml"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16


@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        (PDF, "营业执照.pdf", ("pdf", "application/pdf")),
        (PDF, "SCAN.PDF", ("pdf", "application/pdf")),
        (PNG, "专利证书.png", ("png", "image/png")),
        (JPEG, "照片.jpg", ("jpg", "image/jpeg")),
        (JPEG, "照片.jpeg", ("jpeg", "image/jpeg")),
        (
            ZIP,
            "审计报告.docx",
            ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ),
        (
            ZIP,
            "研发费用.xlsx",
            ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ),
        (
            ZIP,
            "汇报.pptx",
            ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ),
        (b"PK\x03\x04\x14\x00\x00\x00OFD.xml", "电子发票.ofd", ("ofd", "application/ofd")),
        (OLE2, "旧表格.xls", ("xls", "application/vnd.ms-excel")),
        (OLE2, "旧文档.doc", ("doc", "application/msword")),
    ],
)
def test_sniff_type_accepts_each_kind_under_its_own_extension(head, filename, expected):
    assert rules.sniff_type(head, filename) == expected


@pytest.mark.parametrize(
    ("head", "filename"),
    [
        (b"just some text, not a PDF", "fake.pdf"),
        (PDF, "document.png"),
        (PNG, "picture.jpg"),
        (JPEG, "picture.pdf"),
        (ZIP, "archive.zip"),
        (ZIP, "document.doc"),
        (OLE2, "document.docx"),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", "page.html"),
        (b"<!DOCTYPE html><html>", "page.pdf"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image.svg"),
        (b'<?xml version="1.0"?><svg/>', "image.png"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "setup.exe"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "setup.pdf"),
        (b"#!/bin/sh\nrm -rf /", "run.sh"),
        (b"GIF89a", "anim.gif"),
        (b"", "empty.pdf"),
        (PDF, "no_extension"),
        (PDF, ".pdf"),
    ],
)
def test_sniff_type_refuses_content_not_accepted_or_misnamed(head, filename):
    assert rules.sniff_type(head, filename) is None


def test_content_kind_tells_the_content_alone():
    assert rules.content_kind(PDF) == "pdf"
    assert rules.content_kind(ZIP) == "zip"
    assert rules.content_kind(b"MZ\x90\x00") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("营业执照（副本）.pdf", "营业执照（副本）.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\cmd.exe", "cmd.exe"),
        ("a/b\\c.pdf", "c.pdf"),
        ("C:\\Users\\张三\\Desktop\\审计报告.pdf", "审计报告.pdf"),
        ("报\x00告\x1b[31m.pdf", "报告[31m.pdf"),
        ("发票\u202egpj.exe", "发票gpj.exe"),
        ('what:is*this?"<>|.pdf', "whatisthis.pdf"),
        ("  多个   空格\t和\n换行  .docx", "多个 空格 和 换行.docx"),
        (".htaccess", "htaccess"),
        ("...hidden.pdf", "hidden.pdf"),
        ("??.pdf", "附件.pdf"),
        ("", "附件"),
        ("../", "附件"),
        ("CON.pdf", "_CON.pdf"),
        ("报告.pdf. ", "报告.pdf"),
    ],
)
def test_safe_filename_keeps_chinese_and_drops_what_is_unsafe(name, expected):
    assert rules.safe_filename(name) == expected


def test_safe_filename_caps_a_long_chinese_name_and_keeps_its_extension():
    name = "梧州市某某科技有限公司关于申报高新技术企业的说明材料" * 10 + ".xlsx"
    safe = rules.safe_filename(name)
    assert len(safe) == rules.MAX_NAME_LENGTH
    assert safe.endswith(".xlsx")
    assert safe.startswith("梧州市某某科技有限公司")
    assert len(safe.encode()) <= 255


def test_safe_filename_keeps_an_extension_sniffing_still_reads():
    safe = rules.safe_filename("../证书/../扫描件.PDF")
    assert safe == "扫描件.PDF"
    assert rules.sniff_type(PDF, safe) == ("pdf", "application/pdf")

"""The blank templates in imports/ are the ones the column definitions make, and import cleanly."""

from pathlib import Path

from openpyxl import load_workbook

from crm.excel import blanks, columns

IMPORTS = Path(__file__).resolve().parents[2] / "imports"


def headers(path: Path) -> list[str]:
    book = load_workbook(path, read_only=True)
    try:
        return [cell.value for cell in next(book["导入模板"].iter_rows(max_row=1))]
    finally:
        book.close()


def test_the_committed_templates_match_the_column_definitions(tmp_path):
    fresh = blanks.write_all(tmp_path, 2025)
    for path in fresh:
        committed = IMPORTS / path.name
        assert committed.exists(), f"{committed.name} is missing: run flask crm templates"
        assert headers(committed) == headers(path), f"{committed.name} is out of date"


def test_every_template_header_is_read_back_as_its_own_field(tmp_path):
    for kind in columns.KINDS.values():
        path = tmp_path / blanks.filename(kind)
        path.write_bytes(blanks.build(kind, 2025))
        for header, definition in zip(headers(path), kind.fields, strict=True):
            match = columns.match_header(kind.code, header)
            assert match is not None and match.key == definition.key, header
            if definition.yearly and kind.code == "firms":
                assert match.year == 2025
            if definition.parser == "money":
                assert match.scale == 10000

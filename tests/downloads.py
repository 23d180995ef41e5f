"""Reading what an export answers: the workbook's rows, and the page that links to it."""

from io import BytesIO

from openpyxl import load_workbook


def rows_of(response) -> list[list]:
    """Read an exported workbook's rows back, the header first."""
    assert response.status_code == 200, response.status_code
    sheet = load_workbook(BytesIO(response.get_data())).active
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def page_of(client, url: str) -> str:
    """Return the text of the page at `url`, which must answer 200."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)

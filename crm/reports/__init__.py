"""Everything that leaves the product as a workbook: every list exported as it is shown (with
its filters and sort), and the government layouts the bureau reports upward in.

Small exports download at once; large ones run as background jobs with a progress bar and a
download link. Every text cell that a spreadsheet could read as a formula is written as text.
"""

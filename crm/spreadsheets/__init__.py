"""Pure workbook reading and writing: no Flask, no database.

`readers` opens any workbook a bureau sends (xlsx, xlsm, xls, ods, csv) and streams its rows,
after `scan` and `xls` have measured it; `tables` finds the header and the data rows in them;
`writer` writes cells so that text never runs as a formula.
"""

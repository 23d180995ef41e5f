"""Excel and WPS spreadsheet import: reading, cell parsing, validation."""

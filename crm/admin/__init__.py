"""Reference data (districts, parks, industries, technology fields) and user administration."""

"""The enterprise portal: a firm's own pages, its change requests and the bureau's review."""

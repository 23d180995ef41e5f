"""Listing-reserve cases: the target market, the intermediaries and the evidence of each stage."""

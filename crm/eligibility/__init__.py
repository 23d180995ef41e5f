"""Pure eligibility rules: the USCC check, and later HTE conditions and scores."""

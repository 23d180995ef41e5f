"""The support ledger: subsidies, vouchers, awards, and the rules that create claimable entries."""

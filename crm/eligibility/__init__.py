"""Eligibility: the high-tech enterprise conditions and score range, the tech-SME score, growth,
and the stored pre-assessments (高企认定预评估) of every firm.
"""

"""The bureau heads' dashboard: the indicators of the cultivation funnel (domain.md §8).

`funnel` answers the figures (firms per stage, conversion by cohort, median days in a stage,
certificates expiring), each in one SQL statement; the pages and charts that show them come with
the dashboard itself. `digest` writes the weekly e-mail to each bureau head, queued by the
worker's task in `jobs`.
"""

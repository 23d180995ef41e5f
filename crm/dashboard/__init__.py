"""The bureau heads' dashboard: the indicators of the cultivation funnel (domain.md §8).

`funnel` answers the figures (firms per stage, conversion by cohort, median days in a stage,
certificates expiring), each in one SQL statement; `targets` keeps what they are compared with.
`figures` gathers them for a user and the filters (`filters`) into the cards and charts of
`charts`, which the page (`views`, /dashboard) draws; administrators edit the targets on
`target_views`. `digest` writes the weekly e-mail to each bureau head, queued by the worker's
task in `jobs`, with a link to the page.
"""

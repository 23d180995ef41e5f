"""Named signals of the firms package, which packages above it connect to."""

from blinker import Namespace

_signals = Namespace()

firm_renamed = _signals.signal(
    "firm-renamed",
    doc="""A firm took a new name (the old one is kept as a former name): follow the change.

    Sent with the firm as the sender, `old_name` and `changed_on`.
    """,
)

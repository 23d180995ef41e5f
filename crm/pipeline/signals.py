"""Named signals of the pipeline, which the programme packages above it connect to.

The pipeline moves firms between stages and checks the gates; what a gate reads and what follows
a move belong to other packages (coaching plans, certification batches and certificates, listing
cases, the support ledger). They connect receivers here instead of the pipeline importing them.
Each signal is sent with the programme's code as the sender, so a receiver can listen to one
programme (`connect_via(HTE)`) or to all.
"""

from collections.abc import Iterable
from typing import Any

from blinker import Namespace

_signals = Namespace()

gathering_move_facts = _signals.signal(
    "gathering-move-facts",
    doc="""A gate is about to be checked: return a dict of the `rules.MoveFacts` fields you know.

    Sent with `firm`, `inputs` (the move's `MoveInputs`) and `today`.
    """,
)
offering_move_choices = _signals.signal(
    "offering-move-choices",
    doc="""A move form is built: return a dict of field name → (value, label) pairs to offer.

    Sent with `today`.
    """,
)
stage_moved = _signals.signal(
    "stage-moved",
    doc="""A move was recorded and flushed: follow it, and return warnings to show (Chinese).

    Sent with `enrollment`, `transition` and `inputs`. Raise `GateRefused` to refuse the move;
    the caller then rolls it back.
    """,
)
showing_card = _signals.signal(
    "showing-card",
    doc="""The card of a programme is shown on a firm's 培育进程 tab: add panels to it.

    Sent with `card` (append template names to `card.panels`, put their values in `card.extra`),
    `firm` and `may_edit`.
    """,
)


def merged(results: Iterable[tuple[Any, dict[str, Any] | None]]) -> dict[str, Any]:
    """Return the dicts the receivers returned as one; two receivers never give the same key."""
    values: dict[str, Any] = {}
    for receiver, returned in results:
        for key, value in (returned or {}).items():
            if key in values:
                raise RuntimeError(f"{key!r} is given twice, again by {receiver.__qualname__}")
            values[key] = value
    return values


def joined(results: Iterable[tuple[Any, list[str] | None]]) -> list[str]:
    """Return the lists the receivers returned as one, in the order of the receivers' modules.

    Blinker calls receivers in no set order; ordering by module keeps what a page shows stable.
    """
    ordered = sorted(results, key=lambda pair: (pair[0].__module__, pair[0].__qualname__))
    return [item for _, returned in ordered for item in (returned or [])]

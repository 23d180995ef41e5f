"""Demo listing cases: the target market and intermediaries of the listing-reserve firms.

Firms that have signed with a broker have all three intermediaries; firms still in the pool or
in the joint-stock reform have an intended market at most. The names are invented.
Drawn from a stream of its own per enrollment, so adding them changes no other demo value.
"""

import random

from crm.listing.models import ListingCase
from crm.pipeline.models import Enrollment

BROKERS = ["桂海证券股份有限公司", "南方联合证券有限责任公司", "华融信达证券股份有限公司"]
LAW_FIRMS = ["广西正理律师事务所", "北京中和律师事务所南宁分所"]
AUDIT_FIRMS = ["大信华会计师事务所（特殊普通合伙）", "中审联会计师事务所（特殊普通合伙）"]
#: The exchanges a firm on the main line aims at (BSE most often for firms of this size), and
#: what a firm still in the pool may name instead.
EXCHANGES = ["bse", "bse", "bse", "chinext", "szse_main", "star"]
MARKETS = [*EXCHANGES, "neeq", "bbw"]
#: The market a side outcome is a listing on.
OUTCOME_MARKETS = {"neeq": "neeq", "regional": "bbw"}
#: Stages reached after signing with a sponsor broker.
SIGNED = {"sign", "tutor", "tutor_done", "filed", "review", "listed", "neeq"}


def make_listing_cases(seed: int, enrollments: list[Enrollment], stage_codes: dict) -> list:
    """Return the listing cases of the listing-reserve enrollments among `enrollments`."""
    cases = []
    for enrollment in enrollments:
        code = stage_codes.get(enrollment.stage_id)
        if code is None:
            continue
        rng = random.Random(f"{seed}-listing-{enrollment.firm_id}")
        signed = code in SIGNED
        if code in OUTCOME_MARKETS:
            market = OUTCOME_MARKETS[code]
        elif signed:
            market = rng.choice(EXCHANGES)
        else:
            market = rng.choice(MARKETS) if rng.random() < 0.6 else None
        cases.append(
            ListingCase(
                enrollment_id=enrollment.id,
                firm_id=enrollment.firm_id,
                target_market=market,
                neeq_tier=rng.choice(["base", "innovation"]) if market == "neeq" else None,
                sponsor_broker=rng.choice(BROKERS) if signed else None,
                law_firm=rng.choice(LAW_FIRMS) if signed else None,
                audit_firm=rng.choice(AUDIT_FIRMS) if signed else None,
            )
        )
    return cases

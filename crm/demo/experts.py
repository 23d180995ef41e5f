"""Demo manager's assessments: the expert-judged score items a manager has entered for a firm.

Strong firms are all assessed, near misses mostly, middling firms sometimes, far-off and young
firms never, so the demo readiness list shows firms that pass, that are uncertain and that fail.
Drawn from a stream of its own per firm, so adding them changes no other demo value.
"""

import random

from crm.eligibility.models import ExpertAssessment
from crm.firms.models import Firm

#: Profile → (share assessed, the part of each item's maximum the points are drawn from).
PROFILE_SCORING = {
    "strong": (1.0, (0.7, 1.0)),
    "near": (0.7, (0.5, 0.9)),
    "mid": (0.25, (0.3, 0.7)),
}
ITEMS = {
    "tech_advancement": 8,
    "core_support": 8,
    "standards": 2,
    "rd_rules": 6,
    "rd_institution": 6,
    "rd_incentives": 4,
    "rd_talent": 4,
}


def make_expert_assessment(seed: int, firm: Firm, spec: dict) -> ExpertAssessment | None:
    """Return the manager's assessment of a demo firm, or None when it has not been assessed."""
    scoring = PROFILE_SCORING.get(spec["profile"])
    rng = random.Random(f"{seed}-expert-{spec['name']}")
    if scoring is None or rng.random() >= scoring[0]:
        return None
    low, high = scoring[1]
    values = {
        code: rng.randint(round(maximum * low), round(maximum * high))
        for code, maximum in ITEMS.items()
    }
    # The demo's strong and near firms develop their own IP, so acquisition takes the 1-6 band.
    values["acquisition"] = rng.randint(max(1, round(6 * low)), round(6 * high))
    return ExpertAssessment(
        firm_id=firm.id,
        assessed_by_id=firm.manager_id,
        clean_record=True,
        provincial_rd_institution=spec["profile"] == "strong" and rng.random() < 0.2,
        notes="演示数据：服务专员走访评估",
        **values,
    )

"""Small drawing helpers shared by the demo generator: amounts, dates, people, codes."""

import math
import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from crm.demo.vocabulary import GIVEN_CHARS, MOBILE_PREFIXES, SURNAMES
from crm.firms.uscc import ALPHABET


def cents(amount: int) -> Decimal:
    """Return an amount in cents as yuan."""
    return Decimal(amount).scaleb(-2)


def loguniform(rng: random.Random, low: float, high: float) -> float:
    """Draw a number between `low` and `high`, evenly spread on a log scale."""
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def weighted(rng: random.Random, items, weight_index: int = -1):
    """Draw one of `items`, weighted by the element at `weight_index` of each."""
    return rng.choices(items, weights=[item[weight_index] for item in items])[0]


def date_between(rng: random.Random, start: date, end: date) -> date:
    """Draw a day from `start` to `end`, or return `start` when the range is empty."""
    if end <= start:
        return start
    return start + timedelta(days=rng.randint(0, (end - start).days))


def person(rng: random.Random) -> tuple[str, str, str]:
    """Return a name, its surname's pinyin and its given name's pinyin."""
    surname, surname_py, _ = weighted(rng, SURNAMES)
    chars = rng.sample(GIVEN_CHARS, 2 if rng.random() < 0.7 else 1)
    return (
        surname + "".join(c for c, _ in chars),
        surname_py,
        "".join(p for _, p in chars),
    )


def mobile(rng: random.Random) -> str:
    """Draw a mainland mobile phone number."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def patent_check_digit(number12: str) -> str:
    """Return the check digit of a 12-digit Chinese patent application number."""
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    total = sum(int(d) * w for d, w in zip(number12, weights, strict=True)) % 11
    return "X" if total == 10 else str(total)


def organisation_code_check(body8: str) -> str:
    """Return the check character of an old 9-character organisation code (GB 11714)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(body8, weights, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


#: Draws in a row that may hit values already handed out before `UniqueDraws` gives up.
MAX_FAILED_DRAWS = 10_000


class DrawsExhausted(RuntimeError):
    """A drawing kept returning values already handed out: its range is used up."""


class UniqueDraws:
    """Values already handed out, so that a drawn code or number is never given twice."""

    def __init__(self, used=(), max_failures: int = MAX_FAILED_DRAWS) -> None:
        self.used: set[str] = set(used)
        self.max_failures = max_failures

    def draw(self, make: Callable[[], str]) -> str:
        """Call `make` until it returns a value not handed out yet; record and return it.

        Raise `DrawsExhausted` after `max_failures` values in a row that were all taken, rather
        than loop for ever once the range `make` draws from is used up.
        """
        for _ in range(self.max_failures):
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value
        raise DrawsExhausted(
            f"连续 {self.max_failures} 次抽到已使用的编号（如 {value}），"
            "该类编号的取值范围已用尽，请减少演示企业数量。"
        )

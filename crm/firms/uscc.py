"""Unified social credit code (统一社会信用代码, GB 32100-2015): normalise and check.

A wrong length or character is an error; a wrong check character is only a warning, because some
early pilot codes are legal and fail it (domain.md §5).
"""

import unicodedata
from dataclasses import dataclass
from operator import mul

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
LENGTH = 18


@dataclass(frozen=True)
class UsccCheck:
    """The normalised code and what is wrong with it."""

    code: str
    error: str | None = None
    warning: str | None = None
    expected_check: str | None = None

    @property
    def is_valid(self) -> bool:
        """Tell whether the code is well formed and its check character is right."""
        return self.error is None and self.warning is None


def normalise(raw: str | None) -> str:
    """Trim, convert full-width characters to half-width, drop inner spaces, upper-case."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    return "".join(text.split()).upper()


def check_character(first17: str) -> str:
    """Return the check character for the first 17 characters of a code."""
    if len(first17) != LENGTH - 1:
        raise ValueError(first17)
    # map() keeps the loop in C: imports check tens of thousands of codes.
    total = sum(map(mul, map(VALUES.__getitem__, first17), WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def check(raw: str | None) -> UsccCheck:
    """Normalise `raw` and report an error (unusable) or a warning (check character)."""
    code = normalise(raw)
    if len(code) != LENGTH:
        return UsccCheck(code, error=f"统一社会信用代码应为 18 位，当前为 {len(code)} 位")
    bad = [ch for ch in code if ch not in VALUES]
    if bad:
        shown = "、".join(dict.fromkeys(bad))
        return UsccCheck(
            code, error=f"统一社会信用代码含有不允许的字符：{shown}（不使用 I、O、S、V、Z）"
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        return UsccCheck(
            code,
            warning=f"统一社会信用代码校验位不符：第 18 位为 {code[17]}，按规则应为 {expected}",
            expected_check=expected,
        )
    return UsccCheck(code)


def region_code(code: str) -> str:
    """Return the six-digit region code in positions 3-8."""
    return code[2:8]

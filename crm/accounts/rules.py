"""Pure rules of accounts: what makes a password acceptable.

Values in, values out; only the standard library. The list of common passwords ships with the
package as a data file and is read once.
"""

import re
from functools import cache
from importlib import resources

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128
#: A shorter username in Latin letters is too common to forbid inside a password ("li", "ma");
#: a name in Chinese characters counts from two.
_MIN_NAME_PART = 3


def password_problem(
    password: str | None, *, username: str | None = None, name: str | None = None
) -> str | None:
    """Return why `password` is too weak for the user with this username and name, or None."""
    password = password or ""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"密码至少需要 {PASSWORD_MIN_LENGTH} 个字符"
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"密码不能超过 {PASSWORD_MAX_LENGTH} 个字符"
    if not re.search(r"[A-Za-z]", password) or not re.search(r"[0-9]", password):
        return "密码须同时包含字母和数字"
    if is_common_password(password):
        return "这是一个常用密码，很容易被猜中，请换一个"
    if _close_to(password, username):
        return "密码不能包含用户名，也不能包含倒写的用户名"
    if _close_to(password, name):
        return "密码不能包含姓名，也不能包含倒写的姓名"
    return None


def is_common_password(password: str) -> bool:
    """Tell whether `password`, in any case, is on the shipped list of common passwords."""
    return password.strip().lower() in common_passwords()


@cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, lower-cased."""
    text = resources.files("crm.accounts").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _close_to(password: str, word: str | None) -> bool:
    """Tell whether the password contains `word` or `word` reversed, in any case.

    Containing covers the word itself and the word with digits or anything else around it.
    """
    word = re.sub(r"\s+", "", word or "").lower()
    if len(word) < (_MIN_NAME_PART if word.isascii() else 2):
        return False
    lowered = password.lower()
    return word in lowered or word[::-1] in lowered


def session_expired(
    started_at: int | None,
    seen_at: int | None,
    now: int,
    *,
    idle_seconds: int,
    max_seconds: int,
) -> bool:
    """Tell whether a login session started and last seen at these times (epoch seconds) is over.

    A session without its times (one from before they were recorded) is over too.
    """
    if started_at is None or seen_at is None:
        return True
    return now - seen_at > idle_seconds or now - started_at > max_seconds


def account_wait_minutes(
    failures: int, *, free_failures: int, first_wait: int, longest_wait: int
) -> int:
    """Return the minutes an account waits after its `failures`-th failed login in a row.

    The first `free_failures` cost nothing; the next one waits `first_wait`, and each further
    failure doubles the wait, which never exceeds `longest_wait`: nobody can shut an account
    for good.
    """
    if failures <= free_failures:
        return 0
    doublings = min(failures - free_failures - 1, 20)
    return min(longest_wait, first_wait * 2**doublings)

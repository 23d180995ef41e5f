"""Demo data: a believable city of technology firms to try the product on (`flask crm demo`).

Everything here flushes and never commits; the command commits once. Figures come from a local
`random.Random(seed)`, so a given seed and day give the same firms; passwords come from `secrets`
and are never stored in the repository, only in `<instance>/demo_logins.txt`.

- `vocabulary`: the name, brand and word pools and the profile shares;
- `helpers`: small drawing helpers (amounts, dates, people, check digits, unique codes);
- `generator`: the run itself (accounts, firms, their specs) and `generate_demo`;
- `figures`: yearly figures, IP items, qualifications and contacts of one firm;
- `logins`: demo passwords, the logins file, and detecting a demo already loaded.
"""

from crm.firms.demo.generator import DEFAULT_SEED, DemoSummary, generate_demo
from crm.firms.demo.helpers import organisation_code_check, patent_check_digit
from crm.firms.demo.logins import (
    DEMO_EMAIL_DOMAIN,
    LOGINS_FILE,
    SHOWN_USERNAMES,
    DemoLogin,
    demo_present,
    logins_path,
    logins_work,
    make_password,
    read_logins,
    reset_demo_passwords,
    shown_logins,
    write_logins,
)

__all__ = [
    "DEFAULT_SEED",
    "DEMO_EMAIL_DOMAIN",
    "LOGINS_FILE",
    "SHOWN_USERNAMES",
    "DemoLogin",
    "DemoSummary",
    "demo_present",
    "generate_demo",
    "logins_path",
    "logins_work",
    "make_password",
    "organisation_code_check",
    "patent_check_digit",
    "read_logins",
    "reset_demo_passwords",
    "shown_logins",
    "write_logins",
]

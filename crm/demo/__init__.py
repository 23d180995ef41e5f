"""Demo data: a believable city of technology firms to try the product on (`flask crm demo`).

It fills every domain, so it may import all of them; nothing imports it but the command line.

Everything here flushes and never commits; the command commits once. Figures come from a local
`random.Random(seed)`, so a given seed and day give the same firms; passwords come from `secrets`
and are never stored in the repository, only in `<instance>/demo_logins.txt`.

- `vocabulary`: the name, brand and word pools and the profile shares;
- `helpers`: small drawing helpers (amounts, dates, people, check digits, unique codes);
- `generator`: the run itself (accounts, firms, their specs) and `generate_demo`;
- `figures`: yearly figures, IP items, qualifications and contacts of one firm;
- `logins`: demo passwords, the logins file, and detecting a demo already loaded;
- `cli`: the `flask crm demo` command.
"""

"""What describes a demo firm: yearly figures, IP items, qualifications and contacts.

Every function draws from the generator's random stream `rng` in a fixed order, so that a given
seed gives the same firms; none of them touches the database session.
"""

import math
import random
from datetime import date, timedelta

from crm.demo.helpers import (
    UniqueDraws,
    cents,
    date_between,
    loguniform,
    mobile,
    patent_check_digit,
    person,
)
from crm.demo.logins import DEMO_EMAIL_DOMAIN
from crm.demo.vocabulary import INVENTION_SUFFIXES, IP_WORDS
from crm.firms import rules
from crm.firms.models import Firm, FirmContact, FirmYear, IPItem, Qualification

#: FirmYear columns and the keys of a figures row they come from: amounts in cents, then counts.
MONEY_COLUMNS = {
    "total_revenue": "total",
    "sales_revenue": "sales",
    "hightech_revenue": "hightech",
    "rd_expense": "rd",
    "domestic_rd_expense": "domestic_rd",
    "total_costs": "costs",
    "total_assets": "assets",
    "total_liabilities": "liabilities",
}
COUNT_COLUMNS = {"total_staff": "staff", "tech_staff": "tech", "transformed_results": "transformed"}
#: City-level lists a firm may be on: (tier, profiles that qualify, chance, list name).
CITY_LISTS = (
    ("gazelle", ("strong",), 0.06, "瞪羚企业"),
    ("innovative", ("strong", "near"), 0.05, "创新型企业"),
    ("little_giant", ("strong",), 0.03, "科技小巨人企业"),
)
#: The serials (last six digits, GR + year + 45 + serial) a small demo draws certificate numbers
#: from: about as many as Guangxi issues in a year. A large demo needs more (up to 999,999).
CERTIFICATE_SERIALS = 3999

# --- Yearly figures ----------------------------------------------------------------------------


def yearly_figures(rng: random.Random, spec: dict, last_year: int) -> list[dict]:
    """Return the yearly figures, oldest first, in cents and heads."""
    profile, misses = spec["profile"], spec["misses"]
    established = spec["established"]
    span = rng.choice((3, 4))
    years = list(range(max(last_year - span + 1, established.year), last_year + 1))
    if not years:
        return []
    if spec["above_scale"]:
        latest = loguniform(rng, 20e6, 600e6)
    elif profile == "young":
        latest = loguniform(rng, 0.2e6, 3e6)
    else:
        latest = loguniform(rng, 1.2e6, 19.5e6)
    growth = {
        "strong": (0.08, 0.35),
        "near": (0.03, 0.2),
        "mid": (-0.05, 0.2),
        "far": (-0.12, 0.08),
        "young": (0.0, 0.0),
    }[profile]
    sales = [latest]
    for _ in years[:-1]:
        sales.append(sales[-1] / (1 + rng.uniform(*growth)))
    sales.reverse()
    first_fraction = (date(established.year, 12, 31) - established).days / 365
    if years[0] == established.year:
        sales[0] *= max(first_fraction, 0.08)
    sales_c = [max(int(s * 100), 10_000_00) for s in sales]

    threshold = 0.05 if latest <= 50e6 else 0.04 if latest <= 200e6 else 0.03

    def pick(meets: tuple[float, float], short: tuple[float, float], far: tuple[float, float], key):
        if profile == "strong":
            return rng.uniform(*meets)
        if profile == "near":
            return rng.uniform(*short) if key in misses else rng.uniform(*meets)
        if profile == "mid":
            return rng.uniform(*meets) if rng.random() < 0.4 else rng.uniform(*far)
        return rng.uniform(*far)

    rd_ratio = pick((1.2, 2.2), (0.88, 0.98), (0.3, 0.8), "rd") * threshold
    if profile in ("far", "young"):
        rd_ratio = rng.uniform(0.002, 0.02)
    rd_c = [s * rd_ratio * rng.uniform(0.85, 1.15) for s in sales_c]
    # Scale the last three years so their intensity is exactly the intended one.
    window = slice(-3, None)
    actual = sum(rd_c[window]) / sum(sales_c[window])
    rd_c = [int(r * rd_ratio / actual) for r in rd_c]
    domestic_share = rng.uniform(0.45, 0.58) if rng.random() < 0.05 else rng.uniform(0.8, 1.0)

    hightech_ratio = pick((0.65, 0.95), (0.52, 0.595), (0.1, 0.5), "hightech")
    tech_ratio = pick((0.12, 0.45), (0.081, 0.0995), (0.02, 0.08), "staff")
    per_head = rng.uniform(0.3e6, 1.2e6)
    staff_latest = max(6, round(latest / per_head))
    if "staff" in misses:
        staff_latest = max(staff_latest, rng.randint(30, 90))
    staff_latest = min(staff_latest, 3000)
    asset_ratio = rng.uniform(0.5, 1.6)
    debt_ratio = rng.uniform(1.02, 1.3) if rng.random() < 0.04 else rng.uniform(0.15, 0.7)
    transformed = {
        "strong": (3, 8),
        "near": (1, 5),
        "mid": (0, 3),
        "far": (0, 1),
        "young": (0, 1),
    }[profile]

    # Costs come from their own stream, seeded by the figures, so adding them left every other
    # draw of a seed unchanged. Most firms make a profit; the far and young ones often do not.
    loss_chance = {"strong": 0.03, "near": 0.08, "mid": 0.15, "far": 0.35, "young": 0.6}[profile]
    costs_rng = random.Random(sales_c[-1] * 31 + len(years))
    rows = []
    for i, year in enumerate(years):
        last = i == len(years) - 1
        s = sales_c[i]
        total = s + int(s * rng.uniform(0.0, 0.06))
        ht_ratio = hightech_ratio if last else min(hightech_ratio * rng.uniform(0.92, 1.05), 0.98)
        staff = max(5, round(staff_latest * (s / sales_c[-1]) ** 0.6))
        if last:
            staff = staff_latest
        t_ratio = tech_ratio if last else tech_ratio * rng.uniform(0.9, 1.1)
        # Round towards the side of the threshold the firm is meant to be on.
        tech = math.ceil(staff * t_ratio) if t_ratio >= 0.1 else math.floor(staff * t_ratio)
        assets = int(s * asset_ratio * rng.uniform(0.95, 1.05))
        liabilities = int(assets * min(debt_ratio * rng.uniform(0.95, 1.05), 1.4))
        if debt_ratio < 1:
            liabilities = min(liabilities, assets - 100)
        if costs_rng.random() < loss_chance:
            margin = costs_rng.uniform(1.0, 1.2)
        else:
            margin = costs_rng.uniform(0.8, 0.97)
        costs = max(int(total * margin), rd_c[i])
        rows.append(
            {
                "year": year,
                "total": total,
                "sales": s,
                "hightech": min(int(total * ht_ratio), total),
                "rd": rd_c[i],
                "domestic_rd": int(rd_c[i] * domestic_share),
                "costs": costs,
                "assets": assets,
                "liabilities": liabilities,
                "staff": staff,
                "tech": min(tech, staff),
                "transformed": rng.randint(*transformed),
            }
        )
    return rows


def make_years(firm: Firm, spec: dict) -> list[FirmYear]:
    """Return the firm's yearly figures."""
    return [
        FirmYear(
            firm_id=firm.id,
            year=row["year"],
            **{column: cents(row[key]) for column, key in MONEY_COLUMNS.items()},
            **{column: row[key] for column, key in COUNT_COLUMNS.items()},
        )
        for row in spec["figures"]
    ]


# --- IP items ----------------------------------------------------------------------------------


def _ip_counts(rng: random.Random, spec: dict) -> dict[str, int]:
    profile = spec["profile"]
    if profile == "strong":
        counts = (rng.randint(1, 5), rng.randint(2, 10), rng.randint(0, 6), rng.randint(0, 2))
    elif profile == "near" and "ip" in spec["misses"]:
        counts = (0, rng.randint(1, 3), rng.randint(0, 1), 0)
    elif profile == "near":
        counts = (rng.randint(1, 2), rng.randint(1, 5), rng.randint(0, 3), rng.randint(0, 1))
    elif profile == "mid":
        counts = (
            int(rng.random() < 0.3),
            rng.randint(0, 4),
            rng.randint(0, 3),
            rng.randint(0, 1),
        )
    else:
        counts = (0, rng.randint(0, 1), rng.randint(0, 1), 0)
    return dict(zip(("invention", "utility_model", "software", "design"), counts, strict=True))


def make_ip(
    rng: random.Random, firm: Firm, spec: dict, today: date, numbers: UniqueDraws
) -> list[IPItem]:
    """Return the firm's patents and software copyrights, some pending, a few expired."""
    objects, devices, systems, products = IP_WORDS[spec["field"]]
    established = spec["established"]
    items = []
    pending_inventions = rng.randint(0, 2) if spec["profile"] in ("near", "mid") else 0
    counts = _ip_counts(rng, spec)
    counts["invention"] += pending_inventions
    lag_days = {"invention": (450, 1100), "utility_model": (150, 400), "design": (120, 300)}
    patent_type = {"invention": "1", "utility_model": "2", "design": "3"}
    titles: set[str] = set()
    # A firm meant to meet the IP condition holds at least one granted, valid invention.
    needs_invention = spec["profile"] == "strong" or (
        spec["profile"] == "near" and "ip" not in spec["misses"]
    )
    for kind, count in counts.items():
        for n in range(count):
            sure = kind == "invention" and n == 0 and needs_invention
            acquisition = "transfer" if rng.random() < 0.08 else "own"
            start = max(established, date(2008, 1, 1))
            if acquisition == "transfer":
                start = min(start, date(2015, 1, 1))
            if kind == "software":
                granted = date_between(rng, start, today - timedelta(days=10))
                number = numbers.draw(lambda g=granted: f"{g.year}SR{rng.randrange(10**7):07d}")
                status = "valid"
                title = f"{rng.choice(systems)}V{rng.randint(1, 3)}.{rng.randint(0, 9)}"
            else:
                latest_filing = today - timedelta(days=1200 if sure else 60)
                filed = date_between(rng, start, latest_filing)
                granted = filed + timedelta(days=rng.randint(*lag_days[kind]))
                digits = patent_type[kind]

                def patent_number(y=filed.year, t=digits) -> str:
                    body = f"{y}{t}{rng.randrange(10**7):07d}"
                    return f"{body}.{patent_check_digit(body)}"

                application = numbers.draw(patent_number)
                if granted > today:
                    number, granted, status = application, None, "pending"
                else:
                    number, status = f"ZL{application}", "valid"
                    life = 20 if kind == "invention" else 10 if kind == "utility_model" else 15
                    lapsed = not sure and rng.random() < 0.03
                    if filed.year + life <= today.year or lapsed:
                        status = "expired"
                if kind == "invention":
                    title = f"一种{rng.choice(objects)}{rng.choice(INVENTION_SUFFIXES)}"
                elif kind == "utility_model":
                    title = f"一种{rng.choice(devices)}"
                else:
                    title = rng.choice(products)
            if title in titles:
                title = f"{title}（{len(titles) + 1}）" if kind == "design" else title
            titles.add(title)
            items.append(
                IPItem(
                    firm_id=firm.id,
                    kind=kind,
                    number=number,
                    title=title,
                    granted_on=granted,
                    status=status,
                    acquisition=acquisition,
                )
            )
    spec["ip"] = items
    return items


# --- Qualifications and contacts ---------------------------------------------------------------


def make_qualifications(
    rng: random.Random,
    firm: Firm,
    spec: dict,
    today: date,
    city_name: str,
    numbers: UniqueDraws,
    certificate_serials: int = CERTIFICATE_SERIALS,
) -> list[Qualification]:
    """Return the firm's tiers: tech SME registrations, HTE certificates and a few others.

    Certificate serials are drawn from 1 to `certificate_serials`.
    """
    profile = spec["profile"]
    district = spec["district"]
    figures = spec["figures"]
    last_year = today.year - 1
    latest = figures[-1] if figures else None
    quals = []

    def add(tier: str, year: int, number: str | None, document: str) -> None:
        quals.append(
            Qualification(
                firm_id=firm.id, tier=tier, year=year, number=number, source_document=document
            )
        )

    small = latest is not None and (
        latest["staff"] <= 500
        and latest["sales"] <= 200e6 * 100
        and latest["assets"] <= 200e6 * 100
    )
    sme_chance = {"strong": 0.75, "near": 0.65, "mid": 0.4, "far": 0.05, "young": 0.1}[profile]
    if small and rng.random() < sme_chance:
        years = [today.year]
        if spec["established"].year < last_year and rng.random() < 0.6:
            years.insert(0, last_year)
        for year in years:
            number = numbers.draw(
                lambda y=year: f"{y}{district.code}0{rng.randint(1, 4)}{rng.randrange(10**6):06d}"
            )
            add("tech_sme", year, number, f"{year}年科技型中小企业入库登记")
    hte_years: list[int] = []
    if profile == "strong" and rng.random() < 0.6:
        cert = rng.choices((last_year - 2, last_year - 1, last_year), weights=(3, 3, 2))[0]
        hte_years = (
            [cert - 3, cert]
            if cert - 3 >= spec["established"].year + 1 and rng.random() < 0.4
            else [cert]
        )
    elif profile == "near" and rng.random() < 0.15:
        # Certified once, lapsed and not renewed: a reserve candidate with entry reason 1.
        lapsed = [y for y in (last_year - 4, last_year - 3) if y > spec["established"].year]
        hte_years = lapsed[-1:]
    for year in hte_years:
        batch = rng.randint(1, 2)
        number = numbers.draw(lambda y=year: f"GR{y}45{rng.randint(1, certificate_serials):06d}")
        add("hte", year, number, f"广西壮族自治区{year}年第{batch}批高新技术企业备案名单")
        used = [
            item
            for item in spec["ip"]
            if item.kind in rules.CLASS_II_KINDS
            and item.granted_on is not None
            and item.granted_on.year < year
            and item.used_in_year is None
        ]
        for item in used[:6]:
            item.used_in_year = year
    strongish = profile == "strong" or spec["above_scale"]
    if strongish and rng.random() < 0.12:
        year = rng.choice((last_year - 1, last_year))
        add("srdi", year, None, f"广西壮族自治区{year}年专精特新中小企业名单")
    for tier, profiles, chance, list_name in CITY_LISTS:
        if profile in profiles and rng.random() < chance:
            add(tier, last_year, None, f"{city_name}{last_year}年{list_name}名单")
    return quals


def make_contacts(rng: random.Random, firm: Firm, spec: dict) -> list[FirmContact]:
    """Return one to three people to talk to, the legal representative often among them."""
    roles = list(rules.CONTACT_ROLES[1:-1])
    rng.shuffle(roles)
    count = rng.randint(1, 3)
    contacts = []
    for n in range(count):
        name, surname_py, given_py = person(rng)
        role = roles[n]
        if n == 0 and rng.random() < 0.5:
            name, role = spec["legal"], "法定代表人"
            surname_py, given_py = spec["legal_py"]
        if rng.random() < 0.6:
            email = f"{given_py}.{surname_py}@{spec['brand_py']}.{DEMO_EMAIL_DOMAIN}"
        else:
            email = f"{spec['brand_py']}{rng.randint(1, 99)}@{DEMO_EMAIL_DOMAIN}"
        contacts.append(
            FirmContact(firm_id=firm.id, name=name, role=role, phone=mobile(rng), email=email)
        )
    return contacts

"""The demo generator: accounts, firms and their details, drawn from one random stream.

Everything here flushes and never commits. Firms are written in chunks; after each chunk the
generator calls the caller's `checkpoint` (the command commits there) and empties the session, so
a demo of 100,000 firms runs in bounded memory. Figures come from a local `random.Random(seed)`,
so a given seed and day give the same firms.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from crm.accounts.models import User
from crm.admin.services import seed_reference_data
from crm.coaching.models import Activity, CoachingPlan
from crm.core import clock
from crm.demo.coaching import make_coaching, write_contact_log
from crm.demo.duties import make_duties
from crm.demo.enrollments import make_enrollments, record_certificates
from crm.demo.experts import make_expert_assessment
from crm.demo.figures import (
    CERTIFICATE_SERIALS,
    make_contacts,
    make_ip,
    make_qualifications,
    make_years,
    yearly_figures,
)
from crm.demo.helpers import (
    UniqueDraws,
    date_between,
    mobile,
    organisation_code_check,
    person,
    weighted,
)
from crm.demo.listing import make_listing_cases
from crm.demo.logins import DEMO_EMAIL_DOMAIN, DemoLogin, make_password
from crm.demo.portal import make_portal_requests
from crm.demo.support import make_support_entries
from crm.demo.vocabulary import (
    BRANDS,
    CITY_WORDS,
    COMMON_WORDS,
    INCUBATOR_WORD,
    NEAR_MISSES,
    PROFILE_SHARES,
    PROFILES,
    ROADS,
)
from crm.extensions import db
from crm.firms.models import Firm, FirmFormerName
from crm.firms.uscc import ALPHABET, check_character
from crm.pipeline.models import Programme, Stage
from crm.reference.cities import CITIES
from crm.reference.models import District, Industry, Park, TechField

DEFAULT_SEED = 4504
ENTERPRISE_USERS = 5
#: Firms written per chunk, each chunk flushed, checkpointed and cleared from the session.
CHUNK = 500
#: Tries at an unused company name before numbering one; fewer once the names have run out.
NAME_TRIES, NAME_TRIES_EXHAUSTED = 200, 10
#: What `firm_specs` decides of each firm, in order.
SPEC_KEYS = (
    "profile",
    "misses",
    "is_incubator",
    "district",
    "field",
    "industry",
    "established",
    "name",
    "brand_py",
    "in_park",
    "above_scale",
)


@dataclass
class DemoSummary:
    """What `generate_demo` created."""

    firms: int = 0
    users: int = 0
    years: int = 0
    ip_items: int = 0
    qualifications: int = 0
    certificates: int = 0
    expert_assessments: int = 0
    enrollments: int = 0
    coaching_plans: int = 0
    activities: int = 0
    support_entries: int = 0
    duties: int = 0
    portal_requests: int = 0
    logins: list[DemoLogin] = field(default_factory=list)


@dataclass(frozen=True)
class _District:
    """What the generator reads of a district; unlike the row, it outlives the session."""

    id: int
    code: str
    name: str


class _Generator:
    """Build the demo city with one random stream; every method flushes, none commits."""

    def __init__(
        self,
        city: str,
        firms: int,
        seed: int,
        today: date,
        checkpoint: Callable[[DemoSummary], None] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.on_checkpoint = checkpoint
        self.seed = seed
        self.city = city
        self.city_name = CITIES[city]["name"]
        self.count = firms
        self.today = today
        self.last_year = today.year - 1
        self.names: set[str] = set()
        self.name_tries = NAME_TRIES
        # A year's serials run out in a large demo: widen them with its size.
        self.certificate_serials = max(CERTIFICATE_SERIALS, min(999_999, firms))
        self.usccs = UniqueDraws(
            db.session.scalars(select(Firm.uscc).where(Firm.uscc.is_not(None)))
        )
        self.numbers = UniqueDraws()
        self.summary = DemoSummary()
        self.logins: list[DemoLogin] = []
        #: Manager id by district id.
        self.manager_of: dict[int, int] = {}
        #: Ordinary firms that may get an enterprise login: the first of each profile, and the
        #: first few, as (firm id, spec) in the order they were created.
        self.first_of_profile: dict[str, tuple[int, dict]] = {}
        self.first_firms: list[tuple[int, dict]] = []

        self.district_rows = list(
            db.session.scalars(
                select(District)
                .where(District.code.in_([d[0] for d in CITIES[city]["districts"]]))
                .order_by(District.sort_order, District.code)
            )
        )
        self.districts = [_District(d.id, d.code, d.name) for d in self.district_rows]
        park = db.session.scalar(
            select(Park).where(Park.name.in_([p for p, _ in CITIES[city]["parks"]]))
        )
        self.park_id = park.id if park is not None else None
        self.fields = dict(db.session.execute(select(TechField.code, TechField.id)).all())
        self.industries = dict(db.session.execute(select(Industry.name, Industry.id)).all())
        self.listing_stages = dict(
            db.session.execute(
                select(Stage.id, Stage.code).join(Programme).where(Programme.code == "listing")
            ).all()
        )
        self.words = [
            (word, weight, choices)
            for word, weight, choices in (*COMMON_WORDS, *CITY_WORDS[city])
            if all(name in self.industries for _, name in choices)
        ]

    # Accounts ----------------------------------------------------------------------------------

    def _user(self, username: str, role: str, **values) -> User:
        values.setdefault("name", person(self.rng)[0])
        values.setdefault("email", f"{username}@kjj.{DEMO_EMAIL_DOMAIN}")
        password = make_password(username, values["name"])
        user = User(
            username=username,
            role=role,
            phone=mobile(self.rng),
            password_changed_at=clock.utcnow(),
            **values,
        )
        user.set_password(password)
        db.session.add(user)
        self.logins.append(DemoLogin(role, username, password))
        self.summary.users += 1
        return user

    def create_staff(self) -> None:
        """Create the administrator, the bureau head and one manager per two districts."""
        self._user("admin", "admin")
        self._user("head", "bureau_head")
        managers = []
        for n, start in enumerate(range(0, len(self.district_rows), 2), start=1):
            covered = self.district_rows[start : start + 2]
            manager = self._user(f"manager{n}", "manager")
            manager.districts = covered
            managers.append((manager, covered))
        db.session.flush()
        for manager, covered in managers:
            for district in covered:
                self.manager_of[district.id] = manager.id

    def _remember(self, firm_id: int, spec: dict) -> None:
        """Keep the firm if it may get an enterprise login (see `create_enterprise_users`)."""
        kept = {k: spec[k] for k in ("profile", "is_incubator", "legal", "brand_py")}
        if len(self.first_firms) < 2 * ENTERPRISE_USERS:
            self.first_firms.append((firm_id, kept))
        if not spec["is_incubator"]:
            self.first_of_profile.setdefault(spec["profile"], (firm_id, kept))

    def create_enterprise_users(self) -> None:
        """Give a few firms their own login: a strong, a near, a middling and a far firm first."""
        ordinary = [(f, s) for f, s in self.first_firms if not s["is_incubator"]]
        ordinary = ordinary or self.first_firms
        chosen = [self.first_of_profile[p] for p in PROFILES if p in self.first_of_profile]
        chosen += [pair for pair in ordinary if pair not in chosen]
        for n, (firm_id, spec) in enumerate(chosen[:ENTERPRISE_USERS], start=1):
            self._user(
                f"firm{n}",
                "enterprise",
                name=spec["legal"],
                email=f"firm{n}@{spec['brand_py']}.{DEMO_EMAIL_DOMAIN}",
                firm_id=firm_id,
            )
        db.session.flush()

    def checkpoint(self) -> None:
        """Flush, let the caller commit, and empty the session so that memory stays bounded."""
        db.session.flush()
        if self.on_checkpoint is not None:
            self.on_checkpoint(self.summary)
        db.session.expunge_all()

    # Names and codes ---------------------------------------------------------------------------

    def _prefix(self, district: _District) -> str:
        short = self.city_name.removesuffix("市")
        if district.name.endswith("区"):
            return weighted(
                self.rng, ((self.city_name, 6), (f"广西{short}", 3), (short, 2), ("广西", 1))
            )[0]
        return district.name if self.rng.random() < 0.8 else self.city_name

    def _company_name(self, district: _District, word: str) -> tuple[str, str]:
        """Return a unique company name and the pinyin of its brand."""
        for _ in range(self.name_tries):
            brand, brand_py = self.rng.choice(BRANDS)
            suffix = "股份有限公司" if self.rng.random() < 0.12 else "有限公司"
            name = f"{self._prefix(district)}{brand}{word}{suffix}"
            if name not in self.names:
                self.names.add(name)
                return name, brand_py
        # A very large demo runs out of combinations: number the brand instead, and from now on
        # give up sooner, as the few combinations left are hard to hit.
        self.name_tries = NAME_TRIES_EXHAUSTED
        n = len(self.names) + 1
        name = f"{self.city_name}{brand}{word}{n}号有限公司"
        self.names.add(name)
        return name, brand_py

    def _uscc(self, district: _District, established: date) -> str:
        def draw() -> str:
            if established.year >= 2016:
                org = "MA" + "".join(self.rng.choices(ALPHABET, k=7))
            else:
                body = f"{self.rng.randrange(10**8):08d}"
                org = body + organisation_code_check(body)
            first17 = f"91{district.code}{org}"
            return first17 + check_character(first17)

        return self.usccs.draw(draw)

    # Firms -------------------------------------------------------------------------------------

    def _profiles(self) -> list[str]:
        counts = {p: int(self.count * PROFILE_SHARES[p]) for p in PROFILES}
        counts["mid"] += self.count - sum(counts.values())
        profiles = [p for p in PROFILES for _ in range(counts[p])]
        self.rng.shuffle(profiles)
        return profiles

    def _established(self, profile: str) -> date:
        if profile == "young":
            end = min(self.today - timedelta(days=30), date(self.last_year, 12, 31))
            return date_between(self.rng, self.today - timedelta(days=364), end)
        latest = self.last_year - (3 if profile in ("strong", "near") else 1)
        years = list(range(1998, latest + 1))
        weights = [1 + 3 * (2008 <= y <= 2021) for y in years]
        year = self.rng.choices(years, weights=weights)[0]
        return date_between(self.rng, date(year, 1, 1), date(year, 12, 31))

    def firm_specs(self) -> list[tuple]:
        """Decide every firm's profile, place, names and codes before anything is written.

        Each spec is a tuple of the values named by SPEC_KEYS, made a dict when it is written.
        """
        rng = self.rng
        district_weights = [
            3 if d.name.endswith("区") else 2 if d.name.endswith("市") else 1.2
            for d in self.districts
        ]
        incubators = 0 if self.count < 10 else 2 if self.count < 200 else 3
        specs = []
        near_seen = 0
        for index, profile in enumerate(self._profiles()):
            is_incubator = index < incubators
            if is_incubator:
                profile = "mid"
            district = rng.choices(self.districts, weights=district_weights)[0]
            if is_incubator:
                word, choices = INCUBATOR_WORD
            else:
                word, _, choices = weighted(rng, self.words, 1)
            field_code, industry_name = rng.choice(choices)
            established = self._established(profile)
            name, brand_py = self._company_name(district, word)
            misses: set[str] = set()
            if profile == "near":
                misses.add(NEAR_MISSES[near_seen % len(NEAR_MISSES)])
                if rng.random() < 0.3:
                    misses.add(rng.choice(NEAR_MISSES))
                near_seen += 1
            in_park = (
                self.park_id is not None
                and district.name.endswith("区")
                and (is_incubator or rng.random() < 0.35)
            )
            above_scale = (
                not is_incubator
                and profile != "young"
                and rng.random() < (0.16 if profile in ("strong", "mid") else 0.06)
            )
            # A tuple until its chunk is written (see SPEC_KEYS): a large demo holds every spec
            # from the start. The empty frozen set is shared.
            specs.append(
                (
                    profile,
                    frozenset(misses),
                    is_incubator,
                    district,
                    field_code,
                    industry_name,
                    established,
                    name,
                    brand_py,
                    in_park,
                    above_scale,
                )
            )
        return specs

    def _capital(self, sales: float) -> Decimal:
        options = (50, 100, 200, 300, 500, 800, 1000, 1500, 2000, 3000, 5000, 8000, 10000, 20000)
        target = sales / 10000 * self.rng.uniform(0.1, 0.6)
        close = [o for o in options if o <= max(target, 50)]
        return Decimal(self.rng.choice(close[-4:]) * 10000).quantize(Decimal("0.01"))

    def _address(self, district: _District) -> str:
        road = self.rng.choice(ROADS)
        extra = self.rng.choice(("", "", f"{self.rng.randint(1, 12)}栋", "厂区"))
        return f"{self.city_name}{district.name}{road}{self.rng.randint(1, 388)}号{extra}"

    def make_firm(self, spec: dict, incubator_ids: list[int]) -> Firm:
        """Return a new firm for `spec` (figures are added after it has an id)."""
        rng = self.rng
        district = spec["district"]
        legal, surname_py, given_py = person(rng)
        spec["legal"] = legal
        spec["legal_py"] = (surname_py, given_py)
        spec["figures"] = yearly_figures(rng, spec, self.last_year)
        latest_sales = spec["figures"][-1]["sales"] / 100 if spec["figures"] else 1e6
        incubator_id = None
        if (
            incubator_ids
            and not spec["is_incubator"]
            and spec["established"].year >= self.last_year - 6
            and latest_sales < 20e6
            and rng.random() < 0.2
        ):
            incubator_id = rng.choice(incubator_ids)
        return Firm(
            name=spec["name"],
            uscc=self._uscc(district, spec["established"]),
            legal_representative=legal,
            established_on=spec["established"],
            registered_capital=self._capital(max(latest_sales, 1e6)),
            address=self._address(district),
            district_id=district.id,
            park_id=self.park_id if spec["in_park"] else None,
            industry_id=self.industries[spec["industry"]],
            tech_field_id=self.fields[spec["field"]],
            is_above_scale=spec["above_scale"],
            is_incubator=spec["is_incubator"],
            incubator_id=incubator_id,
            manager_id=self.manager_of[district.id],
        )

    def make_former_name(self, firm: Firm, spec: dict) -> list[FirmFormerName]:
        """Return a former name for about one firm in twelve that is old enough to have one."""
        established = spec["established"]
        if self.today.year - established.year < 3 or self.rng.random() >= 0.08:
            return []
        word, _, _ = weighted(self.rng, self.words, 1)
        old, _ = self._company_name(spec["district"], word)
        changed = date_between(
            self.rng, established + timedelta(days=365), self.today - timedelta(days=60)
        )
        return [FirmFormerName(firm_id=firm.id, name=old, changed_on=changed)]

    # The whole run -----------------------------------------------------------------------------

    def create_firms(self) -> None:
        """Create the firms in chunks, each flushed with its figures, IP, tiers and contacts."""
        specs = self.firm_specs()
        incubator = SPEC_KEYS.index("is_incubator")
        incubators = self._create_batch(
            [dict(zip(SPEC_KEYS, s, strict=True)) for s in specs if s[incubator]], []
        )
        incubator_ids = [firm.id for firm, _ in incubators]
        rest = [s for s in specs if not s[incubator]]
        del specs, incubators
        self.checkpoint()
        while rest:
            # Hand each chunk's specs over, so that they are freed with the chunk's rows.
            chunk, rest = rest[:CHUNK], rest[CHUNK:]
            self._create_batch([dict(zip(SPEC_KEYS, s, strict=True)) for s in chunk], incubator_ids)
            del chunk
            self.checkpoint()
        # Every firm is written: what kept names and numbers unique is not needed any more, and
        # its memory serves the steps that follow.
        self.names.clear()
        self.usccs.used.clear()
        self.numbers.used.clear()

    def _create_batch(self, specs: list[dict], incubator_ids: list[int]) -> list[tuple[Firm, dict]]:
        batch = [(self.make_firm(s, incubator_ids), s) for s in specs]
        db.session.add_all(f for f, _ in batch)
        db.session.flush()
        rng, today = self.rng, self.today
        objects: list = []
        for firm, spec in batch:
            years = make_years(firm, spec)
            ip = make_ip(rng, firm, spec, today, self.numbers)
            quals = make_qualifications(
                rng, firm, spec, today, self.city_name, self.numbers, self.certificate_serials
            )
            # HTE certificates are dated records that certification writes as the story unfolds.
            spec["hte_certificates"] = [q for q in quals if q.tier == "hte"]
            quals = [q for q in quals if q.tier != "hte"]
            objects += years + ip + quals + make_contacts(rng, firm, spec)
            objects += self.make_former_name(firm, spec)
            coaching = make_coaching(self.seed, firm, spec, today, bool(spec["hte_certificates"]))
            objects += coaching
            self.summary.coaching_plans += sum(isinstance(o, CoachingPlan) for o in coaching)
            self.summary.activities += sum(isinstance(o, Activity) for o in coaching)
            expert = make_expert_assessment(self.seed, firm, spec)
            if expert is not None:
                objects.append(expert)
                self.summary.expert_assessments += 1
            self.summary.years += len(years)
            self.summary.ip_items += len(ip)
            self.summary.qualifications += len(quals)
        db.session.add_all(objects)
        db.session.flush()
        enrollments, certificate_events = make_enrollments(
            self.seed, batch, objects, today, self.city_name
        )
        db.session.add_all(enrollments)
        db.session.flush()
        self.summary.certificates += record_certificates(certificate_events)
        self.summary.enrollments += len(enrollments)
        db.session.add_all(make_listing_cases(self.seed, enrollments, self.listing_stages))
        entries = make_support_entries(self.seed, batch, enrollments, today, self.city_name)
        db.session.add_all(entries)
        db.session.flush()
        self.summary.support_entries += len(entries)
        self.summary.firms += len(batch)
        for firm, spec in batch:
            self._remember(firm.id, spec)
        return batch

    def create_contact_log(self, activities: int) -> None:
        """Log older contacts with the firms until they have `activities` activities in all."""
        missing = activities - self.summary.activities
        if missing > 0:
            self.summary.activities += write_contact_log(
                self.seed, missing, self.today, self.checkpoint
            )


def generate_demo(
    city: str,
    firms: int,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    *,
    activities: int | None = None,
    checkpoint: Callable[[DemoSummary], None] | None = None,
) -> DemoSummary:
    """Create the demo city: reference data, accounts and `firms` firms; flush, never commit.

    With `activities`, older contacts are logged until the firms have that many activities in
    all. `checkpoint(summary)` is called after each chunk of rows is flushed (the command commits
    there); the session is emptied after each, so the objects of one chunk never reach the next.
    """
    seed_reference_data(city)
    generator = _Generator(city, firms, seed, today or clock.today(), checkpoint)
    generator.create_staff()
    generator.create_firms()
    generator.create_enterprise_users()
    if activities is not None:
        generator.create_contact_log(activities)
    generator.summary.duties = make_duties(seed, generator.today, generator.checkpoint)
    generator.summary.portal_requests = make_portal_requests(generator.today)
    generator.checkpoint()
    generator.summary.logins = generator.logins
    return generator.summary

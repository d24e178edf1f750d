"""Harbour & Vine's channel data: seven sources, one population, and the truth about who is who.

`generate_channels` writes the files a real company would have (web and app event streams,
the email service's events, social page leads, a service-desk export, a CRM export, the ideas
portal) for a seeded population of people, and keeps the ground truth apart in `.demo-truth/`:
which person each stored record belongs to, and the traps planted for identity resolution
(issue 4). `build_channels` then adds the sources with their owning functions and ingests every
file through the same file import `tandem ingest` uses.

The same person appears under different ids in different channels:

- web: an anonymous visitor (anonymousId per browser) who later logs in (identify with userId
  and that anonymousId); some visitors never log in and exist only there;
- app: an install (anonymousId + context.device.id) whose owner logs in; some installs never do;
  a few shop tablets (one device id, one install) are used by many customers to log in;
- email: the email service's subscriber id with the address in traits;
- social: a page-scoped id and handle; half of them leave their email in a lead form;
- service: tickets with a name, a phone in another format, an email or a handle;
- crm: loyalty records with the shop account id, some with a typo in the name or a swapped digit
  in the postcode, a few entered twice without any shared identifier, families sharing an email;
- ideas: the innovation portal, logged in with the shop account.

Everything is drawn from the seed: the same seed and date give byte-identical files and truth.
"""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import yaml

from tandem.demo.people import (
    PERSONAS,
    Population,
    generate_population,
    name_typo,
    phone_formats,
    second_emails,
    swap_postcode_digits,
)
from tandem.errors import InvalidValue

if TYPE_CHECKING:
    from tandem.workspace import Workspace

CHANNELS_DIR = "channels"
TRUTH_DIR = ".demo-truth"
WINDOW_DAYS = 365
_UUID4_BITS = (0x4 << 76) | (0x8 << 60)  # version 4, RFC 4122 variant
_UUID4_CLEAR = (0xF << 76) | (0x3 << 62)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    kind: str
    owners: tuple[str, ...]
    file: str
    format: str
    mapping: str | None = None


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec("web", "web", ("marketing", "digital"), "web.ndjson", "ndjson"),
    SourceSpec("app", "app", ("digital", "it"), "app.ndjson", "ndjson"),
    SourceSpec("email", "email", ("marketing",), "email.ndjson", "ndjson"),
    SourceSpec("social", "social", ("marketing", "pr"), "social.ndjson", "ndjson"),
    SourceSpec(
        "service", "service", ("customer-service",), "service.csv", "csv", "service.mapping.yaml"
    ),
    SourceSpec(
        "crm", "crm", ("marketing", "it", "customer-service"), "crm.csv", "csv", "crm.mapping.yaml"
    ),
    SourceSpec("ideas", "ideas", ("innovation",), "ideas.ndjson", "ndjson"),
)
"""The demo's sources, their owning functions (keys of `demo/company.py`) and their files."""

# -- what people do --------------------------------------------------------------------------
# Month weights (January first) per persona: gardeners buy in spring, home-makers before
# Christmas, bargain hunters in the January sales and around Black Friday.
SEASONS = np.array(
    [
        [0.5, 0.6, 1.4, 2.0, 2.2, 1.8, 1.2, 0.9, 0.8, 0.6, 0.5, 0.6],
        [0.8, 0.7, 0.8, 0.8, 0.8, 0.8, 0.8, 0.9, 1.0, 1.3, 1.8, 2.0],
        [2.2, 1.0, 0.8, 0.8, 0.8, 0.9, 1.2, 0.8, 0.8, 0.9, 2.2, 1.4],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        [0.8, 0.7, 0.9, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 1.0, 1.2, 1.7],
    ]
)
# Per persona (order of PERSONAS): gardener, home-maker, bargain-hunter, app-loyalist, occasional
P_ACCOUNT = np.array([0.6, 0.6, 0.7, 1.0, 0.4])
P_APP = np.array([0.15, 0.2, 0.25, 0.95, 0.08])
P_CRM = np.array([0.75, 0.6, 0.5, 0.4, 0.5])
P_SOCIAL = np.array([0.15, 0.25, 0.2, 0.3, 0.1])
P_SUBSCRIBE = np.array([0.6, 0.6, 0.85, 0.5, 0.4])
P_OPEN = np.array([0.3, 0.25, 0.45, 0.15, 0.12])
WEB_SESSIONS = np.array([4.0, 3.5, 5.0, 1.5, 1.2])
APP_SESSIONS = np.array([2.5, 2.5, 3.0, 6.0, 1.0])
P_ORDER = (0.2, 0.18, 0.25, 0.22, 0.12)
BASKET_MEAN = (68.0, 92.0, 24.0, 41.0, 55.0)
FAVOURITE = ("garden", "home", "garden", "home", "home")

CATEGORIES = {
    "garden": (
        ("Terracotta pot, 30 cm", 14.99),
        ("Rose 'Harbour Blush'", 12.5),
        ("Raised bed kit", 89.0),
        ("Hose reel with 25 m hose", 39.99),
        ("Peat-free compost, 50 l", 8.99),
        ("Olive tree, 1.2 m", 64.0),
        ("Stainless steel trowel", 11.99),
        ("Bird feeder station", 27.5),
    ),
    "home": (
        ("Linen cushion cover", 18.0),
        ("Rattan lamp shade", 34.99),
        ("Stoneware dinner set", 79.0),
        ("Wool throw", 49.99),
        ("Scented candle, fig", 12.99),
        ("Oak side table", 149.0),
        ("Bath towel set", 29.99),
        ("Wall mirror, round", 69.0),
    ),
    "outdoor living": (
        ("Bistro set", 129.0),
        ("Fire pit", 99.0),
        ("Solar lanterns, set of 4", 24.99),
        ("Parasol, 2.7 m", 59.0),
    ),
}
PRODUCTS: tuple[tuple[str, str, str, float], ...] = tuple(
    (f"SKU-{i + 1:04d}", name, category, price)
    for i, (category, name, price) in enumerate(
        (c, n, p) for c, items in CATEGORIES.items() for n, p in items
    )
)
PRODUCTS_BY_CATEGORY: dict[str, list[int]] = {
    c: [i for i, p in enumerate(PRODUCTS) if p[2] == c] for c in CATEGORIES
}
WEB_PAGES = (
    ("/", "Harbour & Vine: home and garden"),
    ("/garden", "Garden"),
    ("/home", "Home"),
    ("/outdoor-living", "Outdoor living"),
    ("/offers", "Offers"),
    ("/inspiration/spring-planting", "Spring planting guide"),
    ("/stores", "Find a store"),
    ("/harbour-club", "The Harbour Club"),
)
APP_SCREENS = ("Home", "Search", "Product", "Basket", "Harbour Club Card", "Store Finder")
TABLET_SCREENS = ("Click & Collect", "Order Lookup")
EMAIL_TOPICS = (
    "January sale: up to 50% off",
    "Plan your spring garden",
    "Seeds and bulbs are in",
    "Easter in the garden",
    "Bank holiday garden offers",
    "Summer outdoor living",
    "Summer sale starts now",
    "Back to home: autumn refresh",
    "Bulbs for next spring",
    "Black Friday preview",
    "Christmas gifts for gardeners",
    "Last order dates for Christmas",
)
IDEA_TITLES = (
    "Refill station for compost in store",
    "Plant care reminders in the app",
    "Pot recycling scheme",
    "Evening click & collect slots",
    "Workshops for new gardeners",
    "Rent garden tools",
    "Show stock per store in the app",
    "Loyalty points for returning pots",
)
TICKET_SUBJECTS = (
    ("delivery", "Where is my order?"),
    ("delivery", "Delivery arrived damaged"),
    ("returns", "How do I return a plant?"),
    ("returns", "Refund not received"),
    ("loyalty", "Points missing from my card"),
    ("product", "Question about the raised bed kit"),
    ("click-and-collect", "Collection slot changed"),
    ("account", "Cannot log in to my account"),
)

SERVICE_MAPPING: dict[str, Any] = {
    "record_id": "ticket_id",
    "timestamp": "opened_at",
    "traits": {
        "name": "customer_name",
        "channel": "channel",
        "category": "category",
        "subject": "subject",
        "status": "status",
        "satisfaction": "satisfaction",
    },
    "identifiers": [
        {"column": "email", "type": "email"},
        {"column": "phone", "type": "phone"},
        {"column": "handle", "type": "social", "trait": "handle"},
    ],
}
CRM_MAPPING: dict[str, Any] = {
    "record_id": "crm_id",
    "timestamp": "updated_at",
    "traits": {
        "firstName": "first_name",
        "lastName": "last_name",
        "birthday": "date_of_birth",
        "street": "street",
        "city": "town",
        "postalCode": "postcode",
        "loyaltyTier": "loyalty_tier",
        "marketingOptIn": "marketing_opt_in",
        "createdAt": "joined_on",
    },
    "identifiers": [
        {"column": "email", "type": "email"},
        {"column": "phone", "type": "phone"},
        {"column": "account_id", "type": "customer_id", "trait": "accountId"},
    ],
}
"""Mappings in the format of `tandem.customers.mapping` (docs/ingest.md): each row becomes an
identify message with userId `<source>:<record id>`."""

# -- traps planted for identity resolution ---------------------------------------------------
TRAPS: dict[str, str] = {
    "web_anonymous_then_login": "people whose web browsing starts anonymous and who later log "
    "in (identify with userId + the earlier anonymousId)",
    "web_two_browsers": "people who use two browsers (two anonymousIds, both logged in later)",
    "web_anonymous_only": "people who only ever browse the web anonymously (one channel only)",
    "app_device_login": "people whose app install (anonymousId + device id) later logs in",
    "app_device_only": "app installs that never log in (one channel only)",
    "shop_tablet": "shop tablets: one device id and one anonymousId used by many customers to "
    "log in (over-merge trap: these ids must not join their users)",
    "social_email_capture": "people who left their email in a social lead form (social identify "
    "with handle + email); the address links them to the email service or the CRM",
    "social_only": "people known only by a social handle (one channel only)",
    "crm_name_typo": "CRM records whose first or last name has a keying error",
    "crm_postcode_swap": "CRM records whose postcode has its two outward digits swapped",
    "crm_duplicate": "people with a second CRM record entered without email, phone or account "
    "(name typo and/or swapped postcode, same birth date and street): only a probabilistic "
    "match can join it",
    "two_emails": "people who use a work email for their shop account and a personal one in the "
    "CRM (linked by the account id in the CRM record)",
    "family_email": "households of 3-5 people whose CRM records share one family email (over-merge "
    "trap: the address must not join them)",
    "service_phone_format": "service tickets whose phone is written differently from the CRM "
    "(+44 7912 345678 / 07912345678 vs 07912 345678)",
    "service_phone_only": "service tickets with a phone and a name but no email",
    "namesakes": "people who share a first and last name with someone else (different people)",
}


# -- the generated data ----------------------------------------------------------------------
@dataclass
class SourceData:
    """One source's generated file, its truth rows and the counts the import must give."""

    spec: SourceSpec
    path: Path
    rows: int
    expected_rejected: int
    expected_duplicates: int
    record_ids: list[str]
    person_index: list[int]

    @property
    def expected_accepted(self) -> int:
        return self.rows - self.expected_rejected - self.expected_duplicates


@dataclass
class ChannelData:
    """What `generate_channels` wrote: the files, the truth and its summary."""

    directory: Path
    sources: list[SourceData]
    truth: dict[str, Any]

    def source(self, name: str) -> SourceData:
        return next(s for s in self.sources if s.spec.name == name)


@dataclass(frozen=True)
class SourceResult:
    name: str
    kind: str
    owners: tuple[str, ...]
    file: Path
    rows: int
    accepted: int
    rejected: int
    duplicates: int


@dataclass
class ChannelSummary:
    """What `build_channels` did: people, and per source the rows written and the import."""

    people: int
    sources: list[SourceResult] = field(default_factory=list)
    truth_dir: Path | None = None
    generate_seconds: float = 0.0
    ingest_seconds: float = 0.0

    @property
    def accepted(self) -> int:
        return sum(s.accepted for s in self.sources)

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.sources)

    @property
    def duplicates(self) -> int:
        return sum(s.duplicates for s in self.sources)

    @property
    def rows(self) -> int:
        return sum(s.rows for s in self.sources)

    def lines(self) -> list[str]:
        """The lines `tandem demo` prints."""
        names = ", ".join(s.name for s in self.sources)
        out = [
            f"customers: {self.people:,} {'person' if self.people == 1 else 'people'} across "
            f"{len(self.sources)} sources ({names})",
            f"events: {self.rows:,} rows read, {self.accepted:,} accepted, "
            f"{self.rejected:,} rejected (quarantined), {self.duplicates:,} duplicates",
        ]
        out += [
            f"  {s.name:<8} {s.rows:>9,} rows  {s.accepted:>9,} accepted  {s.rejected:>4} "
            f"rejected  {s.duplicates:>4} duplicates  owners: {', '.join(s.owners)}"
            for s in self.sources
        ]
        if self.truth_dir is not None:
            out.append(f"ground truth (never ingested): {self.truth_dir}")
        return out


# -- entry points ----------------------------------------------------------------------------
def build_channels(
    workspace: Workspace, *, customers: int, seed: int, as_of: date | None = None
) -> ChannelSummary:
    """Write the demo's channel files, add the sources and ingest every file."""
    started = time.perf_counter()
    data = generate_channels(workspace.root, customers=customers, seed=seed, as_of=as_of)
    summary = ChannelSummary(people=customers, truth_dir=workspace.root / TRUTH_DIR)
    summary.generate_seconds = time.perf_counter() - started
    for source in data.sources:
        spec = source.spec
        workspace.sources.add(spec.name, kind=spec.kind, owners=list(spec.owners))
        accepted, rejected, duplicates = _ingest(workspace, source)
        summary.sources.append(
            SourceResult(
                spec.name,
                spec.kind,
                spec.owners,
                source.path,
                source.rows,
                accepted,
                rejected,
                duplicates,
            )
        )
    summary.ingest_seconds = time.perf_counter() - started - summary.generate_seconds
    return summary


def _ingest(workspace: Workspace, source: SourceData) -> tuple[int, int, int]:
    """Import one file through the real file ingest (the function `tandem ingest` calls)."""
    from tandem.customers.ingest import ingest_file
    from tandem.customers.mapping import Mapping

    spec = source.spec
    mapping = Mapping.read(source.path.parent / spec.mapping) if spec.mapping else None
    result = ingest_file(
        workspace.lake, source.path, source=spec.name, format=spec.format, mapping=mapping
    )
    return result.accepted, result.rejected, result.duplicates


def generate_channels(
    root: Path, *, customers: int, seed: int, as_of: date | None = None
) -> ChannelData:
    """Write `<root>/channels/*` and `<root>/.demo-truth/*` for `customers` people."""
    if customers < 0:
        raise InvalidValue("the number of customers cannot be negative", field="customers")
    as_of = as_of or datetime.now(UTC).date()
    generator = _Generator(customers, seed, as_of)
    channels = root / CHANNELS_DIR
    channels.mkdir(parents=True, exist_ok=True)
    sources = generator.write(channels)
    truth = generator.write_truth(root / TRUTH_DIR, sources)
    return ChannelData(channels, sources, truth)


def load_truth(workspace_root: Path | str) -> tuple[pa.Table, dict[str, Any]]:
    """The demo's ground truth: (identities table, truth.json summary).

    The table has one row per record the import stores: `source`, `record_id` (the mapped
    record id for CRM and service rows, the messageId for events), `person_id`, and `kind`
    (`record` or `event`). `traps.parquet` beside it lists the records of every planted trap.
    """
    folder = Path(workspace_root) / TRUTH_DIR
    if not (folder / "truth.json").is_file():
        raise InvalidValue(
            f"{folder} holds no demo ground truth; build a demo with `tandem demo`",
            field="workspace",
        )
    summary = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return pq.read_table(folder / "identities.parquet"), summary


def load_people(workspace_root: Path | str) -> pa.Table:
    """The true people: `person_id`, `persona`, `lapsed`, names, `birth_date`, `email`,
    `account_email`, `phone` (E.164), `street`, `town`, `postcode`, `handle`, `account_id`."""
    return pq.read_table(Path(workspace_root) / TRUTH_DIR / "people.parquet")


def load_traps(workspace_root: Path | str) -> pa.Table:
    """The planted traps: `trap`, `group` (the shared value or the person), `person_id`,
    `source`, `record_id`."""
    return pq.read_table(Path(workspace_root) / TRUTH_DIR / "traps.parquet")


# -- the generator ---------------------------------------------------------------------------
class _Stream:
    """One event source's messages with their truth, written as NDJSON.

    Messages are kept encoded (bytes, about a third of a dict's memory) with placeholders for the
    messageId and timestamp, which are filled in when the stream is sorted and written."""

    def __init__(self, spec: SourceSpec):
        self.spec = spec
        self.lines: list[bytes] = []
        self.ids: list[str | None] = []
        self.people: list[int] = []
        self.times: list[float] = []

    def add(self, person: int, t: float, line: bytes, message_id: str | None) -> None:
        self.lines.append(line)
        self.ids.append(message_id)
        self.people.append(person)
        self.times.append(t)


_ID = "@@messageId@@"
_TIME = "@@timestamp@@"
_ENCODE = msgspec.json.Encoder().encode


class _Generator:
    """Draws the people, their roles and every channel's data from one seed."""

    def __init__(self, n: int, seed: int, as_of: date):
        self.n = n
        self.seed = seed
        self.as_of = as_of
        self.end = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
        self.start = self.end - timedelta(days=WINDOW_DAYS)
        self.np = np.random.default_rng([seed, 20261123])
        self.py = random.Random(f"tandem-demo-{seed}")
        self._days = [
            (self.start.date() + timedelta(days=d)).isoformat() for d in range(WINDOW_DAYS + 1)
        ]
        self.pop: Population = generate_population(n, self.np, as_of=as_of)
        self.traps: list[tuple[str, str, int, str, str]] = []  # trap, group, person, source, id
        self.clicks: dict[int, list[tuple[float, dict[str, str]]]] = {}
        self._roles()

    # -- who is where ------------------------------------------------------------------------
    def _roles(self) -> None:
        n, rand, persona = self.n, self.np.random, self.pop.persona
        self.anon_only = rand(n) < 0.07
        self.device_only = ~self.anon_only & (rand(n) < 0.03)
        rest = ~(self.anon_only | self.device_only)
        self.account = rest & (rand(n) < P_ACCOUNT[persona])
        self.app = self.account & (rand(n) < P_APP[persona])
        self.crm = rest & (rand(n) < P_CRM[persona])
        self.social = rest & (rand(n) < P_SOCIAL[persona])
        self.social_email = self.social & (rand(n) < 0.5)
        self.crm_opt_in = self.crm & (rand(n) < 0.6)
        self.service = rest & (rand(n) < 0.14)
        self.ideas = self.account & (rand(n) < 0.05)
        nowhere = rest & ~(self.account | self.crm | self.social | self.service)
        self.crm |= nowhere
        self.two_emails = self.account & self.crm & (rand(n) < 0.12)
        self.phone_in_account = self.account & (rand(n) < 0.4)
        self.account_id = [
            f"hv-{self.py.getrandbits(40):010x}" if self.account[i] else "" for i in range(n)
        ]
        self.work_email = second_emails(self.np, self.pop.first_name, self.pop.last_name)
        self._families()
        self.subscriber = (
            (self.account & (rand(n) < P_SUBSCRIBE[persona]))
            | self.social_email
            | (self.crm_opt_in & ~self.account & ~self.in_family)
        )
        self.subscriber_id = [
            f"sub_{self.py.getrandbits(48):012x}" if self.subscriber[i] else "" for i in range(n)
        ]
        # Social fans who leave no email but use other channels reach service through social
        # care, with their handle: that ticket is what links them.
        self.social_care = self.social & ~self.social_email & (self.account | self.crm)
        self.service |= self.social_care

    def _families(self) -> None:
        """Households of 3-5 people sharing a surname, an address and a family email in the CRM."""
        pop, n = self.pop, self.n
        self.in_family = np.zeros(n, dtype=bool)
        self.family_email: dict[int, str] = {}
        candidates = [int(i) for i in np.flatnonzero(self.crm & ~self.two_emails)]
        households = max(2, round(n * 0.006)) if n >= 50 else 0
        self.py.shuffle(candidates)
        for h in range(households):
            size = 3 + h % 3
            if len(candidates) < size:
                break
            members, candidates = candidates[:size], candidates[size:]
            head = members[0]
            surname = pop.last_name[head]
            address = f"the{surname.lower()}family{h + 1}@{pop.email[head].split('@')[1]}"
            for m in members:
                pop.last_name[m] = surname
                pop.street[m], pop.town[m] = pop.street[head], pop.town[head]
                pop.postcode[m] = pop.postcode[head]
                # Their own address under the family name (the person number keeps it unique).
                local = f"{pop.first_name[m].lower()}.{surname.lower()}.{m}"
                pop.email[m] = f"{local}@{pop.email[m].split('@')[1]}"
                self.in_family[m] = True
                self.family_email[m] = address

    def _trap(self, trap: str, group: str, person: int, source: str, record: str) -> None:
        self.traps.append((trap, group, person, source, record))

    def account_email(self, i: int) -> str:
        return self.work_email[i] if self.two_emails[i] else self.pop.email[i]

    def known_email(self, i: int) -> str | None:
        """The address another channel shows for person i, if any."""
        if self.account[i]:
            return self.account_email(i)
        if self.subscriber[i] or (self.crm[i] and not self.in_family[i]):
            return self.pop.email[i]
        return None

    # -- time ---------------------------------------------------------------------------------
    def session_times(self, people: np.ndarray) -> np.ndarray:
        """One session start (seconds since the window start) per entry of `people`."""
        days = np.arange(WINDOW_DAYS)
        dates = np.datetime64(self.start.date()) + days
        months = dates.astype("datetime64[M]").astype(int) % 12
        weekend = ((dates.astype("datetime64[D]").astype(int) + 3) % 7) >= 5
        out = np.zeros(len(people), dtype=np.int64)
        persona = self.pop.persona[people]
        lapsed = self.pop.lapsed[people]
        for p in range(len(PERSONAS)):
            for is_lapsed in (False, True):
                chosen = np.flatnonzero((persona == p) & (lapsed == is_lapsed))
                if not len(chosen):
                    continue
                weights = SEASONS[p][months] * np.where(weekend, 1.3, 1.0)
                if is_lapsed:
                    weights = weights * (days < WINDOW_DAYS * 0.45)
                day = self.np.choice(days, size=len(chosen), p=weights / weights.sum())
                out[chosen] = day * 86400
        hours = np.clip(self.np.normal(19, 3.5, len(people)), 7, 23.9)
        return out + (hours * 3600).astype(np.int64)

    def iso(self, seconds: float) -> str:
        """ISO-8601 UTC with milliseconds, `seconds` after the window start (fast path)."""
        millis = int(seconds * 1000)
        day, rest = divmod(millis, 86_400_000)
        if not 0 <= day < len(self._days):
            moment = self.start + timedelta(milliseconds=millis)
            return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        hour, rest = divmod(rest, 3_600_000)
        minute, rest = divmod(rest, 60_000)
        second, milli = divmod(rest, 1000)
        return f"{self._days[day]}T{hour:02d}:{minute:02d}:{second:02d}.{milli:03d}Z"

    def uid(self) -> str:
        """A random (seeded) UUID version 4, as text."""
        h = f"{(self.py.getrandbits(128) & ~_UUID4_CLEAR) | _UUID4_BITS:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _iso_many(self, seconds: np.ndarray) -> list[str]:
        """`iso` for many times at once (numpy datetime64 formatting)."""
        start = np.datetime64(self.start.replace(tzinfo=None), "ms")
        moments = start + (seconds * 1000).astype(np.int64).astype("timedelta64[ms]")
        return [f"{text}Z" for text in np.datetime_as_string(moments, unit="ms").tolist()]

    def _uuids(self, n: int) -> list[str]:
        """`n` random (seeded) UUID version 4 texts at once."""
        raw = np.frombuffer(self.np.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
        h = raw.tobytes().hex()
        return [
            f"{h[i : i + 8]}-{h[i + 8 : i + 12]}-{h[i + 12 : i + 16]}-{h[i + 16 : i + 20]}-"
            f"{h[i + 20 : i + 32]}"
            for i in range(0, 32 * n, 32)
        ]

    def _below(self, k: int) -> int:
        """A seeded integer in [0, k) (faster than random.randrange for the hot loops)."""
        return int(self.py.random() * k)

    def _int(self, a: int, b: int) -> int:
        """A seeded integer in [a, b]."""
        return a + int(self.py.random() * (b - a + 1))

    # -- writing ------------------------------------------------------------------------------
    def write(self, folder: Path) -> list[SourceData]:
        specs = {s.name: s for s in SOURCES}
        # Email first: its clicks bring people to the web shop. Each stream is written before the
        # next is drawn, so only one is held in memory.
        email = self._write_stream(folder, self._email(specs["email"]), bad=True)
        out = [
            self._write_stream(folder, self._web(specs["web"]), bad=True),
            self._write_stream(folder, self._app(specs["app"]), bad=True),
            email,
            self._write_stream(folder, self._social(specs["social"]), bad=False),
            self._write_table(folder, specs["service"], *self._service(), SERVICE_MAPPING),
            self._write_table(folder, specs["crm"], *self._crm(), CRM_MAPPING),
            self._write_stream(folder, self._ideas(specs["ideas"]), bad=False),
        ]
        self._namesakes()
        self._social_only(out)
        return out

    def _social_only(self, sources: list[SourceData]) -> None:
        seen: dict[int, set[str]] = {}
        for source in sources:
            for person in set(source.person_index):
                seen.setdefault(person, set()).add(source.spec.name)
        for person in np.flatnonzero(self.social).tolist():
            if seen.get(person) == {"social"}:
                self._trap("social_only", f"@{self.pop.handle[person]}", person, "social", "")

    def _write_stream(self, folder: Path, stream: _Stream, *, bad: bool) -> SourceData:
        """Sort by time, plant bad rows and re-sent duplicates, write NDJSON."""
        times = np.asarray(stream.times, dtype=np.float64)
        order = np.argsort(times, kind="stable").tolist()
        stamps = self._iso_many(times[order])
        fresh_ids = self._uuids(len(order))
        # The timestamp is the last key: filling it in also ends the line.
        id_token, time_token = _ENCODE(_ID), _ENCODE(_TIME) + b"}"
        lines: list[bytes] = []
        record_ids: list[str] = []
        for j, k in enumerate(order):
            message_id = stream.ids[k] or fresh_ids[j]
            line = stream.lines[k].replace(time_token, b'"' + stamps[j].encode() + b'"}\n', 1)
            if stream.ids[k] is None:
                line = line.replace(id_token, b'"' + message_id.encode() + b'"', 1)
            lines.append(line)
            record_ids.append(message_id)
        people = [stream.people[k] for k in order]
        stream.lines.clear()
        rejected = duplicates = 0
        if bad and lines:
            rejected, duplicates = self._plant_bad_rows(stream.spec.name, lines)
        path = folder / stream.spec.file
        with path.open("wb") as f:
            f.writelines(lines)
        return SourceData(stream.spec, path, len(lines), rejected, duplicates, record_ids, people)

    def _plant_bad_rows(self, source: str, lines: list[bytes]) -> tuple[int, int]:
        """A few rows missing both ids or with a malformed timestamp, and re-sent duplicates.

        Bad rows are inserted at seeded positions; duplicates repeat an earlier line exactly
        (same messageId), as a client that retries a batch would."""
        rows = len(lines)
        missing = max(1, rows // 2500)
        malformed = max(1, rows // 2500)
        resent = max(2, rows // 500)
        bad: list[bytes] = []
        for k in range(missing):
            message = msgspec.json.decode(lines[self._below(rows)])
            message.pop("userId", None)
            message.pop("anonymousId", None)
            message["messageId"] = f"{source}-bad-ids-{k}"
            bad.append(msgspec.json.encode(message) + b"\n")
        stamps = ("2026-02-30T10:00:00Z", "yesterday 10am", "31/12/2025 23:59", "")
        for k in range(malformed):
            message = msgspec.json.decode(lines[self._below(rows)])
            message["timestamp"] = stamps[k % len(stamps)] or "not a date"
            message["messageId"] = f"{source}-bad-time-{k}"
            bad.append(msgspec.json.encode(message) + b"\n")
        # Insert before positions of the original file (0..rows), then rebuild in one pass.
        inserts: dict[int, list[bytes]] = {}
        for line in bad:
            inserts.setdefault(self._below(rows + 1), []).append(line)
        for original in sorted(self.py.sample(range(rows), min(resent, rows))):
            later = self._int(original + 1, rows)
            inserts.setdefault(later, []).append(lines[original])
        planted = [*lines, b""]
        lines.clear()
        for position, line in enumerate(planted):
            lines.extend(inserts.get(position, ()))
            if position < rows:
                lines.append(line)
        return len(bad), min(resent, rows)

    def _write_table(
        self,
        folder: Path,
        spec: SourceSpec,
        columns: dict[str, list[str]],
        people: list[int],
        mapping: dict[str, Any],
    ) -> SourceData:
        # A missing value is an empty field (`"a",,"b"`), not an empty text (`"a","","b"`).
        table = pa.table(
            {k: pa.array([x or None for x in v], pa.string()) for k, v in columns.items()}
        )
        path = folder / spec.file
        pacsv.write_csv(table, path)
        assert spec.mapping is not None
        text = (
            f"# How `tandem ingest {spec.file} --source {spec.name}` reads this export: each row\n"
            "# becomes an identify message for the record id, with traits and identifiers.\n"
        ) + yaml.safe_dump(mapping, sort_keys=False)
        (folder / spec.mapping).write_text(text, encoding="utf-8")
        record_id_column = mapping["record_id"]
        return SourceData(spec, path, len(people), 0, 0, list(columns[record_id_column]), people)

    # -- message helpers ------------------------------------------------------------------
    def _add(
        self,
        stream: _Stream,
        person: int,
        kind: str,
        ids: dict[str, str],
        t: float,
        **fields: Any,
    ) -> str:
        """Queue one message; its time is formatted and, unless it is an identify (whose id
        the traps record), its messageId drawn when the stream is written."""
        message_id = self.uid() if kind == "identify" else None
        message = {
            "type": kind,
            "messageId": message_id or _ID,
            **ids,
            **fields,
            "timestamp": _TIME,
        }
        stream.add(person, t, _ENCODE(message), message_id)
        return message_id or ""

    def _count(self, mean: float) -> int:
        """A Poisson draw from the fast scalar generator (Knuth; fine for small means)."""
        limit, k, p = math.exp(-mean), 0, self.py.random()
        while p > limit:
            k += 1
            p *= self.py.random()
        return k

    def _product(self, persona: int) -> int:
        if self.py.random() < 0.7:
            choices = PRODUCTS_BY_CATEGORY[FAVOURITE[persona]]
            return choices[self._below(len(choices))]
        return self._below(len(PRODUCTS))

    def _shop(
        self,
        stream: _Stream,
        person: int,
        ids: dict[str, str],
        t: float,
        context: dict[str, Any],
        *,
        known: bool,
        app: bool = False,
        campaign: bool = False,
    ) -> float:
        """Product views, maybe a basket, maybe an order (only when the shopper is logged in).

        A visit from an email campaign's link views more products and converts more often."""
        persona = int(self.pop.persona[person])
        cart: list[dict[str, Any]] = []
        for _ in range(self._count(2.4 if campaign else 1.6)):
            t += self._int(15, 180)
            sku, name, category, price = PRODUCTS[self._product(persona)]
            product = {"product_id": sku, "name": name, "category": category, "price": price}
            if app:
                self._add(
                    stream,
                    person,
                    "screen",
                    ids,
                    t,
                    name="Product",
                    properties={"product_id": sku},
                    context=context,
                )
                t += self._int(2, 10)
            self._add(
                stream,
                person,
                "track",
                ids,
                t,
                event="Product Viewed",
                properties={**product, "currency": "GBP"},
                context=context,
            )
            if self.py.random() < 0.3:
                t += self._int(10, 60)
                quantity = 2 if self.py.random() < 0.2 else 1
                cart.append({**product, "quantity": quantity})
                self._add(
                    stream,
                    person,
                    "track",
                    ids,
                    t,
                    event="Added to Cart",
                    properties={**product, "quantity": quantity, "currency": "GBP"},
                    context=context,
                )
        if (
            cart
            and known
            and self.py.random() < min(0.9, P_ORDER[persona] * (4.5 if campaign else 3))
        ):
            t += self._int(60, 400)
            discount = 0.3 if persona == PERSONAS.index("bargain-hunter") else 0.0
            revenue = round(sum(p["price"] * p["quantity"] for p in cart) * (1 - discount), 2)
            self.orders += 1
            self._add(
                stream,
                person,
                "track",
                ids,
                t,
                event="Order Completed",
                properties={
                    "order_id": f"HV-{400000 + self.orders}",
                    "revenue": revenue,
                    "currency": "GBP",
                    "discount": discount,
                    "products": cart,
                },
                context=context,
            )
        return t

    def _first_visits(self, sessions: list[tuple[float, str]]) -> dict[str, float]:
        """The session where each browser or device logs in: its second visit, or its only one."""
        by_device: dict[str, list[float]] = {}
        for start, device in sorted(sessions):
            by_device.setdefault(device, []).append(start)
        return {d: (s[1] if len(s) > 1 else s[0]) for d, s in by_device.items()}

    def _sessions(self, people: np.ndarray, rate: np.ndarray) -> dict[int, list[float]]:
        """Session start times per person (1 + Poisson(rate) sessions, seasonal days)."""
        counts = self.np.poisson(rate) + 1
        owner = np.repeat(people, counts)
        starts = self.session_times(owner)
        out: dict[int, list[float]] = {}
        for person, start in zip(owner.tolist(), starts.tolist(), strict=True):
            out.setdefault(person, []).append(start)
        return out

    # -- web ------------------------------------------------------------------------------
    def _web(self, spec: SourceSpec) -> _Stream:
        stream = _Stream(spec)
        self.orders = 0
        visitors = np.flatnonzero(self.account | self.anon_only)
        rate = np.where(self.anon_only[visitors], 1.0, WEB_SESSIONS[self.pop.persona[visitors]])
        two_browsers = self.np.random(self.n) < 0.3
        for person, starts in self._sessions(visitors, rate).items():
            browsers = [self.uid()]
            if self.account[person] and two_browsers[person] and len(starts) > 2:
                browsers.append(self.uid())
            visits = [
                (start, browsers[k % len(browsers)]) for k, start in enumerate(sorted(starts))
            ]
            clicks = self.clicks.get(person, [])
            visits += [(start, browsers[0]) for start, _ in clicks]
            campaigns = dict(clicks)
            logins = self._first_visits(visits) if self.account[person] else {}
            for start, browser in sorted(visits):
                login = logins.get(browser)
                mode = (
                    "anonymous"
                    if login is None or start < login
                    else "login"
                    if start == login
                    else "known"
                )
                self._web_session(stream, person, browser, start, mode, campaigns.get(start))
            if self.anon_only[person]:
                self._trap("web_anonymous_only", browsers[0], person, "web", "")
            elif len(browsers) == 2:
                self._trap("web_two_browsers", " ".join(browsers), person, "web", "")
        return stream

    def _web_session(
        self,
        stream: _Stream,
        person: int,
        browser: str,
        t: float,
        mode: str,
        campaign: dict[str, str] | None = None,
    ) -> None:
        context: dict[str, Any] = {
            "library": {"name": "analytics.js", "version": "next-1.70.0"},
            "locale": "en-GB",
        }
        ids = {"anonymousId": browser}
        if mode == "known":
            ids["userId"] = self.account_id[person]
        if campaign is not None:
            context["campaign"] = {
                "name": campaign["campaign_name"],
                "source": "newsletter",
                "medium": "email",
                "content": campaign["campaign_id"],
            }
        for k in range(1 + self._count(1.2)):
            path, title = WEB_PAGES[self._below(len(WEB_PAGES))]
            if campaign is not None and k == 0:
                path, title = "/offers", "Offers"
            self._add(
                stream,
                person,
                "page",
                ids,
                t,
                name=title,
                context=context,
                properties={
                    "path": path,
                    "url": f"https://harbourandvine.example{path}",
                    "title": title,
                },
            )
            t += self._int(10, 120)
        if mode == "login":
            ids = {"anonymousId": browser, "userId": self.account_id[person]}
            message_id = self._add(
                stream, person, "identify", ids, t, traits=self._traits(person), context=context
            )
            self._trap("web_anonymous_then_login", browser, person, "web", message_id)
        self._shop(
            stream,
            person,
            ids,
            t,
            context,
            known=mode != "anonymous",
            campaign=campaign is not None,
        )

    def _traits(self, person: int) -> dict[str, Any]:
        pop = self.pop
        traits: dict[str, Any] = {
            "email": self.account_email(person),
            "firstName": pop.first_name[person],
            "lastName": pop.last_name[person],
        }
        if self.phone_in_account[person]:
            traits["phone"] = phone_formats(pop.phone[person])["e164"]
        return traits

    # -- app ------------------------------------------------------------------------------
    def _device(self) -> dict[str, Any]:
        if self.py.random() < 0.55:
            return {
                "id": str(uuid.UUID(int=self.py.getrandbits(128))).upper(),
                "manufacturer": "Apple",
                "model": "iPhone15,3",
                "type": "ios",
            }
        return {
            "id": f"{self.py.getrandbits(64):016x}",
            "manufacturer": "Samsung",
            "model": "SM-S911B",
            "type": "android",
        }

    def _app_context(self, device: dict[str, Any]) -> dict[str, Any]:
        ios = device["type"] == "ios"
        return {
            "app": {"name": "Harbour & Vine", "version": "5.2.0", "build": "520"},
            "device": device,
            "os": {"name": "iOS" if ios else "Android", "version": "17.4" if ios else "14"},
            "library": {
                "name": "analytics-swift" if ios else "analytics-kotlin",
                "version": "1.5.0",
            },
        }

    def _app(self, spec: SourceSpec) -> _Stream:
        stream = _Stream(spec)
        users = np.flatnonzero(self.app | self.device_only)
        rate = np.where(self.device_only[users], 0.5, APP_SESSIONS[self.pop.persona[users]])
        two_devices = self.np.random(self.n) < 0.1
        for person, starts in self._sessions(users, rate).items():
            installs = [(self.uid(), self._device())]
            if two_devices[person] and self.account[person] and len(starts) > 2:
                installs.append((self.uid(), self._device()))
            visits = [
                (start, installs[k % len(installs)][0]) for k, start in enumerate(sorted(starts))
            ]
            logins = self._first_visits(visits) if self.account[person] else {}
            devices = dict(installs)
            for start, install in visits:
                login = logins.get(install)
                context = self._app_context(devices[install])
                ids = {"anonymousId": install}
                if login is not None and start > login:
                    ids["userId"] = self.account_id[person]
                t = start
                self._add(stream, person, "screen", ids, t, name="Home", context=context)
                if login == start:
                    t += self._int(5, 40)
                    ids = {"anonymousId": install, "userId": self.account_id[person]}
                    message_id = self._add(
                        stream,
                        person,
                        "identify",
                        ids,
                        t,
                        traits=self._traits(person),
                        context=context,
                    )
                    self._trap(
                        "app_device_login", devices[install]["id"], person, "app", message_id
                    )
                for _ in range(self._count(1.0)):
                    t += self._int(5, 90)
                    screen = APP_SCREENS[self._below(len(APP_SCREENS))]
                    self._add(stream, person, "screen", ids, t, name=screen, context=context)
                self._shop(stream, person, ids, t, context, known="userId" in ids, app=True)
            if self.device_only[person]:
                self._trap("app_device_only", devices[installs[0][0]]["id"], person, "app", "")
        self._tablets(stream)
        return stream

    def _tablets(self, stream: _Stream) -> None:
        """Shop tablets: customers log in on a shared kiosk to collect or look up orders."""
        holders = [int(i) for i in np.flatnonzero(self.account)]
        if self.n < 100 or not holders:
            return
        tablets = max(2, self.n // 1500)
        users = self.py.sample(holders, min(len(holders), max(tablets * 8, self.n // 50)))
        kiosks = []
        for k in range(tablets):
            device = {
                "id": f"{self.py.getrandbits(64):016x}",
                "manufacturer": "Samsung",
                "model": "SM-X210",
                "type": "android",
                "name": f"Store {k + 1} kiosk",
            }
            kiosks.append((self.uid(), device))
        for k, person in enumerate(users):
            install, device = kiosks[k % tablets]
            context = self._app_context(device)
            ids = {"anonymousId": install, "userId": self.account_id[person]}
            for start in self.session_times(np.array([person] * (1 + k % 2))).tolist():
                message_id = self._add(
                    stream,
                    person,
                    "identify",
                    ids,
                    start,
                    traits=self._traits(person),
                    context=context,
                )
                self._trap("shop_tablet", device["id"], person, "app", message_id)
                t = start
                for screen in TABLET_SCREENS:
                    t += self._int(10, 60)
                    self._add(stream, person, "screen", ids, t, name=screen, context=context)

    # -- email ----------------------------------------------------------------------------
    def email_address(self, person: int) -> str:
        """The address a person subscribed with (their shop account's, else their own)."""
        return self.account_email(person) if self.account[person] else self.pop.email[person]

    def _email(self, spec: SourceSpec) -> _Stream:
        stream = _Stream(spec)
        subscribers = np.flatnonzero(self.subscriber)
        before = self.np.random(len(subscribers)) < 0.7
        joined = np.where(
            before,
            self.np.integers(0, 10 * 86400, len(subscribers)),
            self.session_times(subscribers),
        )
        context = {"library": {"name": "harbour-esp-sync", "version": "2.3.1"}}
        for person, t in zip(subscribers.tolist(), joined.tolist(), strict=True):
            ids = {"userId": self.subscriber_id[person]}
            traits = {
                "email": self.email_address(person),
                "firstName": self.pop.first_name[person],
                "subscribed": True,
            }
            self._add(stream, person, "identify", ids, t, traits=traits, context=context)
        sends = np.arange(6, WINDOW_DAYS, 15) * 86400 + 9 * 3600
        persona = self.pop.persona[subscribers]
        lapsed = self.pop.lapsed[subscribers]
        for k, sent in enumerate(sends.tolist()):
            month = (self.start + timedelta(seconds=sent)).month
            subject = EMAIL_TOPICS[month - 1]
            campaign = {
                "campaign_id": f"cmp-{k + 1:03d}",
                "campaign_name": subject,
                "email_subject": subject,
            }
            # People open what is in season for them (garden topics in spring, gifts in winter).
            interest = SEASONS[persona, month - 1] / SEASONS[persona].mean(axis=1)
            chance = P_OPEN[persona] * np.where(
                lapsed & (sent > WINDOW_DAYS * 0.45 * 86400), 0.3, 1.0
            )
            opened = (joined <= sent) & (self.np.random(len(subscribers)) < chance)
            clicked = opened & (self.np.random(len(subscribers)) < 0.2 * interest)
            delay = self.np.exponential(6 * 3600, len(subscribers))
            for j in np.flatnonzero(opened).tolist():
                person = int(subscribers[j])
                ids = {"userId": self.subscriber_id[person]}
                ctx = {**context, "traits": {"email": self.email_address(person)}}
                email_id = f"{campaign['campaign_id']}-{self.subscriber_id[person][4:]}"
                t = sent + float(delay[j])
                self._add(
                    stream,
                    person,
                    "track",
                    ids,
                    t,
                    event="Email Opened",
                    properties={**campaign, "email_id": email_id},
                    context=ctx,
                )
                if clicked[j]:
                    click = t + self._int(5, 600)
                    if self.account[person]:  # the link opens the shop: a web visit follows
                        visit = click + self._int(2, 30)
                        self.clicks.setdefault(person, []).append((visit, campaign))
                    self._add(
                        stream,
                        person,
                        "track",
                        ids,
                        click,
                        event="Email Clicked",
                        context=ctx,
                        properties={
                            **campaign,
                            "email_id": email_id,
                            "link_url": "https://harbourandvine.example/offers",
                        },
                    )
        return stream

    # -- social ---------------------------------------------------------------------------
    def _social(self, spec: SourceSpec) -> _Stream:
        stream = _Stream(spec)
        fans = np.flatnonzero(self.social)
        for person, starts in self._sessions(fans, np.full(len(fans), 2.0)).items():
            platform = "instagram" if self.py.random() < 0.6 else "facebook"
            page_id = f"{platform[:2]}.{self.py.getrandbits(50)}"
            ids = {"anonymousId": page_id}
            handle = self.pop.handle[person]
            written = (f"@{handle}", handle, f"@{handle.lower()}")
            for k, t in enumerate(sorted(starts)):
                event = ("Post Liked", "Comment Posted", "Story Viewed", "Message Sent")[k % 4]
                self._add(
                    stream,
                    person,
                    "track",
                    ids,
                    t,
                    event=event,
                    properties={
                        "platform": platform,
                        "post_id": f"post-{self._int(1, 399)}",
                    },
                    context={"traits": {"handle": written[k % 3]}},
                )
            traits: dict[str, Any] = {
                "handle": f"@{handle}",
                "platform": platform,
                "name": f"{self.pop.first_name[person]} {self.pop.last_name[person][0]}.",
            }
            t = max(starts) + self._int(60, 3600)
            if self.social_email[person]:
                traits["email"] = self.email_address(person)
                traits["leadForm"] = "Spring garden guide"
            message_id = self._add(
                stream,
                person,
                "identify",
                ids,
                t,
                traits=traits,
                context={"library": {"name": "harbour-social-sync"}},
            )
            if self.social_email[person]:
                self._trap("social_email_capture", traits["email"], person, "social", message_id)
        return stream

    # -- ideas ----------------------------------------------------------------------------
    def _ideas(self, spec: SourceSpec) -> _Stream:
        stream = _Stream(spec)
        people = np.flatnonzero(self.ideas)
        ideas: list[str] = []
        for person, starts in self._sessions(people, np.full(len(people), 1.0)).items():
            ids = {"userId": self.account_id[person]}
            context = {"traits": {"email": self.account_email(person)}}
            for k, t in enumerate(sorted(starts)):
                if k == 0 or self.py.random() < 0.4:
                    idea = f"IDEA-{len(ideas) + 1:05d}"
                    ideas.append(idea)
                    title = IDEA_TITLES[self._below(len(IDEA_TITLES))]
                    self._add(
                        stream,
                        person,
                        "track",
                        ids,
                        t,
                        event="Idea Submitted",
                        context=context,
                        properties={
                            "idea_id": idea,
                            "title": title,
                            "category": "stores" if "store" in title else "app",
                        },
                    )
                else:
                    self._add(
                        stream,
                        person,
                        "track",
                        ids,
                        t,
                        event="Idea Voted",
                        context=context,
                        properties={"idea_id": ideas[self._below(len(ideas))]},
                    )
        return stream

    # -- service desk (CSV export) ----------------------------------------------------------
    def _service(self) -> tuple[dict[str, list[str]], list[int]]:
        columns: dict[str, list[str]] = {
            c: []
            for c in (
                "ticket_id",
                "opened_at",
                "channel",
                "customer_name",
                "email",
                "phone",
                "handle",
                "category",
                "subject",
                "status",
                "satisfaction",
            )
        }
        people: list[int] = []
        callers = np.flatnonzero(self.service)
        counts = self.np.poisson(0.6, len(callers)) + 1
        owner = np.repeat(callers, counts)
        starts = self.session_times(owner)
        order = np.argsort(starts, kind="stable")
        first_ticket: set[int] = set()
        for number, k in enumerate(order.tolist(), start=1):
            person = int(owner[k])
            ticket = f"SR-{500000 + number}"
            channel, email, phone, handle = self._ticket_contact(person, person in first_ticket)
            first_ticket.add(person)
            category, subject = TICKET_SUBJECTS[self._below(len(TICKET_SUBJECTS))]
            satisfaction = str(self._int(1, 5)) if self.py.random() < 0.6 else ""
            row = {
                "ticket_id": ticket,
                "opened_at": self.iso(starts[k] - 8 * 3600),
                "channel": channel,
                "customer_name": self._spoken_name(person),
                "email": email,
                "phone": phone,
                "handle": handle,
                "category": category,
                "subject": subject,
                "status": "closed" if starts[k] < (WINDOW_DAYS - 7) * 86400 else "open",
                "satisfaction": satisfaction,
            }
            for column, value in row.items():
                columns[column].append(value)
            people.append(person)
            if phone:
                self._trap(
                    "service_phone_format", self.pop.phone[person], person, "service", ticket
                )
                if not email:
                    self._trap(
                        "service_phone_only", self.pop.phone[person], person, "service", ticket
                    )
        return columns, people

    def _ticket_contact(self, person: int, seen_before: bool) -> tuple[str, str, str, str]:
        """(channel, email, phone, handle) of one ticket: always something another record has."""
        pop, roll = self.pop, self.py.random()
        formats = phone_formats(pop.phone[person])
        phone = formats["international"] if roll < 0.5 else formats["compact"]
        phone_known = bool(self.crm[person] or self.phone_in_account[person])
        email = self.known_email(person)
        if self.social_care[person] and not seen_before:
            # Social care asks for a contact to find the order: the handle meets the email.
            handle = f"@{pop.handle[person]}"
            return ("social", email, "", handle) if email else ("social", "", phone, handle)
        if phone_known and (roll < 0.45 or email is None):
            return "phone", "", phone, ""
        if email is not None:
            return ("email" if roll < 0.75 else "chat"), email, "", ""
        # Known only to the service desk: every ticket carries the same phone and email.
        return "phone", pop.email[person], phone, ""

    def _spoken_name(self, person: int) -> str:
        first, last = self.pop.first_name[person], self.pop.last_name[person]
        roll = self.py.random()
        if roll < 0.1:
            return f"{last.upper()}, {first}"
        if roll < 0.2:
            return f"{first} {last}".lower()
        return f"{first} {last}"

    # -- CRM (CSV export) -----------------------------------------------------------------
    def _crm(self) -> tuple[dict[str, list[str]], list[int]]:
        pop = self.pop
        columns: dict[str, list[str]] = {
            c: []
            for c in (
                "crm_id",
                "account_id",
                "first_name",
                "last_name",
                "email",
                "phone",
                "date_of_birth",
                "street",
                "town",
                "postcode",
                "loyalty_tier",
                "marketing_opt_in",
                "joined_on",
                "updated_at",
            )
        }
        people: list[int] = []
        members = [int(i) for i in np.flatnonzero(self.crm)]
        self.py.shuffle(members)
        ids = self.py.sample(range(1_000_000, 9_999_999), len(members) * 2)
        next_id = iter(ids)
        tiers = ("bronze", "silver", "gold")
        for person in members:
            crm_id = f"C{next(next_id)}"
            first, last, postcode = (
                pop.first_name[person],
                pop.last_name[person],
                pop.postcode[person],
            )
            family = self.in_family[person]
            roll = self.py.random()
            if not family and roll < 0.03:
                if self.py.random() < 0.5:
                    first = name_typo(first, self._below(1000))
                else:
                    last = name_typo(last, self._below(1000))
                self._trap(
                    "crm_name_typo",
                    f"{pop.first_name[person]} {pop.last_name[person]}",
                    person,
                    "crm",
                    crm_id,
                )
            elif not family and roll < 0.06:
                postcode = swap_postcode_digits(postcode)
                self._trap("crm_postcode_swap", pop.postcode[person], person, "crm", crm_id)
            joined = self.as_of - timedelta(days=self._int(30, 3000 - 1))
            row = {
                "crm_id": crm_id,
                "account_id": self.account_id[person],
                "first_name": first,
                "last_name": last,
                "email": self.family_email.get(person, pop.email[person]),
                "phone": phone_formats(pop.phone[person])["national"],
                "date_of_birth": pop.birth_date[person],
                "street": pop.street[person],
                "town": pop.town[person],
                "postcode": postcode,
                "loyalty_tier": tiers[min(2, int(self.py.random() * 3.4))],
                "marketing_opt_in": "true" if self.crm_opt_in[person] else "false",
                "joined_on": joined.isoformat(),
                "updated_at": self.iso(self._int(0, WINDOW_DAYS * 86400 - 1)),
            }
            self._crm_row(columns, people, person, row)
            if family:
                self._trap("family_email", row["email"], person, "crm", crm_id)
            if self.two_emails[person]:
                self._trap("two_emails", self.account_id[person], person, "crm", crm_id)
            if not family and self.py.random() < 0.03:
                self._crm_duplicate(columns, people, person, row, f"C{next(next_id)}")
        return columns, people

    def _crm_duplicate(
        self,
        columns: dict[str, list[str]],
        people: list[int],
        person: int,
        row: dict[str, str],
        crm_id: str,
    ) -> None:
        """The same customer entered again at a till: no email, phone or account; a typo."""
        pop = self.pop
        twin = dict(row, crm_id=crm_id, account_id="", email="", phone="")
        typo, k = pop.first_name[person], self._below(1000)
        while typo in (pop.first_name[person], row["first_name"]):
            typo, k = name_typo(pop.first_name[person], k), k + 1
        twin["first_name"] = typo
        if self.py.random() < 0.5:
            twin["postcode"] = swap_postcode_digits(pop.postcode[person])
        twin["loyalty_tier"] = "bronze"
        twin["marketing_opt_in"] = "false"
        twin["joined_on"] = (self.as_of - timedelta(days=self._int(1, 399))).isoformat()
        self._crm_row(columns, people, person, twin)
        self._trap("crm_duplicate", pop.person_id[person], person, "crm", row["crm_id"])
        self._trap("crm_duplicate", pop.person_id[person], person, "crm", crm_id)

    @staticmethod
    def _crm_row(
        columns: dict[str, list[str]], people: list[int], person: int, row: dict[str, str]
    ) -> None:
        for column, value in row.items():
            columns[column].append(value)
        people.append(person)

    # -- truth ----------------------------------------------------------------------------
    def _namesakes(self) -> None:
        names: dict[str, list[int]] = {}
        for i in range(self.n):
            names.setdefault(f"{self.pop.first_name[i]} {self.pop.last_name[i]}", []).append(i)
        for name, group in names.items():
            if len(group) > 1:
                for person in group:
                    self._trap("namesakes", name, person, "", "")

    def write_truth(self, folder: Path, sources: list[SourceData]) -> dict[str, Any]:
        folder.mkdir(parents=True, exist_ok=True)
        pid = self.pop.person_id
        identities = pa.table(
            {
                "source": pa.array(
                    [s.spec.name for s in sources for _ in s.record_ids], pa.string()
                ),
                "record_id": pa.array([r for s in sources for r in s.record_ids], pa.string()),
                "person_id": pa.array([pid[p] for s in sources for p in s.person_index]),
                "kind": pa.array(
                    ["record" if s.spec.mapping else "event" for s in sources for _ in s.record_ids]
                ),
            }
        )
        pq.write_table(identities, folder / "identities.parquet")
        traps = pa.table(
            {
                "trap": [t[0] for t in self.traps],
                "group": [t[1] for t in self.traps],
                "person_id": [pid[t[2]] for t in self.traps],
                "source": [t[3] for t in self.traps],
                "record_id": [t[4] for t in self.traps],
            },
            schema=pa.schema(
                [(c, pa.string()) for c in ("trap", "group", "person_id", "source", "record_id")]
            ),
        )
        pq.write_table(traps, folder / "traps.parquet")
        pq.write_table(self._people_table(), folder / "people.parquet")
        summary = self._summary(sources)
        text = json.dumps(summary, indent=2, sort_keys=False) + "\n"
        (folder / "truth.json").write_text(text, encoding="utf-8")
        (folder / "README.txt").write_text(TRUTH_README, encoding="utf-8")
        return summary

    def _people_table(self) -> pa.Table:
        """Who each person really is: the values the channels copy (some with typos)."""
        pop = self.pop
        return pa.table(
            {
                "person_id": pa.array(pop.person_id, pa.string()),
                "persona": pa.array([PERSONAS[int(p)] for p in pop.persona], pa.string()),
                "lapsed": pa.array(pop.lapsed.tolist(), pa.bool_()),
                "first_name": pa.array(pop.first_name, pa.string()),
                "last_name": pa.array(pop.last_name, pa.string()),
                "birth_date": pa.array(pop.birth_date, pa.string()),
                "email": pa.array(pop.email, pa.string()),
                "account_email": pa.array(
                    [self.account_email(i) if self.account[i] else None for i in range(self.n)],
                    pa.string(),
                ),
                "phone": pa.array([f"+44{p}" for p in pop.phone], pa.string()),
                "street": pa.array(pop.street, pa.string()),
                "town": pa.array(pop.town, pa.string()),
                "postcode": pa.array(pop.postcode, pa.string()),
                "handle": pa.array(
                    [pop.handle[i] if self.social[i] else None for i in range(self.n)],
                    pa.string(),
                ),
                "account_id": pa.array([a or None for a in self.account_id], pa.string()),
            }
        )

    def _summary(self, sources: list[SourceData]) -> dict[str, Any]:
        people_sources: dict[int, set[str]] = {}
        for s in sources:
            for p in s.person_index:
                people_sources.setdefault(p, set()).add(s.spec.name)
        single = Counter(next(iter(v)) for v in people_sources.values() if len(v) == 1)
        by_trap: dict[str, dict[str, Any]] = {}
        for trap, description in TRAPS.items():
            rows = [t for t in self.traps if t[0] == trap]
            by_trap[trap] = {
                "people": len({t[2] for t in rows}),
                "records": len({(t[3], t[4]) for t in rows if t[4]}),
                "groups": len({t[1] for t in rows}),
                "description": description,
            }
        persona_counts = Counter(PERSONAS[int(p)] for p in self.pop.persona)
        return {
            "company": "Harbour & Vine",
            "seed": self.seed,
            "customers": self.n,
            "as_of": self.as_of.isoformat(),
            "window": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "people": self.n,
            "people_with_records": len(people_sources),
            "personas": {p: persona_counts.get(p, 0) for p in PERSONAS},
            "sources": {
                s.spec.name: {
                    "kind": s.spec.kind,
                    "owners": list(s.spec.owners),
                    "file": f"{CHANNELS_DIR}/{s.spec.file}",
                    "format": s.spec.format,
                    "mapping": f"{CHANNELS_DIR}/{s.spec.mapping}" if s.spec.mapping else None,
                    "rows_written": s.rows,
                    "expected_accepted": s.expected_accepted,
                    "expected_rejected": s.expected_rejected,
                    "expected_duplicates": s.expected_duplicates,
                    "people": len({p for p in s.person_index}),
                    "single_source_people": single.get(s.spec.name, 0),
                }
                for s in sources
            },
            "expected": {
                "rows_written": sum(s.rows for s in sources),
                "accepted": sum(s.expected_accepted for s in sources),
                "rejected": sum(s.expected_rejected for s in sources),
                "duplicates": sum(s.expected_duplicates for s in sources),
            },
            "traps": by_trap,
        }


TRUTH_README = """\
Ground truth of the Harbour & Vine demo (written by `tandem demo`, never ingested).

identities.parquet  one row per record the import stores: source, record_id (the mapped record
                    id for crm/service rows, the messageId for events), person_id, kind
traps.parquet       the planted traps: trap, group (the shared value), person_id, source,
                    record_id (empty for traps about a person rather than a record)
people.parquet      who each person really is: person_id, persona, lapsed, names, birth date,
                    emails, phone (E.164), address, handle, shop account id
truth.json          people, rows per source, the import's expected accepted / rejected /
                    duplicate counts, and every trap with its counts and description

Load it with tandem.demo.channels.load_truth(workspace_root).
"""

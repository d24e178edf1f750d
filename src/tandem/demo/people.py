"""Harbour & Vine's customers: a seeded population of people with everything a channel knows.

The population is columnar (numpy arrays and plain lists, one entry per person) so that 100,000
people take seconds, not minutes. Every value is drawn from one `numpy.random.Generator`, so the
same seed gives the same people. Names come from fixed lists; phones are valid UK numbers
(checked with `phonenumbers`); postcodes follow the UK format with real outward codes of the
towns they belong to; email domains use the reserved `.example` top-level domain so no real
mailbox is ever named.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import phonenumbers

COUNTRY = "GB"
"""Harbour & Vine is a British retailer: every phone is a valid GB number."""

FIRST_NAMES = [
    "Oliver",
    "George",
    "Harry",
    "Jack",
    "Noah",
    "Leo",
    "Arthur",
    "Muhammad",
    "Oscar",
    "Charlie",
    "Jacob",
    "Thomas",
    "Henry",
    "William",
    "James",
    "Alfie",
    "Joshua",
    "Freddie",
    "Theo",
    "Archie",
    "Isaac",
    "Max",
    "Lucas",
    "Ethan",
    "Samuel",
    "Daniel",
    "Adam",
    "Mohammed",
    "Reuben",
    "Liam",
    "Aaron",
    "Ryan",
    "Callum",
    "Connor",
    "Kieran",
    "Rhys",
    "Owen",
    "Dylan",
    "Ewan",
    "Angus",
    "Rory",
    "Finlay",
    "Euan",
    "Ravi",
    "Arjun",
    "Vikram",
    "Tariq",
    "Yusuf",
    "Kwame",
    "Kofi",
    "Emeka",
    "Tomasz",
    "Piotr",
    "Marek",
    "Luca",
    "Matteo",
    "Diego",
    "Jonas",
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Rosie",
    "Sophia",
    "Grace",
    "Freya",
    "Florence",
    "Evie",
    "Poppy",
    "Charlotte",
    "Emily",
    "Sienna",
    "Ella",
    "Willow",
    "Ruby",
    "Alice",
    "Phoebe",
    "Harper",
    "Matilda",
    "Erin",
    "Niamh",
    "Siobhan",
    "Aoife",
    "Megan",
    "Bethan",
    "Catrin",
    "Eilidh",
    "Morag",
    "Priya",
    "Anjali",
    "Aisha",
    "Fatima",
    "Zainab",
    "Amara",
    "Chioma",
    "Ngozi",
    "Agnieszka",
    "Kasia",
    "Zofia",
    "Giulia",
    "Chiara",
    "Lucia",
    "Ines",
    "Hannah",
    "Sarah",
    "Rebecca",
    "Laura",
    "Jessica",
    "Lauren",
    "Chloe",
    "Zoe",
    "Maya",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Robinson",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "Scott",
    "Watson",
    "Davis",
    "Parker",
    "James",
    "Bennett",
    "Young",
    "Phillips",
    "Richardson",
    "Mitchell",
    "Bailey",
    "Carter",
    "Cook",
    "Singh",
    "Shaw",
    "Bell",
    "Collins",
    "Morgan",
    "Kelly",
    "Begum",
    "Miller",
    "Cox",
    "Marshall",
    "Simpson",
    "Anderson",
    "Ellis",
    "Adams",
    "Wilkinson",
    "Ahmed",
    "Murray",
    "Graham",
    "Campbell",
    "Stewart",
    "MacDonald",
    "Fraser",
    "Reid",
    "Murphy",
    "Byrne",
    "Kennedy",
    "Gallagher",
    "Doherty",
    "Quinn",
    "Okafor",
    "Mensah",
    "Adeyemi",
    "Kowalski",
    "Nowak",
    "Wisniewski",
    "Rossi",
    "Russo",
    "Silva",
    "Santos",
    "Costa",
    "Novak",
    "Hussain",
    "Ali",
    "Chowdhury",
    "Kaur",
    "Gill",
    "Sharma",
    "Chen",
    "Wong",
    "Nguyen",
    "Kim",
    "Lloyd",
    "Price",
    "Griffiths",
    "Owen",
    "Rees",
    "Jenkins",
    "Powell",
    "Pritchard",
    "Barker",
    "Fletcher",
    "Holmes",
    "Dixon",
    "Webb",
    "Hunt",
    "Palmer",
    "Mills",
]

# Towns with real outward codes whose two digits differ (so a swapped-digit typo changes them).
TOWNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("London", ("SE15", "SE13", "SW12", "SW16", "N16", "E17", "NW10", "W12"), "020"),
    ("Bristol", ("BS16", "BS13", "BS14", "BS10"), "0117"),
    ("Manchester", ("M14", "M21", "M20", "M16"), "0161"),
    ("Leeds", ("LS12", "LS16", "LS17", "LS15"), "0113"),
    ("Birmingham", ("B13", "B14", "B23", "B17"), "0121"),
    ("Edinburgh", ("EH10", "EH12", "EH16", "EH15"), "0131"),
    ("Glasgow", ("G12", "G13", "G41", "G43"), "0141"),
    ("Liverpool", ("L15", "L18", "L12", "L13"), "0151"),
    ("Sheffield", ("S10", "S12", "S13", "S17"), "0114"),
    ("Nottingham", ("NG10", "NG12", "NG14", "NG16"), "0115"),
    ("Leicester", ("LE12", "LE18", "LE16", "LE13"), "0116"),
    ("Reading", ("RG10", "RG12", "RG14", "RG40"), "0118"),
    ("Newcastle upon Tyne", ("NE12", "NE13", "NE15", "NE16"), "0191"),
    ("Cardiff", ("CF10", "CF14", "CF23", "CF15"), "029"),
    ("Belfast", ("BT12", "BT13", "BT14", "BT15"), "028"),
)
STREET_NAMES: tuple[str, ...] = tuple(
    [
        "High Street",
        "Station Road",
        "Church Lane",
        "Mill Lane",
        "Park Road",
        "Victoria Road",
        "Green Lane",
        "Manor Road",
        "Church Street",
        "Kings Road",
        "Queens Road",
        "New Road",
        "Grange Road",
        "London Road",
        "School Lane",
        "Orchard Way",
        "Chestnut Avenue",
        "Willow Close",
        "Meadow View",
        "Elm Grove",
        "Holly Drive",
        "Beech Avenue",
        "Rose Gardens",
        "Oak Tree Road",
        "Cedar Crescent",
        "Hawthorn Way",
        "Primrose Hill",
        "Vine Street",
        "Harbour Walk",
        "Garden Terrace",
    ]
)
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in the inward code (no C I K M O V)

EMAIL_DOMAINS = (
    "gmail.example",
    "outlook.example",
    "hotmail.example",
    "yahoo.example",
    "icloud.example",
    "btinternet.example",
    "sky.example",
    "protonmail.example",
)
WORK_DOMAINS = ("nhs.example", "council.example", "school.example", "office.example")

PERSONAS = ("gardener", "home-maker", "bargain-hunter", "app-loyalist", "occasional")
PERSONA_SHARES = (0.27, 0.22, 0.2, 0.13, 0.18)
"""Customer types: they differ in channels, seasons, basket sizes and email response."""

LANDLINE_DIGITS = {"020": 8, "029": 8, "028": 8}  # subscriber digits after a 3-digit code
"""Area codes of 3 digits have an 8-digit subscriber number; 4-digit codes have 7."""


@dataclass
class Population:
    """One entry per person in every column (index = person number)."""

    person_id: list[str]
    persona: np.ndarray  # index into PERSONAS
    first_name: list[str]
    last_name: list[str]
    birth_date: list[str]  # ISO dates
    email: list[str]
    phone: list[str]  # national significant number digits, e.g. "7912345678" or "2079460958"
    street: list[str]
    town: list[str]
    postcode: list[str]
    handle: list[str]  # social handle without "@", mixed case as the person typed it
    lapsed: np.ndarray  # bool: bought in the first months, then went quiet

    def __len__(self) -> int:
        return len(self.person_id)


def phone_formats(nsn: str) -> dict[str, str]:
    """The ways a channel writes one number: e164, international, national, compact."""
    if nsn.startswith("7"):
        head, tail = nsn[:4], nsn[4:]
        national = f"0{head} {tail}"
        international = f"+44 {head} {tail}"
    elif nsn[:2] in ("20", "29", "28"):
        area, rest = nsn[:2], nsn[2:]
        national = f"0{area} {rest[:4]} {rest[4:]}"
        international = f"+44 {area} {rest[:4]} {rest[4:]}"
    else:
        area, rest = nsn[:3], nsn[3:]
        national = f"0{area} {rest[:3]} {rest[3:]}"
        international = f"+44 {area} {rest[:3]} {rest[3:]}"
    return {
        "e164": f"+44{nsn}",
        "international": international,
        "national": national,
        "compact": f"0{nsn}",
    }


def is_valid_phone(nsn: str) -> bool:
    return bool(phonenumbers.is_valid_number(phonenumbers.parse(f"+44{nsn}", COUNTRY)))


@lru_cache(maxsize=1)
def _number_prefixes() -> dict[str, tuple[str, ...]]:
    """Leading digits that give valid GB numbers, checked once with `phonenumbers`.

    Keyed by "mobile" (7 + four digits, five random digits follow) and by landline area code
    (the area code and the first subscriber digit; the rest is random)."""

    def valid(prefix: str, width: int) -> bool:
        samples = (prefix + "0" * (width - len(prefix)), prefix + "9" * (width - len(prefix)))
        for nsn in samples:
            number = phonenumbers.parse(f"+44{nsn}", COUNTRY)
            if not phonenumbers.is_valid_number(number):
                return False
            if phonenumbers.region_code_for_number(number) != COUNTRY:
                return False
        return True

    out = {"mobile": tuple(p for k in range(4000, 10000) if valid(p := f"7{k}", 10))}
    for _town, _codes, area in TOWNS:
        code = area[1:]
        width = len(code) + LANDLINE_DIGITS.get(area, 7)
        out[code] = tuple(p for d in range(2, 10) if valid(p := f"{code}{d}", width))
    return out


def _phones(rng: np.random.Generator, towns: np.ndarray, n: int) -> list[str]:
    """Distinct valid numbers: 85% mobiles, the others landlines in the person's own town."""
    prefixes = _number_prefixes()
    mobile = rng.random(n) < 0.85
    picks = rng.integers(0, 1 << 30, n)
    subscriber = rng.integers(0, 10**7, n)
    phones: list[str] = []
    seen: set[str] = set()
    for i in range(n):
        code = "mobile" if mobile[i] else TOWNS[int(towns[i])][2][1:]
        width = 10 if mobile[i] else len(code) + LANDLINE_DIGITS.get("0" + code, 7)
        options = prefixes[code]
        prefix = options[int(picks[i]) % len(options)]
        rest = width - len(prefix)
        number = int(subscriber[i]) % 10**rest
        nsn = f"{prefix}{number:0{rest}d}"
        while nsn in seen:  # rare: step to the next free number
            number = (number + 1) % 10**rest
            nsn = f"{prefix}{number:0{rest}d}"
        seen.add(nsn)
        phones.append(nsn)
    return phones


def _emails(
    rng: np.random.Generator, first: list[str], last: list[str], domains: tuple[str, ...]
) -> list[str]:
    """Distinct addresses in the styles people use (first.last, flast, first_last84, ...)."""
    n = len(first)
    style = rng.integers(0, 6, n)
    domain = rng.integers(0, len(domains), n)
    year = rng.integers(60, 100, n)
    out: list[str] = []
    counts: Counter[str] = Counter()
    for i in range(n):
        f, s = first[i].lower(), last[i].lower()
        local = (
            f"{f}.{s}",
            f"{f[0]}{s}",
            f"{f}_{s}{year[i]}",
            f"{f}{s}",
            f"{s}.{f}",
            f"{f}.{s}{year[i]}",
        )[int(style[i])]
        address = f"{local}@{domains[int(domain[i])]}"
        counts[address] += 1
        if counts[address] > 1:
            address = f"{local}{counts[address]}@{domains[int(domain[i])]}"
        out.append(address)
    return out


def _postcodes(rng: np.random.Generator, towns: np.ndarray) -> list[str]:
    n = len(towns)
    pick = rng.integers(0, 4, n)
    digit = rng.integers(1, 10, n)
    letters = rng.integers(0, len(INWARD_LETTERS), (n, 2))
    out = []
    for i in range(n):
        outward_codes = TOWNS[int(towns[i])][1]
        outward = outward_codes[int(pick[i]) % len(outward_codes)]
        inward = f"{digit[i]}{INWARD_LETTERS[letters[i, 0]]}{INWARD_LETTERS[letters[i, 1]]}"
        out.append(f"{outward} {inward}")
    return out


def swap_postcode_digits(postcode: str) -> str:
    """The typo a clerk makes: the two digits of the outward code swapped (SE15 -> SE51)."""
    outward, inward = postcode.split(" ")
    positions = [i for i, c in enumerate(outward) if c.isdigit()]
    a, b = positions[0], positions[-1]
    chars = list(outward)
    chars[a], chars[b] = chars[b], chars[a]
    return "".join(chars) + " " + inward


def name_typo(name: str, k: int) -> str:
    """A plausible keying error: swapped neighbours, a dropped or a doubled letter."""
    if len(name) < 4:
        kind = k % 3
        if kind == 0 and name[-1] != name[-2]:
            return name[:-2] + name[-1] + name[-2]
        return name[:-1] if kind == 1 else name + name[-1]
    i = 1 + k % (len(name) - 2)
    kind = k % 3
    if kind == 0 and name[i] != name[i + 1]:
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == 1:
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]


def generate_population(n: int, rng: np.random.Generator, *, as_of: date) -> Population:
    """`n` people, all different, drawn from `rng`."""
    persona = rng.choice(len(PERSONAS), size=n, p=PERSONA_SHARES)
    first = [FIRST_NAMES[i] for i in rng.integers(0, len(FIRST_NAMES), n)]
    last = [LAST_NAMES[i] for i in rng.integers(0, len(LAST_NAMES), n)]
    # Younger app users, older gardeners: ages 18-88.
    mean_age = np.array([54, 42, 38, 30, 46])[persona]
    age_days = np.clip(rng.normal(mean_age, 12, n), 18, 88) * 365.25
    birth = [(as_of - timedelta(days=int(d))).isoformat() for d in age_days]
    towns = rng.choice(len(TOWNS), size=n, p=_town_weights())
    house = rng.integers(1, 180, n)
    street_pick = rng.integers(0, len(STREET_NAMES), n)
    handle_style = rng.integers(0, 4, n)
    handle_num = rng.integers(1, 999, n)
    handles = []
    taken: Counter[str] = Counter()
    for i in range(n):
        f, s = first[i], last[i]
        handle = (
            f"{f}{s}{handle_num[i]}",
            f"{f.lower()}.{s.lower()}",
            f"{f}_{s[0]}{handle_num[i]}",
            f"the{s}{f[0]}",
        )[int(handle_style[i])]
        taken[handle.lower()] += 1
        if taken[handle.lower()] > 1:
            handle = f"{handle}_{taken[handle.lower()]}"
        handles.append(handle)
    return Population(
        person_id=[f"HVP{i + 1:06d}" for i in range(n)],
        persona=persona,
        first_name=first,
        last_name=last,
        birth_date=birth,
        email=_emails(rng, first, last, EMAIL_DOMAINS),
        phone=_phones(rng, towns, n),
        street=[f"{house[i]} {STREET_NAMES[street_pick[i]]}" for i in range(n)],
        town=[TOWNS[int(t)][0] for t in towns],
        postcode=_postcodes(rng, towns),
        handle=handles,
        lapsed=rng.random(n) < 0.15,
    )


def _town_weights() -> np.ndarray:
    weights = np.ones(len(TOWNS))
    weights[0] = 4.0  # London
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def second_emails(rng: np.random.Generator, first: list[str], last: list[str]) -> list[str]:
    """Work addresses for people who use a second email somewhere."""
    return _emails(rng, first, last, WORK_DOMAINS)

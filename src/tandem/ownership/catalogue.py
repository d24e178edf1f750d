"""The default functions and capability catalogue, and the rules for keys and roles.

The defaults come from the seeds: the functions that take part in digital (seed 003: IT, PR,
customer service, innovation, HR beside marketing; seeds 000 and 004: the executive, the digital
team or Chief Digital Officer, business units) and the capabilities the Forrester survey asked
about (seed 001), plus those the other seeds name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal, get_args

FunctionKind = Literal[
    "executive",
    "marketing",
    "it",
    "digital",
    "hr",
    "pr",
    "customer_service",
    "innovation",
    "business",
    "other",
]
FUNCTION_KINDS: Final[tuple[str, ...]] = get_args(FunctionKind)

BodyKind = Literal["steering_committee", "digital_team", "other"]
BODY_KINDS: Final[tuple[str, ...]] = get_args(BodyKind)

RACI: Final = "RACI"
ROLE_NAMES: Final = {
    "R": "responsible",
    "A": "accountable",
    "C": "consulted",
    "I": "informed",
}

KEY_PATTERN: Final = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
KEY_MAX: Final = 64


@dataclass(frozen=True)
class DefaultFunction:
    key: str
    name: str
    kind: FunctionKind
    description: str


@dataclass(frozen=True)
class DefaultCapability:
    key: str
    name: str
    description: str
    customer_facing: bool


DEFAULT_FUNCTIONS: Final[tuple[DefaultFunction, ...]] = (
    DefaultFunction(
        "executive",
        "Executive (CEO)",
        "executive",
        "Sets the company's direction, digital included.",
    ),
    DefaultFunction("marketing", "Marketing", "marketing", "Led by the CMO; owns customer demand."),
    DefaultFunction(
        "it", "IT", "it", "Led by the CIO/CTO; builds, integrates and runs technology."
    ),
    DefaultFunction(
        "digital",
        "Digital team (CDO)",
        "digital",
        "The hub where the functions meet on digital; often reports to marketing and IT.",
    ),
    DefaultFunction("hr", "HR", "hr", "People, hiring, training and the employee experience."),
    DefaultFunction(
        "pr", "PR & communications", "pr", "Two-way conversations with customers and the public."
    ),
    DefaultFunction(
        "customer-service",
        "Customer service",
        "customer_service",
        "Serves customers, more and more through digital channels.",
    ),
    DefaultFunction(
        "innovation",
        "Innovation (R&D)",
        "innovation",
        "Turns ideas, customers' included, into new products and services.",
    ),
    DefaultFunction(
        "business-units",
        "Business units",
        "business",
        "The lines of business where digital projects land.",
    ),
)

DEFAULT_CAPABILITIES: Final[tuple[DefaultCapability, ...]] = (
    DefaultCapability(
        "digital-vision-strategy",
        "Digital vision & strategy",
        "Set where digital takes the business: the vision, the strategy and its priorities.",
        False,
    ),
    DefaultCapability(
        "social-media-marketing",
        "Social media marketing",
        "Listen to customers and market to them on social networks.",
        True,
    ),
    DefaultCapability(
        "digital-marketing-strategy",
        "Digital marketing strategy",
        "Plan marketing across web, email, social and mobile channels.",
        True,
    ),
    DefaultCapability(
        "social-crm",
        "Social CRM",
        "Manage customer relationships through social channels.",
        True,
    ),
    DefaultCapability(
        "customer-experience-strategy",
        "Customer experience strategy",
        "Design the customer's experience across every digital touchpoint.",
        True,
    ),
    DefaultCapability(
        "customer-analytics",
        "Customer analytics",
        "Turn customer data into insight on behaviour and on the effect of campaigns.",
        True,
    ),
    DefaultCapability(
        "digital-media-selection",
        "Digital media selection",
        "Choose and buy the digital media and channels that reach customers.",
        True,
    ),
    DefaultCapability(
        "crm",
        "CRM",
        "Run the customer database and the relationship management system.",
        True,
    ),
    DefaultCapability(
        "web-strategy",
        "Web strategy",
        "Decide what the website and portals are for and how they evolve.",
        True,
    ),
    DefaultCapability(
        "web-design",
        "Web design",
        "Design and build the website and portals.",
        True,
    ),
    DefaultCapability(
        "digital-vendor-selection",
        "Digital vendor selection",
        "Choose the digital technology vendors and platforms.",
        False,
    ),
    DefaultCapability(
        "customer-mobile-app-development",
        "Customer mobile app development",
        "Build and run the company's mobile apps for customers.",
        True,
    ),
    DefaultCapability(
        "employee-digital-engagement",
        "Employee digital engagement",
        "Digital tools and channels that inform, train and connect employees.",
        False,
    ),
    DefaultCapability(
        "social-customer-service",
        "Social customer service",
        "Serve customers through social media, web chat and other digital channels.",
        True,
    ),
    DefaultCapability(
        "customer-ideas-innovation",
        "Customer ideas & innovation",
        "Gather customers' ideas online and feed them into product development.",
        True,
    ),
    DefaultCapability(
        "digital-recruiting-employer-brand",
        "Digital recruiting & employer brand",
        "Hire through digital media and show the faces and voices of employees.",
        False,
    ),
    DefaultCapability(
        "customer-data-integration",
        "Customer data integration",
        "Join customer data from every channel with the existing customer databases.",
        True,
    ),
)

VISION_CAPABILITY: Final = "digital-vision-strategy"


def key_problem(key: str) -> str | None:
    """Why `key` is not a valid key, or None when it is."""
    if not key:
        return "a key cannot be empty"
    if len(key) > KEY_MAX:
        return f"`{key}` is longer than {KEY_MAX} characters"
    if not KEY_PATTERN.match(key):
        return (
            f"`{key}` is not a valid key: use lower-case letters, digits and single dashes, "
            "such as `web-design`"
        )
    return None


def slugify(name: str) -> str:
    """A key made from a display name: `Click & Collect` -> `click-and-collect`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = ascii_name.lower().replace("&", " and ")
    slug = re.sub(r"[^a-z0-9]+", "-", words).strip("-")
    return slug[:KEY_MAX].rstrip("-")


def parse_roles(value: str | list[str] | tuple[str, ...]) -> str:
    """Normalise RACI letters ("ar", ["A", "R"]) to canonical order ("RA").

    Raises ValueError naming the first letter that is not a RACI role.
    """
    letters = list(value) if isinstance(value, str) else [str(v) for v in value]
    roles = set()
    for raw in letters:
        letter = raw.strip().upper()
        if not letter or letter in {",", "/"}:
            continue
        # One letter at a time: `in RACI` alone would accept "RA" (a substring) and drop it.
        if len(letter) != 1 or letter not in RACI:
            raise ValueError(f"`{raw.strip()}` is not a RACI role: use R, A, C or I")
        roles.add(letter)
    if not roles:
        raise ValueError("no role given: use one or more of R, A, C, I")
    return "".join(r for r in RACI if r in roles)

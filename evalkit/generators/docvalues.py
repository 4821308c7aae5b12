"""Seeded field values for generated business documents: people, companies, dates, money, codes.

All names and companies are invented by combining parts; phone numbers use ranges reserved
for fiction (US 555-01xx, UK 020 7946 0xxx) so no real line is printed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

FIRST = [
    "Amelia", "Rahul", "Sofia", "Jakub", "Chiara", "Kenji", "Olivia", "Mateo", "Hannah", "Tariq",
    "Ingrid", "Luis", "Mei", "Samuel", "Fatima", "Henrik", "Priya", "Diego", "Zoe", "Emeka",
    "Clara", "Yusuf", "Elena", "Marcus", "Aoife", "Nikolai", "Leila", "Tobias", "Grace", "Arjun",
    "Marta", "Oscar", "Nadia", "Felipe", "Ruth", "Daniel", "Ayumi", "Bjorn", "Camille", "Victor",
]
LAST = [
    "Okafor", "Lindqvist", "Moreau", "Tanaka", "Brennan", "Schulz", "Castillo", "Nowak", "Haddad",
    "Fischer", "Rossi", "Kowalski", "Mendes", "Osei", "Varga", "Delacroix", "Sato", "Whitfield",
    "Iyer", "Kaplan", "Novak", "Alvarez", "Petrov", "Achterberg", "Byrne", "Demir", "Eriksen",
    "Fontaine", "Gallagher", "Horvath", "Jansen", "Kim", "Lopez", "Mbeki", "Nielsen", "Park",
]
CO_HEAD = [
    "Brightwater", "Alder", "Kestrel", "Northgate", "Silverline", "Copperleaf", "Bluestone", "Harbor",
    "Redwood", "Meridian", "Oakfield", "Lumen", "Granite", "Willow", "Summit", "Cedar", "Fjord",
    "Larkspur", "Ironbridge", "Sunmill", "Pinecrest", "Tidewater", "Quillon", "Marbleton",
]
CO_TAIL = [
    "Analytics", "Foods", "Logistics", "Design Studio", "Supplies", "Engineering", "Textiles",
    "Software", "Printworks", "Consulting", "Labs", "Hardware", "Office Furniture", "Media",
    "Coffee Roasters", "Instruments", "Packaging", "Robotics", "Garden Centre", "Bakery",
]
CO_SUFFIX = ["Ltd", "Inc.", "GmbH", "LLC", "S.L.", "B.V.", "Co.", "AB", "", "", ""]
TLD = [".com", ".co.uk", ".io", ".de", ".net", ".eu"]
STREETS = [
    "Harbour Road", "Mill Lane", "Elm Street", "Kingsway", "Station Road", "Lindenstrasse", "Rue des Lilas",
    "Market Square", "Canal Street", "Birch Avenue", "Orchard Way", "Quay Street", "Hillside Drive",
]
CITIES = [
    "Rotterdam", "Leeds", "Lyon", "Hamburg", "Porto", "Denver", "Toronto", "Gothenburg", "Valencia",
    "Krakow", "Dublin", "Austin", "Antwerp", "Bristol", "Turin", "Graz", "Aarhus", "Seattle",
    "Edinburgh", "Bologna", "Tampere", "Ghent", "Leipzig", "Bilbao", "Nantes", "Calgary",
]
TITLES = [
    "Head of Procurement", "Senior Account Manager", "Operations Coordinator", "Chief Financial Officer",
    "Customer Success Lead", "Office Manager", "Product Designer", "Logistics Planner", "Sales Director",
    "Accounts Payable Specialist", "Project Manager", "Facilities Manager", "Data Analyst",
    "Managing Director", "Marketing Executive", "Quality Assurance Engineer",
]
CURRENCIES = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "C$", "CHF": "CHF "}
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def money(cents: int) -> str:
    """1234567 -> '12,345.67' (the form amounts take in every generated document)."""
    return f"{cents // 100:,}.{cents % 100:02d}"


@dataclass
class Values:
    """Draws field values from one seeded RNG; ``date_style`` is fixed per document."""

    rng: random.Random
    date_style: int = 0

    def person(self) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)}"

    def people(self, k: int) -> list[str]:
        """k people with distinct surnames and first names."""
        firsts, lasts = self.rng.sample(FIRST, k), self.rng.sample(LAST, k)
        return [f"{f} {last}" for f, last in zip(firsts, lasts)]

    def companies(self, k: int) -> list[str]:
        """k company names that share no word."""
        heads, tails = self.rng.sample(CO_HEAD, k), self.rng.sample(CO_TAIL, k)
        return [" ".join(p for p in (h, t, self.rng.choice(CO_SUFFIX)) if p) for h, t in zip(heads, tails)]

    def domain(self, company: str) -> str:
        slug = company.split()[0].lower()
        return slug + self.rng.choice(TLD)

    def email(self, person: str, domain: str) -> str:
        first, last = person.lower().split()
        local = self.rng.choice([f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last[0]}", f"{first}"])
        return f"{local}@{domain}"

    def phone(self, us: bool | None = None) -> str:
        """A fictional number: US 555-01xx or UK 020 7946 0xxx (``us`` None: either)."""
        r = self.rng
        if us is None:
            us = r.random() < 0.5
        if us:
            return r.choice(["+1 ({a}) 555-01{b:02d}", "+1 {a} 555 01{b:02d}"]).format(a=r.randint(201, 989), b=r.randint(0, 99))
        return r.choice(["+44 20 7946 0{b:03d}", "020 7946 0{b:03d}"]).format(b=r.randint(0, 999))

    def address(self) -> tuple[str, str]:
        """(street line, city)."""
        street = f"{self.rng.randint(1, 240)} {self.rng.choice(STREETS)}"
        return street, self.rng.choice(CITIES)

    def day(self) -> dt.date:
        """A date between 2023 and 2026."""
        return dt.date(2023, 1, 1) + dt.timedelta(days=self.rng.randint(0, 4 * 365))

    def shift(self, d: dt.date, lo: int, hi: int) -> dt.date:
        """d moved by lo..hi days (negative moves back), never by zero."""
        days = self.rng.choice([x for x in range(lo, hi + 1) if x != 0])
        return d + dt.timedelta(days=days)

    def fmt_date(self, d: dt.date) -> str:
        style = self.date_style % 4
        if style == 0:
            return d.isoformat()
        if style == 1:
            return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
        if style == 2:
            return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"
        return f"{d.day:02d} {MONTHS[d.month - 1][:3]} {d.year}"

    def fmt_time(self, hour: int, minute: int, twelve: bool) -> str:
        if not twelve:
            return f"{hour:02d}:{minute:02d}"
        return f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"

    def code(self, pattern: str) -> str:
        """Fill a pattern: '#' digit, '@' capital letter, anything else kept."""
        out = []
        for ch in pattern:
            if ch == "#":
                out.append(str(self.rng.randint(0, 9)))
            elif ch == "@":
                out.append(self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ"))
            else:
                out.append(ch)
        return "".join(out)

    def codes(self, pattern: str, k: int) -> list[str]:
        """k distinct codes of one pattern (e.g. this invoice number and a previous one)."""
        seen: list[str] = []
        while len(seen) < k:
            c = self.code(pattern)
            if c not in seen:
                seen.append(c)
        return seen

    def line_items(self, catalogue: list[str], k: int) -> list[tuple[str, int, int]]:
        """k (description, quantity, unit price in cents) lines."""
        names = self.rng.sample(catalogue, k)
        cents = [0, 0, 50, 99, 25]
        return [(name, self.rng.randint(1, 12), self.rng.randint(4, 900) * 100 + self.rng.choice(cents)) for name in names]


@dataclass
class Doc:
    """One generated document: its text, the gold fields, and the distractor values printed in it."""

    text: str
    gold: dict[str, object]
    distractors: dict[str, str]
    layout: str


def tax_cents(subtotal: int, rate_bp: int) -> int:
    """Tax on ``subtotal`` cents at ``rate_bp`` basis points, rounded half up to the cent."""
    return (subtotal * rate_bp + 5000) // 10000


def rate_text(rate_bp: int) -> str:
    """2000 -> '20', 850 -> '8.5'."""
    return f"{rate_bp / 100:g}"


def table(lines: list[tuple[str, int, int]]) -> str:
    """Line items as a fixed-width table (description, quantity, unit price, amount)."""
    rows = [f"{'Description':<36}{'Qty':>5}{'Unit price':>13}{'Amount':>13}"]
    rows += [f"{d:<36}{q:>5}{money(u):>13}{money(q * u):>13}" for d, q, u in lines]
    return "\n".join(rows)

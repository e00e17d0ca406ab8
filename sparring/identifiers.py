"""Spot obvious identifiers in a text before it is sent, so the writer can anonymise it.

A heuristic, not a guarantee: it finds e-mail addresses, phone numbers (Dutch and international
formats), IBANs, BSN-like nine-digit numbers, Dutch postcodes and street addresses with a house
number. Names cannot be found this way; the form reminds the writer of them separately.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

KINDS = {
    "email": _("an e-mail address"),
    "phone": _("a phone number"),
    "iban": _("a bank account number (IBAN)"),
    "bsn": _("a nine-digit number (citizen service number?)"),
    "address": _("a postcode or street address"),
}

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# International: +31 6 1234 5678, 0031 20 123 4567, +44 (0)20 7946 0958, +1-202-555-0173.
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[\s.\-/]*(?:\(0\))?[\s.\-/]*\d){6,13}(?!\d)"
)
# Dutch national: 06-12345678, 06 1234 5678, 020-123 45 67, (020) 1234567, 0800-1234.
_PHONE_DUTCH = re.compile(r"(?<![\w+])(?:\(0\d{1,3}\)|0\d)(?:[\s.\-/]*\d){7,8}(?!\d)")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b")
_NINE_DIGITS = re.compile(
    r"(?<![\d.,\-])(?:\d{9}|\d{3}[.\s-]\d{3}[.\s-]\d{3}|\d{4}[.\s]\d{2}[.\s]\d{3})(?![\d]|[.,]\d)"
)
# 1234 AB (not SA, SD, SS, which Dutch postcodes never use), with or without a house number.
_POSTCODE = re.compile(r"\b[1-9]\d{3}\s?(?!SA|SD|SS)[A-Z]{2}\b")
_STREET = re.compile(
    r"\b[A-Z][\w'\-]*(?:straat|laan|weg|plein|gracht|kade|singel|dijk|dreef|hof|steeg|pad|park|"
    r"markt|boulevard|plantsoen|erf|wal|burg|haven)\s+\d{1,5}\s?[a-zA-Z]?\b"
)


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str

    @property
    def label(self) -> str:
        return str(KINDS[self.kind])


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _iban_is_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def find_identifiers(text: str) -> list[Finding]:
    """Return what looks like an identifier in `text`, in order of appearance, without repeats."""
    found: list[tuple[int, Finding]] = []
    taken: list[range] = []

    def add(kind: str, match: re.Match[str]) -> None:
        span = range(match.start(), match.end())
        if any(span.start < other.stop and other.start < span.stop for other in taken):
            return  # already reported as something else (an IBAN holds digits, an address too)
        taken.append(span)
        found.append((match.start(), Finding(kind, match.group().strip())))

    for match in _EMAIL.finditer(text):
        add("email", match)
    for match in _IBAN.finditer(text):
        if match.group().startswith("NL") or _iban_is_valid(match.group()):
            add("iban", match)
    for match in _PHONE_INTERNATIONAL.finditer(text):
        if 8 <= len(_digits(match.group())) <= 15:
            add("phone", match)
    for match in _PHONE_DUTCH.finditer(text):
        add("phone", match)
    for match in _NINE_DIGITS.finditer(text):
        add("bsn", match)
    for match in _POSTCODE.finditer(text):
        add("address", match)
    for match in _STREET.finditer(text):
        add("address", match)
    unique: dict[tuple[str, str], Finding] = {}
    for _start, finding in sorted(found, key=lambda item: item[0]):
        unique.setdefault((finding.kind, finding.text), finding)
    return list(unique.values())

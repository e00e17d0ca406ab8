"""Patterns of the board text check: contact details, numbers, dates, names, shares."""

from __future__ import annotations

import re

from boardroom.textcheck.words import MONTHS, WEEKDAYS

# Patterns start at a token boundary and bound their repetitions, so that a long run of dots,
# dashes or digits (texts go up to 20,000 characters) cannot make them backtrack quadratically.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,6}")
_AT = r"(?:\s*(?:\(at\)|\[at\]|\{at\}|<at>|\(apenstaartje\)|\[apenstaartje\]|@)\s*|\s+(?:at|apenstaartje)\s+)"
_DOT = r"(?:\s*(?:\(dot\)|\[dot\]|\{dot\}|\(punt\)|\[punt\])\s*|\s+(?:dot|punt)\s+|\.)"
_TLD = r"(?:nl|com|org|net|be|de|eu|uk|nu|info|io|co|gov|edu|example|test|fr|local|biz)"
EMAIL_DISGUISED = re.compile(
    rf"(?<![\w.+-])\w[\w.+-]{{0,63}}{_AT}[\w-]{{1,63}}(?:{_DOT}[\w-]{{1,63}}){{0,5}}{_DOT}{_TLD}\b",
    re.IGNORECASE,
)
PHONE = re.compile(r"(?:\+|\(|\b)\d[\d\s\-().\/]{7,24}\d\b")
EXTENSION = re.compile(
    r"\b(?:ext|extn|extension|toestel|tst|doorkies|doorkiesnummer|intern nummer|internal line)"
    r"\.?\s*(?:nr\.?|no\.?|number|nummer)?\s*:?\s*\d[\d\s-]{0,10}\d\b",
    re.IGNORECASE,
)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
POSTCODE = re.compile(r"\b[1-9]\d{3}\s?(?!HR|MT|OR|IT|AI|PR|QA|CT|EU|NL|UK)[A-Z]{2}\b")
STREET = re.compile(
    r"(?<![\w'-])[^\W\d_][\w'-]{1,40}?(?:straat|laan|weg|plein|gracht|kade|singel|dijk|steeg|hof|dreef|markt|"
    r"plantsoen|boulevard|allee|baan|ring)\s+\d{1,4}\s?[a-z]?\b",
    re.IGNORECASE,
)
STREET_EN = re.compile(
    r"\b\d{1,4}[A-Za-z]?\s+(?:[A-Z][\w'-]+\s+){1,3}(?:Street|St|Road|Rd|Avenue|Ave|Lane|Drive|"
    r"Way|Close|Square|Place|Court|Crescent|Terrace|Gardens|Boulevard)\b"
)
ID_NUMBER = re.compile(
    r"\b(?:personeels|medewerker|medewerkers|werknemer|werknemers|badge|pas|dossier|"
    r"registratie|employee|staff|personnel|payroll|bsn|sofi|burgerservice)[\s-]?"
    r"(?:nummer|nr\.?|number|no\.?|id|#)?(?:\s+(?:is|was))?\s*:?\s*#?\s*[A-Z]{0,3}-?\d[\dA-Z-]{2,}\b",
    re.IGNORECASE,
)
PLATE = re.compile(
    r"(?<![\w-])(?=[A-Z0-9-]{8}(?![\w-]))(?=[A-Z-]{0,7}\d)(?=[\d-]{0,7}[A-Z])(?:[A-Z]{1,3}|\d{1,3})-(?:[A-Z]{1,3}|\d{1,3})"
    r"-(?:[A-Z]{1,3}|\d{1,3})\b|\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b"
)
PLATE_WORD = re.compile(
    r"\b(?:kenteken|licence plate|license plate|registration|nummerbord)\s*:?\s*[A-Z0-9-]{4,}\b",
    re.IGNORECASE,
)
_MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DAY_MONTH = re.compile(
    rf"(?:\b(?:{WEEKDAYS})\s+)?\b\d{{1,2}}(?:st|nd|rd|th|e|ste|de)?\s+(?:of\s+)?{_MONTH}\b"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?![\d,.]\d)",
    re.IGNORECASE,
)
NUMERIC_DATE = re.compile(
    r"\b(?:0?[1-9]|[12]\d|3[01])[-/](?:0?[1-9]|1[0-2])(?:[-/](?:\d{4}|\d{2}))?\b(?!%)"
    r"|\b(?:0?[1-9]|[12]\d|3[01])\.(?:0?[1-9]|1[0-2])\.(?:\d{4}|\d{2})\b"
)
WEEKDAY_REF = re.compile(
    rf"\b(?:last|past|this past|afgelopen|vorige|jongstleden|on)\s+(?:{WEEKDAYS})\b(?!s)"
    rf"|\b(?:{WEEKDAYS})\s+(?:last week|vorige week|jongstleden|jl\.)"
    rf"|\b(?:last week|vorige week)\s+(?:{WEEKDAYS})\b"
    rf"|\bop\s+(?:{WEEKDAYS})\s+\d{{1,2}}\b"
    r"|\b(?:yesterday|gisteren|eergisteren|gisteravond|gistermiddag|gisterochtend|vannacht|"
    r"vanochtend|vanmorgen|last night|this morning)\b",
    re.IGNORECASE,
)
CLOCK = re.compile(
    r"\b(?:[01]?\d|2[0-3])[:.][0-5]\d\s*(?:uur|u\b|h\b|am\b|pm\b|a\.m\.|p\.m\.)"
    r"|\b(?:[01]?\d|2[0-3]):[0-5]\d\b|\b(?:1[0-2]|0?[1-9])\s*(?:am|pm|a\.m\.|p\.m\.)",
    re.IGNORECASE,
)
# Dates that set a policy or a deadline rather than date an event.
POLICY_DATE_BEFORE = re.compile(
    r"\b(?:since|sinds|vanaf|per|from|as of|before|vóór|voor|uiterlijk|by|until|tot|starting|"
    r"met ingang van|ingaande|deadline)\s*$",
    re.IGNORECASE,
)
AGE = re.compile(
    r"\b\d{1,2}[-\s]?(?:year[-\s]old|jarige|jaar oud)\b|\baged?\s+\d{1,2}\b"
    r"|\b(?:leeftijd|age)\s*:?\s*\d{1,2}\b"
    r"|\b(?:vrouw|man|female|male|woman|m|v|f)\s*[,/]\s*\d{1,2}\b"
    r"|\b(?:vrouw|man|medewerker|medewerkster|collega|woman|man|employee|colleague)\s+"
    r"(?:van|of)\s+\d{1,2}\b(?!\s*(?:%|procent|percent|meldingen|reports|jaar|years))",
    re.IGNORECASE,
)
WEB = re.compile(
    r"\b(?:https?://|www\.)\S{1,200}|(?<![\w.-])[\w-]{1,63}\.(?:com|nl|org|net|be|eu|io|uk)/\S{1,200}"
    r"|(?<![\w.@])@[A-Za-z][\w.]{2,}",
    re.IGNORECASE,
)
POSTCODE_UK = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b")
PO_BOX = re.compile(r"\b(?:postbus|po box|p\.o\. box)\s*\d+", re.IGNORECASE)
STARTED = re.compile(
    r"\b(?:who|die|that)\s+(?:[\w'-]+\s+){0,6}?(?:started|joined|began|begon|in dienst (?:kwam|trad)"
    r"|kwam werken|came to work)\b",
    re.IGNORECASE,
)
INITIALS = re.compile(
    r"\b(?:[A-Z]\.\s?){1,4}(?:(?:van|de|der|den|ter|ten|te|het|'t|op|in)\s+)*[A-Z][a-z][\w'-]*"
)
WORD = re.compile(r"[^\W\d_][\w'\u2019-]*", re.UNICODE)
NUMBER = re.compile(r"(?<![\w.,/-])(\d+)(?![\w%]|[.,]\d|\s*%|\s*procent|\s*percent)")
PERCENT = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,2})?)\s*(?:%|procent\b|percent\b|per cent\b)", re.IGNORECASE
)
PERCENT_OF_NUMBER = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:[.,]\d{1,2})?)\s*(?:%|procent|percent|per cent)\s+(?:of|van)\s+(?:the|de|het|all|alle|"
    r"our|onze)?\s*(\d{1,6})\b",
    re.IGNORECASE,
)
SHARE_MARKER = re.compile(
    r"\b(?:of|van|daarvan|hiervan|waarvan|thereof|of these|of them|among|onder)\b", re.IGNORECASE
)
FRACTION = re.compile(
    r"\b(?:(?P<vague>(?:meer dan|ruim|bijna|ongeveer|circa|zo'n|minder dan|more than|nearly|"
    r"almost|about|around|roughly|less than|well over|over)\s+)?(?:de\s+|a\s+|one\s+|een\s+|two\s+|twee\s+|"
    r"three\s+|drie\s+)?)"
    r"(?P<share>half|helft|third|thirds|derde|quarter|quarters|kwart|fifth|fifths|vijfde)"
    r"\s+(?:of|van)\s+(?P<rest>[\w'-]{1,40}(?:\s+[\w'-]{1,40}){0,3})",
    re.IGNORECASE,
)
GROUP_SIZE = re.compile(
    r"\b(?:team|afdeling|department|groep|group|ploeg|unit|office|kantoor|winkel|shop|locatie|site)"
    r"\s+(?:van|of|with|met)\s+(?P<size>\d{1,2})\b",
    re.IGNORECASE,
)
FRACTIONS = {
    "half": 1 / 2,
    "helft": 1 / 2,
    "third": 1 / 3,
    "derde": 1 / 3,
    "quarter": 1 / 4,
    "kwart": 1 / 4,
    "fifth": 1 / 5,
    "vijfde": 1 / 5,
}
FRACTION_WORD = re.compile(
    r"\b(?:de helft|half|een derde|a third|one third|een kwart|a quarter|one quarter|een vijfde|"
    r"a fifth)\b",
    re.IGNORECASE,
)
SENTENCE_END = re.compile("(?:[.!?:;]|^|\\n)[\\s\"'\u201c\u2018(\\[*\u2022-]*$")

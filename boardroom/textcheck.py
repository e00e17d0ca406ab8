"""Checks on what an adviser (or the board) writes for the board: no names, no contact details,
no small numbers. A heuristic, deliberately strict: it refuses and says what to rewrite.

- e-mail addresses and phone numbers (nine digits or more);
- names: a capitalised word inside a sentence, two capitalised words in a row anywhere, or any
  word after a title (Mr, mevrouw, dhr., ...), unless it is a known word (months, days, the
  organisation's own name, institutions such as the Arbowet);
- counts below k: a number from 1 to k - 1 (not a percentage), or a number word (two, drie, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.translation import gettext as _

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?:\+|\b)\d[\d\s\-().]{7,}\d\b")
WORD = re.compile(r"[^\W\d_][\w'\u2019-]*", re.UNICODE)
NUMBER = re.compile(r"(?<![\w.,])(\d+)(?![\w%.,]|\s*%)")
TITLES = {
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "prof",
    "dhr",
    "mevr",
    "mw",
    "meneer",
    "mevrouw",
    "heer",
    "juffrouw",
    "ir",
    "ing",
    "drs",
    "mr.",
}
KNOWN_WORDS = {
    # months and days, Dutch and English
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
    "january",
    "february",
    "march",
    "may",
    "june",
    "july",
    "august",
    "october",
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    # institutions and terms a signal may well mention
    "arbowet",
    "huis",
    "klokkenluiders",
    "slachtofferhulp",
    "psa",
    "wet",
    "bescherming",
    "welzijnswet",
    "vertrouwd",
    "nederland",
    "netherlands",
    "dutch",
    "english",
    "belgium",
    "belgië",
    "q1",
    "q2",
    "q3",
    "q4",
}
NUMBER_WORDS = {
    1: {"één", "eén"},
    2: {"two", "twee"},
    3: {"three", "drie"},
    4: {"four", "vier"},
    5: {"five", "vijf"},
    6: {"six", "zes"},
    7: {"seven", "zeven"},
    8: {"eight", "acht"},
    9: {"nine", "negen"},
}
SENTENCE_END = re.compile(r"[.!?:;]\s*$|^\s*$|\n\s*$|[-•*]\s*$")


def _is_capitalised(word: str) -> bool:
    return len(word) >= 2 and word[0].isupper() and any(ch.islower() for ch in word[1:])


def text_problems(text: str, *, k: int, known: Iterable[str] = ()) -> list[str]:
    """Return what is wrong with `text` for a board (translated messages), or [] when fine."""
    problems: list[str] = []
    known_words = KNOWN_WORDS | {word.lower() for word in known}
    for match in EMAIL.finditer(text):
        problems.append(_("Remove the e-mail address “%(text)s”.") % {"text": match.group()})
    stripped = EMAIL.sub(" ", text)
    for match in PHONE.finditer(stripped):
        if sum(ch.isdigit() for ch in match.group()) >= 9:
            problems.append(
                _("Remove the phone number “%(text)s”.") % {"text": match.group().strip()}
            )
    names: list[str] = []
    words = list(WORD.finditer(stripped))
    for index, match in enumerate(words):
        word = match.group()
        before = stripped[: match.start()]
        previous = words[index - 1].group().lower().rstrip(".") if index else ""
        starts_sentence = bool(SENTENCE_END.search(before))
        follows_title = previous in TITLES and index > 0
        next_word = words[index + 1].group() if index + 1 < len(words) else ""
        adjacent = (
            index + 1 < len(words)
            and stripped[match.end() : words[index + 1].start()].strip() == ""
        )
        if word.lower() in known_words or word.lower().rstrip(".") in TITLES:
            continue
        if (follows_title and word.lower() not in TITLES) or (
            _is_capitalised(word)
            and (
                not starts_sentence
                or (
                    adjacent and _is_capitalised(next_word) and next_word.lower() not in known_words
                )
            )
        ):
            names.append(word)
    for name in dict.fromkeys(names):
        problems.append(
            _("“%(text)s” looks like a name or a place. Describe groups or roles instead.")
            % {"text": name}
        )
    small = [
        match.group(1)
        for match in NUMBER.finditer(stripped)
        if 1 <= int(match.group(1)) < k and len(match.group(1)) < 4
    ]
    lowered = {match.group().lower() for match in words}
    for value in range(1, k):
        small += sorted(lowered & NUMBER_WORDS.get(value, set()))
    for number in dict.fromkeys(small):
        problems.append(
            _(
                "“%(text)s” is a number below %(k)d. Small numbers can identify people: write "
                "“fewer than %(k)d” or describe the trend without a number."
            )
            % {"text": number, "k": k}
        )
    return problems

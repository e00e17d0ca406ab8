"""Checks on what an adviser (or the board) writes for the board: nothing that points at a person.
A heuristic, deliberately strict: it refuses and says what to rewrite. Dutch and English.

Each rule finds spans in the text; a span that is reported (or that is known to be harmless, such
as "since 1 January") is blanked before the next rule runs, so one phrase gets one message.

- contact details: e-mail addresses, also written as "(at)", "[at]", " at ", "apenstaartje" with
  "(dot)", " dot ", "punt"; phone numbers (nine digits or more with any separators, "+31",
  extensions: "ext. 123", "toestel 4321"); web addresses and @handles;
- addresses and identifying numbers: street and house number, postcodes (1234 AB, SW1A 1AA),
  PO boxes, employee, badge and citizen service numbers, IBANs, licence plates;
- dates to the day ("on 3 March", "op 12-03", "last Tuesday", "gisteren", "16:30"), except
  policy dates ("since 1 January", "vóór 1 juli");
- names: initials with a surname ("J. Jansen"), any word after a title (Mr, mevrouw, dhr.),
  a capitalised word inside a sentence, and, in any case and position, first names and surnames
  from the embedded lists (with Dutch tussenvoegsels: "van der Berg"); a listed name that is
  also an ordinary word ("Will", "Bakker") counts only when its context makes it a name;
- roles and traits that only one person has: "the only woman in finance", "de enige",
  "the new intern", "de teamleider van de receptie", "the night shift coordinator", "the CFO",
  "de partner van de directeur", "de medewerker in de rolstoel", ages ("de 63-jarige");
- small counts (below k): digits (also followed by a full stop or a comma), number words up to
  fifty, "both", "beide", "twice", "tweemaal", "a single", "een enkele", "only one", ordinals
  that count reports or times ("the third complaint", "voor de tweede keer"); shares that pin a
  small count: "50% of the 4 reports", "half of the team", and a percentage of a total shown
  beside the text (`totals`).

Known words (months, days, institutions, the organisation's own name passed as `known`) never
count as names. Word lists live in `words.py`, patterns in `patterns.py`; the evaluation set with
its measured recall and false-positive rate is tests/textcheck_cases.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.utils.translation import gettext as _

from boardroom.textcheck.patterns import (
    AGE,
    CLOCK,
    DAY_MONTH,
    EMAIL,
    EMAIL_DISGUISED,
    EXTENSION,
    FRACTION,
    FRACTION_WORD,
    FRACTIONS,
    GROUP_SIZE,
    IBAN,
    ID_NUMBER,
    INITIALS,
    NUMBER,
    NUMERIC_DATE,
    PERCENT,
    PERCENT_OF_NUMBER,
    PHONE,
    PLATE,
    PLATE_WORD,
    PO_BOX,
    POLICY_DATE_BEFORE,
    POSTCODE,
    POSTCODE_UK,
    SENTENCE_END,
    SHARE_MARKER,
    STARTED,
    STREET,
    STREET_EN,
    WEB,
    WEEKDAY_REF,
    WORD,
)
from boardroom.textcheck.words import (
    AMBIGUOUS,
    BROAD_UNITS,
    C_LEVEL,
    DETERMINERS,
    FIRST_NAMES,
    FREQUENCY,
    GENERIC_MODIFIERS,
    GROUP_COUNT_WORDS,
    GROUP_NOUNS,
    HEAD_ROLES,
    KNOWN_WORDS,
    NAME_CONTEXT,
    NOT_COUNTED_AFTER_BOTH,
    NOT_PEOPLE_AFTER_ONLY,
    NOT_PEOPLE_COUNTED,
    NUMBER_LABELS,
    NUMBER_WORDS,
    ORDINALS,
    PERSON_NOUNS,
    REPORT_NOUNS,
    ROLE_BASES,
    SINGLE_HOLDERS,
    SINGLING,
    SURNAME_CORES,
    SURNAMES,
    TIME_UNITS,
    TITLES,
    TRAITS,
    TUSSENVOEGSELS,
)

# --- the check ------------------------------------------------------------------------------------


class _Finder:
    """Collects problems per kind and blanks what it found, so later rules do not see it again."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.masked = text
        self.found: dict[tuple[str, str], None] = {}

    def blank(self, start: int, end: int) -> None:
        self.masked = self.masked[:start] + " " * (end - start) + self.masked[end:]

    def add(self, kind: str, start: int, end: int) -> None:
        snippet = self.text[start:end].strip(" ,;:.()[]")
        self.found.setdefault((kind, snippet))
        self.blank(start, end)

    def each(
        self, pattern: re.Pattern[str], kind: str, keep: Callable[[re.Match], bool] | None = None
    ):
        for match in pattern.finditer(self.masked):
            if keep is None or keep(match):
                self.add(kind, match.start(), match.end())


def _tokens(masked: str) -> list[re.Match]:
    return list(WORD.finditer(masked))


def _contact_and_numbers(finder: _Finder) -> None:
    finder.each(EMAIL, "email")
    finder.each(EMAIL_DISGUISED, "email")
    finder.each(WEB, "web")
    finder.each(IBAN, "id", lambda m: sum(ch.isdigit() for ch in m.group()) >= 8)
    finder.each(ID_NUMBER, "id")
    finder.each(PLATE_WORD, "id")
    finder.each(PLATE, "id")
    finder.each(EXTENSION, "phone")
    finder.each(PHONE, "phone", lambda m: sum(ch.isdigit() for ch in m.group()) >= 9)
    finder.each(STREET, "address")
    finder.each(STREET_EN, "address")
    finder.each(POSTCODE, "address")
    finder.each(POSTCODE_UK, "address")
    finder.each(PO_BOX, "address")


def _dates(finder: _Finder) -> None:
    for pattern in (DAY_MONTH, NUMERIC_DATE):
        for match in pattern.finditer(finder.masked):
            if POLICY_DATE_BEFORE.search(finder.masked[max(0, match.start() - 40) : match.start()]):
                finder.blank(match.start(), match.end())  # "since 1 January": no problem
            else:
                finder.add("date", match.start(), match.end())
    finder.each(WEEKDAY_REF, "date")
    finder.each(CLOCK, "date")


def _starts_sentence(masked: str, start: int) -> bool:
    """True when only punctuation of a sentence end (or the start of the text) lies before."""
    before = masked[max(0, start - 200) : start]  # blanked spans are spaces: look back far enough
    return bool(SENTENCE_END.search(before)) and (start <= 200 or before.strip(" \t\"'(") != "")


def _capitalised(word: str) -> bool:
    return len(word) >= 2 and word[0].isupper() and any(ch.islower() for ch in word[1:])


def _bare(word: str) -> str:
    """Lower case, without a possessive: "Thomas's" -> "thomas"."""
    word = word.lower().replace("\u2019", "'")
    return word[:-2] if word.endswith("'s") else word


def _names(finder: _Finder, known_words: frozenset[str]) -> None:
    finder.each(INITIALS, "name")
    masked = finder.masked
    tokens = _tokens(masked)
    skip_until = -1
    for index, match in enumerate(tokens):
        if match.start() < skip_until:
            continue
        word = match.group()
        lower = _bare(word)
        following = [token.group() for token in tokens[index + 1 : index + 4]]
        previous = tokens[index - 1].group().lower().rstrip(".") if index else ""
        # a name may run on: "Pieter de Vries", "van der Berg", "Mevrouw De Boer"
        end = match.end()
        cursor = end
        for token in tokens[index + 1 : index + 4]:
            if masked[cursor : token.start()].strip(" .") or token.group().lower() in known_words:
                break
            cursor = token.end()
            if _capitalised(token.group()):
                end = cursor
            elif token.group().lower() not in TUSSENVOEGSELS:
                break
        if lower in known_words or lower.rstrip(".") in TITLES:
            continue
        if (
            previous in TITLES
            and index
            and (
                _capitalised(word)
                or (
                    lower in TUSSENVOEGSELS
                    and following
                    and (_capitalised(following[0]) or _bare(following[0]) in SURNAME_CORES)
                )
            )
        ):
            finder.add("name", tokens[index - 1].start(), end)
            skip_until = end
            continue
        if lower in TUSSENVOEGSELS:
            # "van der berg", "de vries" in lower case: a tussenvoegsel followed by a surname core
            chain = [lower]
            cursor = index + 1
            while (
                cursor < min(len(tokens), index + 4)
                and tokens[cursor].group().lower() in TUSSENVOEGSELS
            ):
                chain.append(tokens[cursor].group().lower())
                cursor += 1
            if (
                cursor < len(tokens)
                and chain[0] in {"van", "de", "ter", "ten", "vd", "v/d"}
                and _bare(tokens[cursor].group()) in SURNAME_CORES
                and tokens[cursor].group().islower()
                and not (chain == ["de"] and _bare(tokens[cursor].group()) == "boer")
                and not (chain == ["van"] and _bare(tokens[cursor].group()) == "wijk")
            ):
                finder.add("name", match.start(), tokens[cursor].end())
                skip_until = tokens[cursor].end()
            continue
        at_start = _starts_sentence(masked, match.start())
        parts = lower.split("-")
        listed = (
            lower in FIRST_NAMES
            or lower in SURNAMES
            or (len(parts) > 1 and parts[0] in FIRST_NAMES and word.split("-")[1][:1].isupper())
        )
        next_word = following[0] if following else ""
        in_context = bool(next_word) and (
            _capitalised(next_word)
            or next_word.lower() in NAME_CONTEXT
            or next_word.lower() in TUSSENVOEGSELS
        )
        if _capitalised(word) and not at_start:
            name = True
            first = index
            while (
                first > max(0, index - 3)
                and tokens[first - 1].group().lower() in TUSSENVOEGSELS
                and not (masked[tokens[first - 1].end() : tokens[first].start()].strip())
            ):
                first -= 1
            if first < index and tokens[first].group().lower() in {"van", "de", "ter", "ten"}:
                finder.add("name", tokens[first].start(), end)
                skip_until = end
                continue
        elif _capitalised(word) and at_start:
            name = listed and (lower not in AMBIGUOUS or in_context)
            # "Pieter de Vries" at the start: the second part is caught as capitalised anyway
        elif word.islower():
            name = listed and lower not in AMBIGUOUS
        else:
            name = False
        if name:
            finder.add("name", match.start(), end)
            skip_until = end


def _ends_role(word: str) -> bool:
    lower = word.lower()
    return any(lower == base or lower.endswith(base) for base in ROLE_BASES)


def _is_person(word: str) -> bool:
    lower = _bare(word)
    return lower in PERSON_NOUNS or _ends_role(lower) or lower in C_LEVEL


def _roles(finder: _Finder) -> None:
    finder.each(AGE, "role")
    finder.each(STARTED, "role")
    masked = finder.masked
    tokens = _tokens(masked)
    lowered = [token.group().lower() for token in tokens]
    for index, lower in enumerate(lowered):
        if (
            lower in HEAD_ROLES
            and index > 3
            and lowered[index - 1] in {"de", "het", "the", "onze", "our"}
            and lowered[index - 2] in {"van", "of"}
            and lowered[index - 4] in DETERMINERS
        ):
            # "de partner van de directeur", "the assistant of the dentist"
            finder.add("role", tokens[index - 4].start(), tokens[index].end())
        elif (
            lower in TRAITS
            and index > 2
            and lowered[index - 2] in {"in", "met", "with", "op", "on"}
            and _is_person(lowered[index - 3])
        ):
            # "de medewerker in de rolstoel", "the colleague with a headscarf"
            finder.add("role", tokens[index - 3].start(), tokens[index].end())
    masked = finder.masked
    tokens = _tokens(masked)
    lowered = [token.group().lower() for token in tokens]
    for index, lower in enumerate(lowered):
        nxt = lowered[index + 1 : index + 5]
        # "the only woman in finance", "de enige medewerker met een hoofddoek"
        if (
            lower in {"only", "sole", "enige", "lone"}
            and index
            and lowered[index - 1] in {"the", "de", "het", "a", "our", "onze", "als"}
            and nxt
            and nxt[0] not in NOT_PEOPLE_AFTER_ONLY
        ):
            end = tokens[min(index + 2, len(tokens) - 1)].end()
            finder.add("role", tokens[index - 1].start(), end)
            continue
        if lower in C_LEVEL:
            finder.add("role", tokens[index].start(), tokens[index].end())
            continue
        if lower in DETERMINERS and nxt and nxt[0] in SINGLE_HOLDERS:
            # "the receptionist", "de conciërge": a job one person holds in most organisations
            finder.add("role", tokens[index].start(), tokens[index + 1].end())
            continue
        if (
            lower in {"a", "an", "een"}
            and len(nxt) >= 4
            and _bare(nxt[0]) in PERSON_NOUNS
            and nxt[1] in {"from", "of", "at", "van", "uit", "bij", "op"}
            and nxt[2] in {"the", "de", "het", "our", "onze"}
            and nxt[3] not in BROAD_UNITS
            and nxt[3] not in PERSON_NOUNS
        ):
            # "een collega van de balie", "an employee from reception": one person of a unit
            finder.add("role", tokens[index].start(), tokens[index + 4].end())
            continue
        if lower not in DETERMINERS or not nxt:
            continue
        # "the new intern", "de jongste medewerker", "the new office manager"
        if nxt[0] in SINGLING and len(nxt) > 1:
            for offset, word in enumerate(nxt[1:3], start=2):
                if _is_person(word):
                    finder.add("role", tokens[index].start(), tokens[index + offset].end())
                    break
            else:
                continue
            continue
        # "de teamleider van de receptie", "the head of the kitchen", "the team leader of ..."
        for offset, word in enumerate(nxt[:3], start=1):
            if word in GENERIC_MODIFIERS:
                break
            if _ends_role(word) and word not in PERSON_NOUNS:
                after = lowered[index + offset + 1] if index + offset + 1 < len(lowered) else ""
                compound = (
                    "-" in word
                    or offset > 1
                    or (word != _matching_base(word) and word[: -len(_matching_base(word))])
                )
                scoped = after in {"van", "of", "in", "at", "bij", "op", "for", "voor"}
                if (compound and _matching_base(word) not in {"leider", "lead"}) or scoped:
                    if offset > 1 and not all(
                        tokens[index + step].group().islower() for step in range(1, offset)
                    ):
                        break
                    finder.add("role", tokens[index].start(), tokens[index + offset].end())
                break
            if not word.isalpha() or word in REPORT_NOUNS or word in DETERMINERS:
                break


def _matching_base(word: str) -> str:
    for base in sorted(ROLE_BASES, key=len, reverse=True):
        if word.endswith(base):
            return base
    return ""


def _shares(finder: _Finder, k: int, totals: tuple[int, ...]) -> None:
    for match in PERCENT_OF_NUMBER.finditer(finder.masked):
        share = float(match.group(1).replace(",", ".")) / 100
        total = int(match.group(2))
        count = round(share * total)
        if 0 < count < k or 0 < total - count < k:
            finder.add("share", match.start(), match.end())
    for match in FRACTION.finditer(finder.masked):
        rest = match.group("rest").lower().split()
        if match.group("vague"):
            continue
        if any(word in GROUP_NOUNS for word in rest[:4]):
            finder.add("share", match.start(), match.end("rest"))
    for sentence, offset in _sentences(finder.masked):
        size = GROUP_SIZE.search(sentence)
        if not size:
            continue
        total = int(size.group("size"))
        for match in FRACTION_WORD.finditer(sentence):
            count = round(FRACTIONS[match.group().lower().split()[-1]] * total)
            if 0 < count < k or 0 < total - count < k:
                finder.add("share", offset + size.start(), offset + size.end())
                finder.add("share", offset + match.start(), offset + match.end())
                break
    if not totals:
        return
    for sentence, offset in _sentences(finder.masked):
        if not SHARE_MARKER.search(sentence):
            continue
        for match in PERCENT.finditer(sentence):
            share = float(match.group(1).replace(",", ".")) / 100
            for total in totals:
                count = round(share * total)
                if 0 < count < k or 0 < total - count < k:
                    finder.add("share", offset + match.start(), offset + match.end())
                    break


def _sentences(text: str) -> list[tuple[str, int]]:
    return [(match.group(), match.start()) for match in re.finditer(r"[^.!?;]+[.!?;]*", text)]


def _counts(finder: _Finder, k: int) -> None:
    masked = finder.masked
    tokens = _tokens(masked)
    lowered = [_bare(token.group()) for token in tokens]

    def rest_after(index: int) -> str:
        return masked[tokens[index].end() : tokens[index].end() + 40]

    for index, lower in enumerate(lowered):
        nxt = lowered[index + 1] if index + 1 < len(lowered) else ""
        nxt2 = lowered[index + 2] if index + 2 < len(lowered) else ""
        prev = lowered[index - 1] if index else ""
        prev2 = lowered[index - 2] if index > 1 else ""
        start, end = tokens[index].start(), tokens[index].end()
        value = NUMBER_WORDS.get(lower)
        if lower in GROUP_COUNT_WORDS or (
            lower == "pair" and (prev in {"the", "a"} and (nxt in {"of", "on", "in", "at"}))
        ):
            finder.add("count", start, end)
        elif lower in {"both", "beide", "beiden", "allebei"}:
            if nxt in NOT_COUNTED_AFTER_BOTH and lower in {"both", "beide"}:
                continue
            finder.add("count", start, end)
        elif lower in {"twice", "thrice", "tweemaal", "driemaal", "viermaal"}:
            if not FREQUENCY.match(rest_after(index)):
                finder.add("count", start, end)
        elif lower in {"single", "enkele", "lone"} and prev in {"a", "een", "één"}:
            if nxt in PERSON_NOUNS or nxt in REPORT_NOUNS or _is_person(nxt):
                finder.add("count", tokens[index - 1].start(), end)
        elif lower == "one" and (
            (
                nxt in {"of", "van"}
                and nxt2 not in {"most", "main", "biggest", "key", "meest", "belangrijkste"}
            )
            or _is_person(nxt)
            or nxt in REPORT_NOUNS
            or prev in {"only", "just", "except", "but", "alleen", "slechts"}
        ):
            finder.add("count", start, end)
        elif lower in {"één", "eén"} and {prev, prev2} & {"niet", "geen", "dan", "per"}:
            continue  # "niet bij één afdeling", "meer dan één"
        elif lower in {"een", "één"} and prev == "op" and nxt == "na":
            finder.add("count", tokens[index - 1].start(), tokens[index + 1].end())  # "op één na"
        elif lower in {"een", "één"} and prev in {"slechts", "maar", "behalve"}:
            if _is_person(nxt) or nxt in REPORT_NOUNS:
                finder.add("count", tokens[index - 1].start(), end)
        elif value is not None and 1 <= value < k:
            if nxt in {"derde", "thirds", "third", "kwart", "quarters", "vijfde", "fifths"}:
                continue  # a fraction: see _shares
            if nxt in TIME_UNITS and nxt not in {"keer"}:
                continue  # "binnen drie maanden", "within three months"
            if nxt in NOT_PEOPLE_COUNTED or (nxt2 in NOT_PEOPLE_COUNTED and nxt != "of"):
                continue  # "drie aanbevelingen", "two training sessions"
            if nxt in {"keer", "times"} and FREQUENCY.match(
                masked[tokens[index + 1].end() : tokens[index + 1].end() + 40]
            ):
                continue  # "twee keer per jaar"
            finder.add("number", start, end)
        elif lower in ORDINALS and 1 <= ORDINALS[lower] < k:
            noun = nxt
            if ORDINALS[lower] == 1 and noun in {"time", "keer"}:
                continue  # "for the first time"
            if noun in REPORT_NOUNS or noun in {"time", "keer"} or _is_person(noun):
                finder.add("count", start, tokens[index + 1].end())
    for match in NUMBER.finditer(finder.masked):
        if len(match.group(1)) > 3 or not 1 <= int(match.group(1)) < k:
            continue
        before = finder.masked[max(0, match.start() - 80) : match.start()].split()
        after = finder.masked[match.end() : match.end() + 80].split()
        previous = _bare(before[-1].strip(".,:;()")) if before else ""
        following = _bare(after[0].strip(".,:;()")) if after else ""
        label = previous in NUMBER_LABELS and not (
            len(before) > 1 and _bare(before[-2]) in {"dit", "this", "per", "elk", "each"}
        )
        line_start = finder.masked.rfind("\n", 0, match.start()) + 1
        listed = not finder.masked[line_start : match.start()].strip() and re.match(
            r"[.)]\s", finder.masked[match.end() : match.end() + 2]
        )
        second = _bare(after[1].strip(".,:;()")) if len(after) > 1 else ""
        things = following in NOT_PEOPLE_COUNTED or second in NOT_PEOPLE_COUNTED
        if label or listed or things or (following in TIME_UNITS and following != "keer"):
            continue
        finder.add("number", match.start(), match.end())


def text_problems(
    text: str, *, k: int, known: Iterable[str] = (), totals: Iterable[int] = ()
) -> list[str]:
    """Return what is wrong with `text` for a board (translated messages), or [] when fine.

    `k` is the anonymity threshold; `known` are words that are never names (the organisation's
    own name); `totals` are totals shown beside the text, so that a percentage of one of them
    that comes to fewer than k people or reports is refused as well.
    """
    known_words = KNOWN_WORDS | {word.lower() for word in known}
    finder = _Finder(text)
    _contact_and_numbers(finder)
    _dates(finder)
    _names(finder, known_words)
    _roles(finder)
    _shares(finder, k, tuple(int(total) for total in totals))
    _counts(finder, k)
    return [_message(kind, snippet, k) for kind, snippet in finder.found]


def _message(kind: str, snippet: str, k: int) -> str:
    values = {"text": snippet, "k": k}
    if kind == "email":
        return _("Remove the e-mail address “%(text)s”.") % values
    if kind == "web":
        return (
            _(
                "Remove the web address or account “%(text)s”. Say where readers can find help "
                "in general terms instead."
            )
            % values
        )
    if kind == "phone":
        return _("Remove the phone number “%(text)s”.") % values
    if kind == "address":
        return (
            _(
                "Remove the address or postcode “%(text)s”. Mention the region or the kind of "
                "location instead."
            )
            % values
        )
    if kind == "id":
        return (
            _(
                "Remove the identifying number “%(text)s” (an employee or badge number, bank "
                "account, licence plate or citizen service number)."
            )
            % values
        )
    if kind == "date":
        return (
            _(
                "“%(text)s” dates an event to the day or the hour, which can identify the "
                "person. Mention the month or the quarter instead."
            )
            % values
        )
    if kind == "name":
        return (
            _("“%(text)s” looks like a name or a place. Describe groups or roles instead.") % values
        )
    if kind == "role":
        return (
            _(
                "“%(text)s” points at one person: a role or trait that only one person has. "
                "Describe the group instead, for example “employees of several departments”."
            )
            % values
        )
    if kind == "share":
        return (
            _(
                "“%(text)s” is a share of a small group and gives away a count below %(k)d. "
                "Leave the share out, or write “fewer than %(k)d”."
            )
            % values
        )
    if kind == "count":
        return (
            _(
                "“%(text)s” gives away a count below %(k)d. Write “fewer than %(k)d” or "
                "“several”, or describe the trend without a count."
            )
            % values
        )
    return (
        _(
            "“%(text)s” is a number below %(k)d. Small numbers can identify people: write "
            "“fewer than %(k)d” or describe the trend without a number."
        )
        % values
    )

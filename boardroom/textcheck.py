"""Checks on what an adviser (or the board) writes for the board: nothing that points at a person.
A heuristic, deliberately strict: it refuses and says what to rewrite. Dutch and English.

Each rule finds spans in the text; a span that is reported (or that is known to be harmless, such
as "since 1 January") is blanked before the next rule runs, so one phrase gets one message.

- contact details: e-mail addresses, also written as "(at)", "[at]", " at ", "apenstaartje" with
  "(dot)", " dot ", "punt"; phone numbers (nine digits or more with any separators, "+31",
  extensions: "ext. 123", "toestel 4321");
- addresses and identifying numbers: street and house number, postcodes (1234 AB), employee,
  badge and citizen service numbers, IBANs, licence plates;
- dates to the day ("on 3 March", "op 12-03", "last Tuesday", "gisteren", "16:30"), except
  policy dates ("since 1 January", "vóór 1 juli");
- names: initials with a surname ("J. Jansen"), any word after a title (Mr, mevrouw, dhr.),
  a capitalised word inside a sentence, and, in any case and position, first names and surnames
  from the embedded lists (with Dutch tussenvoegsels: "van der Berg"); a listed name that is
  also an ordinary word ("Will", "Bakker") counts only when its context makes it a name;
- roles and traits that only one person has: "the only woman in finance", "de enige",
  "the new intern", "de teamleider van de receptie", "the night shift coordinator", "the CFO";
- small counts (below k): digits (also followed by a full stop or a comma), number words up to
  fifty, "both", "beide", "twice", "tweemaal", "a single", "een enkele", "only one", ordinals
  that count reports or times ("the third complaint", "voor de tweede keer"); shares that pin a
  small count: "50% of the 4 reports", "half of the team", and a percentage of a total shown
  beside the text (`totals`).

Known words (months, days, institutions, the organisation's own name passed as `known`) never
count as names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.utils.translation import gettext as _

# --- word lists ----------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Common Dutch and English first names. Names that are also ordinary words live in AMBIGUOUS
# below: those count only when the context makes them a name.
FIRST_NAMES = _words(
    """
    aad aafke adriaan adrie ahmed aisha albert alex alexander ali alice amber amelia amina amir
    amy andre andrea andrew angela anita anja anjali ann anna anne anneke annemarie annemiek
    annet annette anouk anthony arie arjan arjen arnold astrid barbara bart bas bastiaan bea
    bert bianca bilal bob bram brenda brian carla carlijn carol caroline catherine charles
    charlie charlotte chloe chris christiaan christina christine claire claudia coen cor corine
    cornelis daan daniel danielle david debbie demi dennis diana dick diederik dirk dominique
    donna dorien edwin eline elisabeth elise elizabeth ella ellen ellie els emily emma erik
    esther ethan eva evelien evelyn fatima femke fenna fleur floor frank frans freek freya gary
    geert gerard gerda gerrit gert gijs george gerben gerrie greet hanna hannah hans harm harry
    hassan hatice hein helen hendrik henk henry herman hilde hugo ibrahim ilse inge ingrid iris
    isabel isla ivo jaap jack jacob jacqueline james jamie jan jane janet janneke jasper jayden
    jeannette jennifer jenny jeroen jesse jessica jeroen jochem joep johan johannes john jolanda
    joost jop joris jos jose joseph joshua joyce judith julia julie juliette justin kai karen
    karin kate katherine kees kelly kevin khadija kim koen kristel kyle lars laura lauren lea
    leo levi lieke lien linda lisa lisanne liam lily lotte louise lucas lucy luuk maaike maarten
    manon marcel marco margaret maria marianne marieke marije marijke marjolein mark marloes
    martin martijn mary mathijs matthew maud max megan melissa merel michael michel michelle
    mike milan mila mirjam mohamed mohammed monique mustafa myrthe naomi natasha nathan niels
    nicole nienke nina noah noor nora oliver olivia oscar patricia patrick paul paula peter
    petra pieter pim priya rachel rebecca remco renate rene richard rick rik rob robert robin
    roel roos rosa ruben rudy ruud ryan saar sabine sam samantha sander sandra sanne sara sarah
    sem sharon sietske simone sjoerd sophie stefan stephanie steven stijn susan suzanne sven
    teun thijs thomas tim tineke tom tomas ton tristan vera victoria vincent wendy willem
    william wim wouter yara yasmina yusuf yvonne zoe zoë
    """
)
SURNAMES = _words(
    """
    ahmed akkerman ali bakker bennett beekman blom boer boersma bos bosch bosman brouwer
    brown campbell clark collins cooper davies davis dekker dijkstra doe edwards evans green
    groen haan harris hendriks hermans hoekstra hughes huisman jackson jacobs jansen janssen
    johnson jones kaya khan koster kramer kuipers lewis maas meijer meyer miller mitchell
    molenaar morgan morris mulder murphy nijhuis patel peeters peters phillips postma prins
    roberts robinson schouten scott singh smeets smit smith smits taylor thompson turner van
    verbeek verhoeven vermeulen visser vos walker watson white willems williams wilson wouters
    wright yilmaz young
    """
)
# The part after a tussenvoegsel: "van der Berg", "de Vries", "van den Heuvel".
SURNAME_CORES = _words(
    """
    berg bergh beek boer broek bruijn bruin dam dijk dongen graaf groot haan heijden heuvel
    hoek jong koning laan leeuwen linden meer pol rijn veen velde ven vliet vries wal wetering
    wijk wit zanden
    """
)
TUSSENVOEGSELS = _words("van de der den het 't ter ten te op in uit vd v/d")
# Listed names that are also ordinary words (in Dutch or English): a name only in context.
AMBIGUOUS = _words(
    """
    amber bas bob boer bos carol els floor frank frans grace green harm harry iris jack jan kai
    kim mark max may mike milan pat prins rob roos ruby sam scott ton tom van vos white will
    young maas bakker
    """
)
# A word after a name that shows the name is one: "Mark reported", "Bakker meldde".
NAME_CONTEXT = _words(
    """
    meldde meldt zei zegt gaf geeft klaagde klaagt heeft had is was wordt werd voelt voelde van
    uit en reported reports said says complained complains told feels felt has had is was from
    and of
    """
)
TITLES = _words(
    "mr mrs ms miss dr prof dhr mevr mw meneer mevrouw heer juffrouw ir ing drs sir madam"
)
KNOWN_WORDS = _words(
    """
    januari februari maart april mei juni juli augustus september oktober november december
    january february march may june july august october
    maandag dinsdag woensdag donderdag vrijdag zaterdag zondag
    monday tuesday wednesday thursday friday saturday sunday
    arbowet arbodienst arbeidsinspectie inspectie huis klokkenluiders slachtofferhulp psa wet
    bescherming welzijnswet raad bestuur toezicht ondernemingsraad avg wbk
    working conditions act whistleblowers whistleblower authority protection labour
    inspectorate board supervisory executive works council gdpr human resources
    kerst christmas pasen easter ramadan suikerfeest sinterklaas koningsdag pride covid corona
    teams zoom outlook
    vertrouwd nederland nederlandse netherlands dutch english belgium belgië europe european
    q1 q2 q3 q4 i'm i've i'd i'll
    """
)
MONTHS = {
    "januari": 1,
    "january": 1,
    "jan": 1,
    "februari": 2,
    "february": 2,
    "feb": 2,
    "maart": 3,
    "march": 3,
    "mrt": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "mei": 5,
    "may": 5,
    "juni": 6,
    "june": 6,
    "jun": 6,
    "juli": 7,
    "july": 7,
    "jul": 7,
    "augustus": 8,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "october": 10,
    "okt": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
WEEKDAYS = (
    "maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)

_NL_UNITS = ["", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"]
_NL_TEENS = [
    "tien",
    "elf",
    "twaalf",
    "dertien",
    "veertien",
    "vijftien",
    "zestien",
    "zeventien",
    "achttien",
    "negentien",
]
_NL_TENS = {20: "twintig", 30: "dertig", 40: "veertig"}
_EN_UNITS = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_EN_TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = {20: "twenty", 30: "thirty", 40: "forty"}


def _number_words() -> dict[str, int]:
    """Dutch and English number words from 2 to 49 (the largest k is 50); "one" and "een" need
    context (see ONE_NOUN), "één" counts on its own."""
    words: dict[str, int] = {"één": 1, "eén": 1}
    for value in range(2, 10):
        words[_NL_UNITS[value]] = value
        words[_EN_UNITS[value]] = value
    for value in range(10, 20):
        words[_NL_TEENS[value - 10]] = value
        words[_EN_TEENS[value - 10]] = value
    for tens, (nl, en) in {t: (_NL_TENS[t], _EN_TENS[t]) for t in _NL_TENS}.items():
        words[nl] = words[en] = tens
        for unit in range(1, 10):
            nl_unit = "een" if unit == 1 else _NL_UNITS[unit]
            joiner = "ën" if nl_unit.endswith("e") else "en"
            words[f"{nl_unit}{joiner}{nl}"] = tens + unit
            words[f"{_EN_UNITS[unit]}-{en}"] = tens + unit
            words[f"{en}-{_EN_UNITS[unit]}"] = tens + unit
    return words


NUMBER_WORDS = _number_words()
ORDINALS = {
    "first": 1,
    "eerste": 1,
    "second": 2,
    "tweede": 2,
    "third": 3,
    "derde": 3,
    "fourth": 4,
    "vierde": 4,
    "fifth": 5,
    "vijfde": 5,
    "sixth": 6,
    "zesde": 6,
    "seventh": 7,
    "zevende": 7,
    "eighth": 8,
    "achtste": 8,
    "ninth": 9,
    "negende": 9,
    "tenth": 10,
    "tiende": 10,
}
# Nouns whose count identifies: people and reports.
PERSON_NOUNS = _words(
    """
    employee employees person people colleague colleagues worker workers member members woman
    women man men reporter reporters staff driver drivers cleaner cleaners student students
    medewerker medewerkers persoon personen mensen collega collega's vrouw vrouwen man mannen
    melder melders werknemer werknemers teamlid teamleden stagiair stagiaire monteur monteurs
    schoonmaker schoonmakers verpleegkundige chauffeur chauffeurs
    """
)
REPORT_NOUNS = _words(
    """
    report reports complaint complaints case cases incident incidents signal
    melding meldingen klacht klachten casus zaak incident signaal
    """
)
# A count followed by one of these measures time or frequency, not people.
TIME_UNITS = _words(
    """
    dag dagen werkdag werkdagen week weken maand maanden kwartaal kwartalen jaar jaren uur uren
    minuten keer per day days working week weeks month months quarter quarters year years hour
    hours minutes
    """
)
FREQUENCY = re.compile(
    r"\s+(?:per|a|an|each|every|elk|elke|ieder|iedere)\s+(?:dag|day|week|maand|month|kwartaal|"
    r"quarter|jaar|year|halfjaar)\b|\s+(?:yearly|annually|monthly|jaarlijks|per jaar)\b",
    re.IGNORECASE,
)
# Words before a number that make it a label, not a count: "artikel 3", "step 2", "Q3".
NUMBER_LABELS = _words(
    """
    artikel article art stap step fase phase niveau level hoofdstuk chapter bijlage annex versie
    version punt point paragraaf section kwartaal quarter week nummer number no nr lid item
    thema theme schaal scale
    """
)
# Vague quantifiers before a share: "more than half of the reports" pins nothing.
VAGUE = _words(
    """
    meer ruim bijna ongeveer circa zo'n rond minder dan over more than nearly almost about around
    roughly approximately less under well
    """
)
GROUP_NOUNS = _words(
    """
    team afdeling department secretariaat secretariat unit ploeg shift dienst groep group
    werkplaats workshop office kantoor winkel shop locatie site vestiging branch receptie
    reception keuken kitchen staff personeel bemanning crew board directie
    """
)
ROLE_BASES = (
    "coördinator",
    "coordinator",
    "officer",
    "manager",
    "directeur",
    "directrice",
    "director",
    "hoofd",
    "head",
    "chef",
    "stagiair",
    "stagiaire",
    "intern",
    "trainee",
    "receptionist",
    "receptioniste",
    "secretaresse",
    "secretary",
    "conciërge",
    "caretaker",
    "planner",
    "controller",
    "boekhouder",
    "bookkeeper",
    "teamleider",
    "leider",
    "leader",
    "lead",
    "supervisor",
    "voorman",
    "foreman",
    "medewerker",
    "nurse",
    "verpleegkundige",
    "dispatcher",
)
C_LEVEL = _words("ceo cfo coo cto cio chro cmo")
DETERMINERS = _words("de het the our onze their hun his her zijn haar")
# Adjectives that single out one person: "the new intern", "de jongste medewerker".
SINGLING = _words(
    """
    new nieuwe newest nieuwste oldest eldest oudste youngest jongste pregnant zwangere former
    vorige previous oud interim tijdelijke temporary blind deaf dove disabled gehandicapte
    female male vrouwelijke mannelijke
    """
)
# Words that make a role generic rather than one person: "the responsible manager".
GENERIC_MODIFIERS = _words(
    """
    responsible direct line own relevant betreffende verantwoordelijke directe eigen each every
    elke iedere nieuwe new same dezelfde hetzelfde
    """
)
# Nouns after "the only" / "de enige" that are not people: "the only way".
NOT_PEOPLE_AFTER_ONLY = _words(
    """
    way option solution reason thing exception remedy route answer question theme themes
    manier optie oplossing reden ding uitzondering antwoord vraag thema wat dat weg
    """
)
# Nouns after "both" / "beide" that are not people or reports.
NOT_COUNTED_AFTER_BOTH = _words(
    """
    themes theme halves quarters years periods sides topics areas thema's thema halfjaren
    kwartalen jaren perioden periodes onderwerpen gebieden kanten
    from in at within for van in bij
    """
)

# --- patterns -------------------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_AT = r"(?:\s*(?:\(at\)|\[at\]|\{at\}|<at>|\(apenstaartje\)|\[apenstaartje\]|@)\s*|\s+(?:at|apenstaartje)\s+)"
_DOT = r"(?:\s*(?:\(dot\)|\[dot\]|\{dot\}|\(punt\)|\[punt\])\s*|\s+(?:dot|punt)\s+|\.)"
_TLD = r"(?:nl|com|org|net|be|de|eu|uk|nu|info|io|co|gov|edu|example|test|fr|local|biz)"
EMAIL_DISGUISED = re.compile(
    rf"\b[\w][\w.+-]*{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD}\b", re.IGNORECASE
)
PHONE = re.compile(r"(?:\+|\(|\b)\d[\d\s\-().\/]{7,}\d\b")
EXTENSION = re.compile(
    r"\b(?:ext|extn|extension|toestel|tst|doorkies|doorkiesnummer|intern nummer|internal line)"
    r"\.?\s*(?:nr\.?|no\.?|number|nummer)?\s*:?\s*\d[\d\s-]*\d\b",
    re.IGNORECASE,
)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
POSTCODE = re.compile(r"\b[1-9]\d{3}\s?(?!HR|MT|OR|IT|AI|PR|QA|CT|EU|NL|UK)[A-Z]{2}\b")
STREET = re.compile(
    r"\b[\w'-]{2,}(?:straat|laan|weg|plein|gracht|kade|singel|dijk|steeg|hof|dreef|markt|"
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
    r"(?:nummer|nr\.?|number|no\.?|id|#)?\s*:?\s*#?\s*[A-Z]{0,3}\d[\dA-Z-]{2,}\b",
    re.IGNORECASE,
)
PLATE = re.compile(
    r"\b(?=[A-Z0-9-]{8}\b)(?=[A-Z-]*\d)(?=[\d-]*[A-Z])(?:[A-Z]{1,3}|\d{1,3})-(?:[A-Z]{1,3}|\d{1,3})"
    r"-(?:[A-Z]{1,3}|\d{1,3})\b|\b[A-Z]{2}\d{2}\s?[A-Z]{3}\b"
)
PLATE_WORD = re.compile(
    r"\b(?:kenteken|licence plate|license plate|registration|nummerbord)\s*:?\s*[A-Z0-9-]{4,}\b",
    re.IGNORECASE,
)
_MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
DAY_MONTH = re.compile(
    rf"\b(?:{WEEKDAYS})?\s*\b\d{{1,2}}(?:st|nd|rd|th|e|ste|de)?\s+(?:of\s+)?{_MONTH}\b"
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
INITIALS = re.compile(
    r"\b(?:[A-Z]\.\s?){1,4}(?:(?:van|de|der|den|ter|ten|te|het|'t|op|in)\s+)*[A-Z][a-z][\w'-]*"
)
WORD = re.compile(r"[^\W\d_][\w'\u2019-]*", re.UNICODE)
NUMBER = re.compile(r"(?<![\w.,/-])(\d+)(?![\w%]|[.,]\d|\s*%|\s*procent|\s*percent)")
PERCENT = re.compile(r"(\d+(?:[.,]\d+)?)\s*(?:%|procent\b|percent\b|per cent\b)", re.IGNORECASE)
PERCENT_OF_NUMBER = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(?:%|procent|percent|per cent)\s+(?:of|van)\s+(?:the|de|het|all|alle|"
    r"our|onze)?\s*(\d+)\b",
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
    r"\s+(?:of|van)\s+(?P<rest>(?:[\w'-]+\s*){1,4})",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"(?:[.!?:;]|^|\n)[\s\"'“‘(\[*•-]*$")


# --- the check ------------------------------------------------------------------------------------


class _Finder:
    """Collects problems per kind and blanks what it found, so later rules do not see it again."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.masked = text
        self.found: list[tuple[str, str]] = []

    def blank(self, start: int, end: int) -> None:
        self.masked = self.masked[:start] + " " * (end - start) + self.masked[end:]

    def add(self, kind: str, start: int, end: int) -> None:
        snippet = self.text[start:end].strip(" ,;:.()[]")
        if (kind, snippet) not in self.found:
            self.found.append((kind, snippet))
        self.blank(start, end)

    def each(self, pattern: re.Pattern[str], kind: str, keep: Callable[[re.Match], bool] = None):
        for match in pattern.finditer(self.masked):
            if keep is None or keep(match):
                self.add(kind, match.start(), match.end())


def _tokens(masked: str) -> list[re.Match]:
    return list(WORD.finditer(masked))


def _contact_and_numbers(finder: _Finder) -> None:
    finder.each(EMAIL, "email")
    finder.each(EMAIL_DISGUISED, "email")
    finder.each(IBAN, "id", lambda m: sum(ch.isdigit() for ch in m.group()) >= 8)
    finder.each(ID_NUMBER, "id")
    finder.each(PLATE_WORD, "id")
    finder.each(PLATE, "id")
    finder.each(EXTENSION, "phone")
    finder.each(PHONE, "phone", lambda m: sum(ch.isdigit() for ch in m.group()) >= 9)
    finder.each(STREET, "address")
    finder.each(STREET_EN, "address")
    finder.each(POSTCODE, "address")


def _dates(finder: _Finder) -> None:
    for pattern in (DAY_MONTH, NUMERIC_DATE):
        for match in pattern.finditer(finder.masked):
            if POLICY_DATE_BEFORE.search(finder.masked[: match.start()]):
                finder.blank(match.start(), match.end())  # "since 1 January": no problem
            else:
                finder.add("date", match.start(), match.end())
    finder.each(WEEKDAY_REF, "date")
    finder.each(CLOCK, "date")


def _starts_sentence(masked: str, start: int) -> bool:
    return bool(SENTENCE_END.search(masked[:start]))


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
        if previous in TITLES and index and (
            _capitalised(word)
            or lower in TUSSENVOEGSELS
            and following
            and (_capitalised(following[0]) or _bare(following[0]) in SURNAME_CORES)
        ):
            finder.add("name", tokens[index - 1].start(), end)
            skip_until = end
            continue
        if lower in TUSSENVOEGSELS:
            # "van der berg", "de vries" in lower case: a tussenvoegsel followed by a surname core
            chain = [lower]
            cursor = index + 1
            while cursor < len(tokens) and tokens[cursor].group().lower() in TUSSENVOEGSELS:
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
        listed = lower in FIRST_NAMES or lower in SURNAMES
        next_word = following[0] if following else ""
        in_context = bool(next_word) and (
            _capitalised(next_word)
            or next_word.lower() in NAME_CONTEXT
            or next_word.lower() in TUSSENVOEGSELS
        )
        if _capitalised(word) and not at_start:
            name = True
            first = index
            while first and tokens[first - 1].group().lower() in TUSSENVOEGSELS and not (
                masked[tokens[first - 1].end() : tokens[first].start()].strip()
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
    masked = finder.masked
    tokens = _tokens(masked)
    lowered = [token.group().lower() for token in tokens]
    for index, lower in enumerate(lowered):
        nxt = lowered[index + 1 : index + 5]
        # "the only woman in finance", "de enige medewerker met een hoofddoek"
        if (
            lower in {"only", "sole", "enige", "lone"}
            and index
            and lowered[index - 1] in {"the", "de", "het", "a", "our", "onze"}
            and nxt
            and nxt[0] not in NOT_PEOPLE_AFTER_ONLY
            and not (lower == "only" and nxt[0] in {"one", "once", "twice"})
        ):
            end = tokens[min(index + 2, len(tokens) - 1)].end()
            finder.add("role", tokens[index - 1].start(), end)
            continue
        if lower in C_LEVEL:
            finder.add("role", tokens[index].start(), tokens[index].end())
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
                if compound and _matching_base(word) not in {"leider", "lead"} or scoped:
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
    if not totals:
        return
    for sentence in re.split(r"(?<=[.!?;])\s+", finder.masked):
        offset = finder.masked.find(sentence)
        if not SHARE_MARKER.search(sentence):
            continue
        for match in PERCENT.finditer(sentence):
            share = float(match.group(1).replace(",", ".")) / 100
            for total in totals:
                count = round(share * total)
                if 0 < count < k or 0 < total - count < k:
                    finder.add("share", offset + match.start(), offset + match.end())
                    break


def _counts(finder: _Finder, k: int) -> None:
    masked = finder.masked
    tokens = _tokens(masked)
    lowered = [_bare(token.group()) for token in tokens]

    def rest_after(index: int) -> str:
        return masked[tokens[index].end() :]

    for index, lower in enumerate(lowered):
        nxt = lowered[index + 1] if index + 1 < len(lowered) else ""
        nxt2 = lowered[index + 2] if index + 2 < len(lowered) else ""
        prev = lowered[index - 1] if index else ""
        start, end = tokens[index].start(), tokens[index].end()
        value = NUMBER_WORDS.get(lower)
        if value is None and "-" not in lower and nxt and f"{lower}-{nxt}" in NUMBER_WORDS:
            value = None  # "twenty one" written apart: both parts are >= 1, handled below
        if lower in {"both", "beide", "beiden", "allebei"}:
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
            nxt in {"of", "van"}
            and nxt2 not in {"most", "main", "biggest", "key", "meest", "belangrijkste"}
            or _is_person(nxt)
            or nxt in REPORT_NOUNS
            or prev in {"only", "just", "except", "but", "alleen", "slechts"}
        ):
            finder.add("count", start, end)
        elif lower in {"één", "eén"} and prev in {"niet", "geen", "dan", "per"}:
            continue  # "niet bij één afdeling", "meer dan één"
        elif lower in {"een", "één"} and prev in {"slechts", "maar", "behalve", "na"}:
            if _is_person(nxt) or nxt in REPORT_NOUNS:
                finder.add("count", tokens[index - 1].start(), end)
        elif value is not None and 1 <= value < k:
            if nxt in {"derde", "thirds", "third", "kwart", "quarters", "vijfde", "fifths"}:
                continue  # a fraction: see _shares
            if nxt in TIME_UNITS and nxt not in {"keer"}:
                continue  # "binnen drie maanden", "within three months"
            if nxt in {"keer", "times"} and FREQUENCY.match(masked[tokens[index + 1].end() :]):
                continue  # "twee keer per jaar"
            finder.add("number", start, end)
        elif lower in ORDINALS and 1 <= ORDINALS[lower] < k:
            noun = nxt
            if ORDINALS[lower] == 1 and noun in {"time", "keer"}:
                continue  # "for the first time"
            if noun in REPORT_NOUNS or noun in {"time", "keer"} or _is_person(noun):
                finder.add("count", start, tokens[index + 1].end())
    for match in NUMBER.finditer(finder.masked):
        value = int(match.group(1))
        if not 1 <= value < k or len(match.group(1)) > 3:
            continue
        before = finder.masked[: match.start()].split()
        after = finder.masked[match.end() :].split()
        previous = _bare(before[-1].strip(".,:;()")) if before else ""
        following = _bare(after[0].strip(".,:;()")) if after else ""
        label = previous in NUMBER_LABELS and not (
            len(before) > 1 and _bare(before[-2]) in {"dit", "this", "per", "elk", "each"}
        )
        if label or following in TIME_UNITS and following != "keer":
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
            _("“%(text)s” looks like a name or a place. Describe groups or roles instead.")
            % values
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

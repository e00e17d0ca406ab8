"""Word lists of the board text check: names, numbers, roles, units (Dutch and English)."""

from __future__ import annotations

import re


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
    annelies anneloes annemieke marleen mariska miranda natasja nathalie ramona renske rianne
    rosalie saskia sylvia tamara tanja thea trudy ursula wilma yolanda hennie henny ineke
    jeanette karlijn kirsten lianne liesbeth loes margriet mariëlle marielle marjan marja maartje
    mieke noortje rina sofie tessa willemijn barry casper cees corné danny edwin erwin fred
    guido jacco jelle jordy klaas leon marc maurice michiel noud olaf onno raymond rené robbert
    sebastiaan twan wesley steve tony tracy trevor gareth gavin graham ian jeremy jonathan
    julian keith liam louise lynn marcus neil nigel owen pauline phil rhys rosie sally shaun
    simon stuart tracey wayne zara hayley gemma kirsty leanne nadia rajesh sanjay mehmet ayse
    fatma emre khalid karim samira soufiane youssef hamza zeynep ilias imane rachid hakim hanane
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
    young maas bakker nick ferry riet
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
    teams zoom outlook stichting arbeid foundation autoriteit persoonsgegevens college rechten
    mens ministerie sociale zaken werkgelegenheid equality rights commission data authority
    vertrouwd nederland nederlandse netherlands dutch english belgium belgië europe european
    q1 q2 q3 q4 i'm i've i'd i'll
    """
)
_MONTH_NAMES = (
    "januari january jan|februari february feb|maart march mrt mar|april apr|mei may|"
    "juni june jun|juli july jul|augustus august aug|september sep sept|oktober october okt oct|"
    "november nov|december dec"
)
MONTHS = {
    name: number
    for number, names in enumerate(_MONTH_NAMES.split("|"), start=1)
    for name in names.split()
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
    word: value
    for value, pair in enumerate(
        [
            "first eerste",
            "second tweede",
            "third derde",
            "fourth vierde",
            "fifth vijfde",
            "sixth zesde",
            "seventh zevende",
            "eighth achtste",
            "ninth negende",
            "tenth tiende",
        ],
        start=1,
    )
    for word in pair.split()
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
    hours minutes dagdeel dagdelen half-day half-days
    """
)
# Things whose small count points at nobody: "3 speerpunten", "two training sessions".
NOT_PEOPLE_COUNTED = _words(
    """
    aanbeveling aanbevelingen speerpunt speerpunten prioriteit prioriteiten training trainingen
    sessie sessies workshop workshops bijeenkomst bijeenkomsten overleggen thema thema's punt
    punten stap stappen actie acties advies adviezen doel doelen maatregel maatregelen vraag
    vragen rapport rapporten onderzoek onderzoeken
    recommendation recommendations priority priorities trainings session sessions meeting
    meetings theme themes point points step steps action actions goal goals measure measures
    question questions survey surveys
    """
)
# Small groups named as such: "een drietal medewerkers", "the duo on reception".
GROUP_COUNT_WORDS = _words("duo trio tweetal drietal viertal tweeling twins")
# Roles one person holds; who belongs to them is singled out: "de assistente van de tandarts".
HEAD_ROLES = _words(
    """
    directeur directrice director eigenaar owner ceo cfo tandarts dentist huisarts praktijkhouder
    bestuurder voorzitter chair chairman chairwoman burgemeester mayor
    """
)
# Traits that single out a person in a small team: "de medewerker in de rolstoel".
TRAITS = _words(
    """
    rolstoel wheelchair hoofddoek headscarf beperking disability handicap rollator krukken
    crutches blindengeleidehond tulband turban keppel
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
    thema theme schaal scale advies advice aanbeveling recommendation actie action actiepunt
    doel goal aandachtspunt conclusie conclusion vraag question
    """
)
# Vague quantifiers before a share: "more than half of the reports" pins nothing.
GROUP_NOUNS = _words(
    """
    team afdeling department secretariaat secretariat unit ploeg shift dienst groep group
    werkplaats workshop office kantoor winkel shop locatie site vestiging branch receptie
    reception keuken kitchen staff personeel bemanning crew board directie
    """
)
ROLE_BASES = tuple(
    _words(
        """
        coördinator coordinator officer manager directeur directrice director hoofd head chef
        stagiair stagiaire intern trainee receptionist receptioniste secretaresse secretary
        conciërge caretaker planner controller boekhouder bookkeeper teamleider leider leader
        lead supervisor voorman foreman medewerker nurse verpleegkundige dispatcher
        """
    )
)
C_LEVEL = _words("ceo cfo coo cto cio chro cmo")
# Jobs that one person holds in most client organisations: named alone they point at that person.
SINGLE_HOLDERS = _words(
    """
    receptionist receptioniste conciërge caretaker janitor secretary secretaresse
    directiesecretaresse bookkeeper boekhouder controller intern stagiair stagiaire trainee
    dispatcher
    """
)
# Units too large to point at a person: "a nurse from the care sector".
BROAD_UNITS = _words(
    """
    zorg care organisatie organisation organization company bedrijf sector branche industry
    public publiek field region regio country land teams departments afdelingen locaties sites
    same dezelfde hetzelfde other andere
    """
)
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

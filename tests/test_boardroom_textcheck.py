"""The board text check (boardroom/textcheck): measured on the evaluation set in
tests/textcheck_cases.py, the identifying phrases of issue 11 as named regressions, and messages that
say what to change, in English and in Dutch."""

from __future__ import annotations

import pytest
from django.utils import translation

from boardroom.textcheck import text_problems
from tests import textcheck_cases as cases

MIN_RECALL = 0.95
MAX_FALSE_POSITIVES = 0.10


def _refused(text: str, totals: tuple[int, ...] = ()) -> list[str]:
    with translation.override("en"):
        return text_problems(text, k=cases.K, known=cases.KNOWN, totals=totals)


def test_the_evaluation_set_is_large_enough_and_bilingual():
    assert len(cases.IDENTIFYING) >= 200 and len(cases.HARMLESS) >= 200
    dutch_identifying = len(cases.IDENTIFYING_NL) + len(cases.BLIND_IDENTIFYING_NL)
    dutch_harmless = len(cases.HARMLESS_NL) + len(cases.BLIND_HARMLESS_NL)
    assert 0.4 <= dutch_identifying / len(cases.IDENTIFYING) <= 0.6
    assert 0.4 <= dutch_harmless / len(cases.HARMLESS) <= 0.6
    assert len(set(cases.IDENTIFYING)) == len(cases.IDENTIFYING)
    assert len(set(cases.HARMLESS)) == len(cases.HARMLESS)
    assert not set(cases.IDENTIFYING) & set(cases.HARMLESS)


def test_recall_and_false_positive_rate_on_the_evaluation_set():
    identifying = [(text, ()) for text in cases.IDENTIFYING] + cases.TOTALS_IDENTIFYING
    harmless = [(text, ()) for text in cases.HARMLESS] + cases.TOTALS_HARMLESS
    let_through = [text for text, totals in identifying if not _refused(text, totals)]
    refused = [text for text, totals in harmless if _refused(text, totals)]
    recall = 1 - len(let_through) / len(identifying)
    false_positives = len(refused) / len(harmless)
    figures = (
        f"recall {recall:.1%} ({len(identifying) - len(let_through)} of {len(identifying)} "
        f"identifying sentences refused), false positives {false_positives:.1%} "
        f"({len(refused)} of {len(harmless)} harmless sentences refused)"
    )
    print(figures)  # pytest -s shows the figures of a passing run too
    assert recall >= MIN_RECALL and false_positives <= MAX_FALSE_POSITIVES, (
        f"{figures}\nlet through: {let_through}\nrefused: {refused}"
    )


# The identifying phrases of issue 11 that the old check let through, one per pattern it named,
# with the message part that must say what is wrong.
ISSUE_11_PHRASES = [
    pytest.param("Meldingen uit de kantine: 3.", "number below 5", id="digit-before-full-stop"),
    pytest.param("Het waren er 2, uit de keuken.", "number below 5", id="digit-before-comma"),
    pytest.param("Complaints from the lab: 4.", "number below 5", id="digit-before-full-stop-en"),
    pytest.param("We had 1, from the night shift.", "number below 5", id="digit-before-comma-en"),
    pytest.param("One employee from reception reported.", "count below 5", id="one"),
    pytest.param("A single report came from finance.", "count below 5", id="a-single"),
    pytest.param("Both reports concern the same team.", "count below 5", id="both"),
    pytest.param("The employee reported twice.", "count below 5", id="twice"),
    pytest.param("Beide meldingen gaan over hetzelfde team.", "count below 5", id="beide"),
    pytest.param("De medewerker meldde zich tweemaal.", "count below 5", id="tweemaal"),
    pytest.param("De enige melder werkt in de keuken.", "points at one person", id="de-enige"),
    pytest.param("Er was één melding uit de werkplaats.", "number below 5", id="een-accent"),
    pytest.param(
        "Van de meldingen ging 40% over de keuken.", "share of a small group", id="percent-total"
    ),
    pytest.param(
        "25% of the 8 reports came from the shop.", "share of a small group", id="pct-of-n"
    ),
    pytest.param("Jansen meldde intimidatie.", "looks like a name", id="surname-at-start"),
    pytest.param("Sarah reported intimidation.", "looks like a name", id="first-name-at-start"),
    pytest.param("De klacht gaat over jansen.", "looks like a name", id="surname-lower-case"),
    pytest.param("The complaint is about peter.", "looks like a name", id="first-name-lower-case"),
    pytest.param(
        "Zorgen over van der berg blijven.", "looks like a name", id="tussenvoegsel-lower-case"
    ),
    pytest.param(
        "The only woman in finance feels excluded.", "points at one person", id="only-woman"
    ),
    pytest.param(
        "De enige vrouw in de financiën voelt zich buitengesloten.",
        "points at one person",
        id="enige-vrouw",
    ),
    pytest.param("Mail j.jansen(at)zorggroep.nl.", "e-mail address", id="email-at-brackets"),
    pytest.param("Mail info [at] firm [dot] com.", "e-mail address", id="email-at-dot-brackets"),
    pytest.param("Write to jane at example dot org.", "e-mail address", id="email-spelled-out"),
    pytest.param("Mail hr apenstaartje zorggroep punt nl.", "e-mail address", id="apenstaartje"),
    pytest.param("Bel 06-12 34 56 78.", "phone number", id="phone-dashes-spaces"),
    pytest.param("Call (020) 7946-0958.", "phone number", id="phone-brackets"),
    pytest.param("Call ext. 123 for the reporter.", "phone number", id="phone-ext"),
    pytest.param("Bel toestel 4321.", "phone number", id="phone-toestel"),
    pytest.param("Telefoon +31 6 1234 5678.", "phone number", id="phone-plus-31"),
]


@pytest.mark.parametrize(("text", "problem"), ISSUE_11_PHRASES)
def test_the_phrases_of_issue_11_are_refused(text, problem):
    totals = (10,) if "40%" in text else ()
    problems = _refused(text, totals)
    assert any(problem in message for message in problems), problems


def test_a_share_of_a_large_shown_total_stated_vaguely_passes():
    assert _refused("Van de meldingen ging ruim 40% over werkdruk.", (120,)) == []
    assert _refused("Van de meldingen ging 40% over de keuken.") == []  # no total shown


# One text per kind of problem: the message quotes the phrase and says what to write instead.
KINDS = [
    ("Mail j.jansen(at)zorggroep.nl.", "j.jansen(at)zorggroep.nl", "Remove", "Verwijder"),
    ("Bel toestel 4321.", "toestel 4321", "Remove", "Verwijder"),
    ("Zie linkedin.com/in/jan-jansen.", "linkedin.com/in/jan-jansen", "Remove", "Verwijder"),
    ("De melder woont op Dorpsstraat 12.", "Dorpsstraat 12", "Mention the region", "Noem"),
    ("Personeelsnummer 104522 meldde.", "Personeelsnummer 104522", "Remove", "Verwijder"),
    ("Op 3 maart kwam een melding.", "3 maart", "Mention the month", "Noem"),
    ("Jansen meldde intimidatie.", "Jansen", "Describe groups", "Beschrijf"),
    ("De nieuwe stagiaire meldde iets.", "De nieuwe stagiaire", "Describe the group", "Beschrijf"),
    ("75% van de 4 medewerkers meldde.", "75% van de 4", "Leave the share out", "Laat"),
    ("Beide meldingen gaan over de keuken.", "Beide", "write “fewer than 5”", "schrijf"),
    ("Er kwamen 3 meldingen.", "3", "write “fewer than 5”", "schrijf"),
]


@pytest.mark.parametrize(("text", "phrase", "english", "dutch"), KINDS)
def test_each_message_quotes_the_phrase_and_says_what_to_change(text, phrase, english, dutch):
    with translation.override("en"):
        [message] = text_problems(text, k=5)
    assert f"“{phrase}”" in message and english.lower() in message.lower(), message
    with translation.override("nl"):
        [bericht] = text_problems(text, k=5)
    assert phrase in bericht and dutch.lower() in bericht.lower(), bericht
    assert bericht != message


def test_the_organisations_own_name_and_institutions_are_not_names():
    assert _refused("Zorggroep Noord volgt de Arbowet en de Wet bescherming klokkenluiders.") == []
    assert _refused("Medewerkers kunnen terecht bij het Huis voor Klokkenluiders.") == []
    with translation.override("en"):
        assert text_problems("Acme Zorg kent de Arbowet.", k=5, known=["Acme", "Zorg"]) == []
        assert text_problems("Acme Zorg kent de Arbowet.", k=5) != []


def test_policy_dates_pass_and_event_dates_do_not():
    assert _refused("Sinds 1 januari geldt het nieuwe protocol.") == []
    assert _refused("Evaluate the policy before 1 July.") == []
    assert _refused("Op 1 januari meldde zich een medewerker.") != []


def test_a_larger_threshold_counts_larger_numbers_and_number_words():
    with translation.override("en"):
        assert text_problems("Er kwamen 12 meldingen.", k=5) == []
        assert text_problems("Er kwamen 12 meldingen.", k=15) != []
        assert text_problems("Er meldden zich twaalf mensen.", k=15) != []
        assert text_problems("Twenty-three reports came in.", k=25) != []
        assert text_problems("Twenty-three reports came in.", k=10) == []


@pytest.mark.parametrize(
    "text",
    ["0" * 20_000, "9" * 5_000 + "%", "a." * 10_000, "1-" * 10_000, "de " * 6_000 + "x"],
    ids=["digits", "long-percentage", "dots", "dashes", "tussenvoegsels"],
)
def test_long_runs_up_to_the_length_limit_are_checked_without_an_error(text):
    # a run of 20,000 digits used to raise ValueError (int() digit limit): a 500 on save
    assert isinstance(_refused(text), list)

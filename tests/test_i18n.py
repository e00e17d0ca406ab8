"""Dutch by default, English on request, and a Dutch catalogue that is complete and compiled."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
DUTCH_PO = LOCALE_DIR / "nl" / "LC_MESSAGES" / "django.po"
DUTCH_MO = DUTCH_PO.with_suffix(".mo")

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')


@dataclass
class PoEntry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_translated(self) -> bool:
        expected = 2 if self.msgid_plural is not None else 1
        forms = [self.msgstr.get(index, "") for index in range(expected)]
        return all(form.strip() for form in forms)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda match: _ESCAPES.get(match.group(1), match.group(1)), text)


def parse_po(text: str) -> list[PoEntry]:
    """Parse the entries of a .po file, header included, obsolete (#~) entries left out.

    Enough of the format for catalogues written by makemessages: flags, context, plurals and
    strings continued over several lines.
    """
    entries: list[PoEntry] = []
    entry = PoEntry()
    target: tuple[str, int | None] | None = None
    started = False

    def finish() -> None:
        nonlocal entry, started, target
        if started:
            entries.append(entry)
        entry, started, target = PoEntry(), False, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
        elif line.startswith("#"):
            continue
        elif match := _KEYWORD.match(line):
            keyword, index, value = match.group(1), match.group(2), _unescape(match.group(3))
            if keyword == "msgid" and started and target is not None and target[0] == "msgstr":
                finish()  # entries not separated by a blank line
            if not started:
                entry.line, started = number, True
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index) if index is not None else 0)
                entry.msgstr[target[1]] = value
            else:
                target = (keyword, None)
                setattr(entry, keyword, value)
        elif line.startswith('"') and line.endswith('"') and target is not None:
            value = _unescape(line[1:-1])
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += value
            else:
                setattr(entry, target[0], (getattr(entry, target[0]) or "") + value)
        else:
            raise ValueError(f"line {number}: cannot parse {raw!r}")
    finish()
    return entries


def _messages(entries: list[PoEntry]) -> list[PoEntry]:
    return [entry for entry in entries if entry.msgid != ""]


# ---------------------------------------------------------------- the pages


@pytest.mark.django_db
def test_sign_in_page_is_dutch_by_default(console):
    response = console.get("/accounts/login/")

    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="nl">' in body
    assert "<title>Inloggen · Vertrouwd</title>" in body
    assert "Wachtwoord vergeten?" in body
    assert "Forgot your password?" not in body


@pytest.mark.django_db
def test_sign_in_page_is_english_after_choosing_english(console):
    switched = console.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})

    assert switched.status_code == 302
    assert switched["Location"] == "/accounts/login/"
    assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    body = console.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in body
    assert "<title>Sign in · Vertrouwd</title>" in body
    assert "Forgot your password?" in body
    assert "Wachtwoord vergeten?" not in body


@pytest.mark.django_db
def test_choosing_dutch_again_switches_back(console):
    console.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    console.post("/i18n/setlang/", {"language": "nl", "next": "/accounts/login/"})

    body = console.get("/accounts/login/").content.decode()
    assert "Wachtwoord vergeten?" in body
    assert "Forgot your password?" not in body


# ---------------------------------------------------------------- the catalogue


def test_po_parser_reads_flags_plurals_and_continued_lines():
    text = "\n".join(
        [
            'msgid ""',
            'msgstr ""',
            '"Language: nl\\n"',
            "",
            "#: somewhere.py:1",
            "#, fuzzy, python-format",
            'msgid "Hello %(name)s"',
            'msgstr "Hallo "',
            '"%(name)s"',
            "",
            'msgid "%(counter)s client"',
            'msgid_plural "%(counter)s clients"',
            'msgstr[0] "%(counter)s klant"',
            'msgstr[1] ""',
            "",
            '#~ msgid "Gone"',
            '#~ msgstr "Weg"',
        ]
    )

    header, greeting, plural = parse_po(text)

    assert header.msgstr == {0: "Language: nl\n"}
    assert greeting.msgid == "Hello %(name)s"
    assert greeting.msgstr == {0: "Hallo %(name)s"}
    assert greeting.flags == {"fuzzy", "python-format"}
    assert plural.msgid_plural == "%(counter)s clients"
    assert plural.msgstr == {0: "%(counter)s klant", 1: ""}
    assert plural.is_translated is False


def test_every_dutch_message_is_translated_and_none_is_fuzzy():
    entries = _messages(parse_po(DUTCH_PO.read_text(encoding="utf-8")))

    untranslated = [f"line {e.line}: {e.msgid!r}" for e in entries if not e.is_translated]
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in entries if "fuzzy" in e.flags]

    assert len(entries) > 100  # the real catalogue, not an empty file
    assert untranslated == []
    assert fuzzy == []


def test_dutch_catalogue_passes_msgfmt_format_checks():
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (GNU gettext) is not installed")

    result = subprocess.run(
        [msgfmt, "--check-format", "-o", "/dev/null", str(DUTCH_PO)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_compiled_dutch_catalogue_matches_the_po_file():
    """The committed .mo holds exactly the .po's translations (compilemessages was run)."""
    expected: dict[object, str] = {}
    for entry in _messages(parse_po(DUTCH_PO.read_text(encoding="utf-8"))):
        if "fuzzy" in entry.flags or not entry.is_translated:
            continue
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            expected[key] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                expected[(key, index)] = text

    with DUTCH_MO.open("rb") as compiled:
        # gettext offers no public way to list every message; _catalog is stable since 2.x.
        catalogue = dict(gettext.GNUTranslations(compiled)._catalog)
    catalogue.pop("", None)  # the header

    assert catalogue == expected


def test_one_english_word_with_two_dutch_meanings_has_a_context_for_each():
    """ "Open" (a status) read "Openen" (the verb) and the verb "Plan" read "Abonnementsvorm"."""
    from django.utils import translation

    from sparring.models import Thread

    with translation.override("nl"):
        assert translation.gettext("Open") == "Open"
        assert str(Thread.Status.OPEN.label) == "Open"
        assert translation.pgettext("verb", "Open") == "Openen"
        assert translation.gettext("Plan") == "Plannen"
        assert translation.pgettext("subscription", "Plan") == "Abonnementsvorm"
    for template, context in [
        ("tenants/client_detail.html", '{% translate "Open" context "verb" %}'),
        ("intake/key.html", '{% translate "Open" context "verb" %}'),
        ("billing/overview.html", '{% translate "Plan" context "subscription" %}'),
    ]:
        assert context in (Path(settings.BASE_DIR) / "templates" / template).read_text()


def test_the_accused_person_has_one_dutch_name():
    """ "beklaagde" and "beschuldigde" both stood for the accused person."""
    entries = _messages(parse_po(DUTCH_PO.read_text(encoding="utf-8")))
    accused = [e for e in entries if "accused" in e.msgid.lower()]
    assert len(accused) >= 5
    assert [e.msgid for e in accused if "beklaagde" not in e.msgstr[0].lower()] == []


# ---------------------------------------------------------------- stale translations

ENGLISH_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
# The keywords makemessages gives xgettext for the "django" domain (besides _, gettext,
# ngettext, which xgettext knows for Python).
_XGETTEXT_KEYWORDS = [
    "--keyword=gettext_noop",
    "--keyword=gettext_lazy",
    "--keyword=ngettext_lazy:1,2",
    "--keyword=pgettext:1c,2",
    "--keyword=npgettext:1c,2,3",
    "--keyword=pgettext_lazy:1c,2",
    "--keyword=npgettext_lazy:1c,2,3",
    # audit.labels passes both forms to ngettext through a helper; makemessages does not know
    # it, so a full makemessages run marks those entries obsolete (keep them by hand).
    "--keyword=_count:1,2",
]
_SKIPPED_DIRS = {".venv", ".cache", ".data", "node_modules", "tests", "bench", "test-results"}


def _source_messages(tmp_path: Path) -> set[tuple[str | None, str]]:
    """(context, msgid) of every message the code asks for, extracted as makemessages does:
    templates turned into Python by Django's templatize, then xgettext over all of it."""
    from django.utils.translation.template import templatize

    root = Path(settings.BASE_DIR)
    sources: list[Path] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).parts
        if not path.is_file() or _SKIPPED_DIRS & set(relative) or relative[0].startswith("."):
            continue
        if path.suffix == ".py":
            sources.append(path)
        elif path.suffix in {".html", ".txt"} and "templates" in relative:
            converted = tmp_path / f"template{len(sources):04d}.py"
            converted.write_text(templatize(path.read_text(encoding="utf-8"), origin=str(path)))
            sources.append(converted)
    listing = tmp_path / "files.txt"
    listing.write_text("\n".join(str(path) for path in sources) + "\n")
    pot = tmp_path / "django.pot"
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--from-code=UTF-8",
            "--force-po",
            *_XGETTEXT_KEYWORDS,
            f"--files-from={listing}",
            f"--output={pot}",
        ],
        check=True,
        capture_output=True,
    )
    return {(entry.msgctxt, entry.msgid) for entry in _messages(parse_po(pot.read_text()))}


@pytest.mark.parametrize("po", [DUTCH_PO, ENGLISH_PO], ids=["nl", "en"])
def test_no_translation_is_stale(po, tmp_path):
    """Every entry of the catalogues is still asked for by the code, none is fuzzy, and every
    message the code asks for has a Dutch entry. The checks above read the catalogue only: a
    message changed in the code kept its old, unused entry and the page showed English (the
    dashboard's "(%)" rows did: a "%" in {% translate %} is looked up doubled)."""
    if shutil.which("xgettext") is None:
        pytest.skip("xgettext (GNU gettext) is not installed")
    wanted = _source_messages(tmp_path)
    entries = _messages(parse_po(po.read_text(encoding="utf-8")))
    assert len(wanted) > 100
    stale = [f"line {e.line}: {e.msgid!r}" for e in entries if (e.msgctxt, e.msgid) not in wanted]
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in entries if "fuzzy" in e.flags]
    assert stale == [], f"{len(stale)} entries no longer in the code:\n" + "\n".join(stale)
    assert fuzzy == []
    if po == DUTCH_PO:  # English msgids are their own fallback; Dutch needs every one
        have = {(e.msgctxt, e.msgid) for e in entries}
        missing = sorted(f"{context or ''} {msgid!r}" for context, msgid in wanted - have)
        assert missing == [], f"{len(missing)} messages have no Dutch entry:\n" + "\n".join(missing)


def test_dates_in_dutch_write_the_month_in_lower_case_and_in_english_with_a_capital():
    """Issue 14 walk: Dutch pages said "26 Nov 2026" (Django's `M` capitalises in every language)."""
    import datetime as dt

    from django.template import Context, Template
    from django.utils import timezone, translation

    moment = timezone.make_aware(dt.datetime(2026, 11, 25, 14, 5))
    template = Template(
        '{{ day|local_date:"j M Y" }}|{{ moment|local_date:"D j M Y H:i" }}|'
        '{{ day|local_date:"j \\M M" }}'
    )
    context = Context({"day": dt.date(2026, 11, 26), "moment": moment})
    with translation.override("nl"):
        assert template.render(context) == "26 nov 2026|wo 25 nov 2026 14:05|26 M nov"
    with translation.override("en"):
        assert template.render(context) == "26 Nov 2026|Wed 25 Nov 2026 14:05|26 M Nov"


def test_no_template_writes_a_short_month_with_djangos_date_filter():
    """One owner for how a short month is written: `local_date` (saas/templatetags/dates.py)."""
    base = Path(settings.BASE_DIR)
    offenders = [
        f"{path.relative_to(base)}: {match.group(0)}"
        for path in base.glob("**/templates/**/*.*")
        if ".venv" not in path.parts
        for match in re.finditer(r'\|date:"[^"]*(?<!\\)M[^"]*"', path.read_text())
    ]
    assert not offenders, offenders

"""Figures that stay anonymous over time and across views: the release ledger.

An attacker is a reader who keeps everything shown and solves integer programs over it (the
independent `Auditor` of test_reports_suppression.py). Releases are made once per client quarter and
never change, so everything any audience is shown is implied by the ledger; these tests check
that, and the attacks that worked before the ledger (before/after, overlapping periods, sector
minus client, a new theme after a published year) as named regressions.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.db.utils import ProgrammingError
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from boardroom import selectors
from reports import releases
from reports.frames import CaseFrames, Vocabulary, frame_from_rows
from reports.models import FigureRelease
from reports.periods import Period, Quarter, period_parse
from reports.portfolio import portfolio_figures
from reports.suppression import TOTAL, Publication, Status
from tenants.trail import Operator
from tests.cast import sign_in
from tests.test_reports_flow import register
from tests.test_reports_suppression import Auditor

TODAY = datetime.date(2026, 12, 2)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


DUE = releases.last_due_quarter(TODAY)  # 2026-Q3 with 14 days of grace
YEAR = 2025

VOCABULARY = Vocabulary(
    case_type=["a", "b"],
    reporter_role=["employee", "manager"],
    accused_relation=["colleague", "manager"],
    channel=["phone", "email", "video"],
    theme=["t1", "t2", "t3"],
    outcome=["resolved", "referred"],
    referral_target=["gp"],
)


# --- the engine: a year released quarter by quarter --------------------------------------------


def _frames(cases: list[tuple], themes: list[tuple]) -> CaseFrames:
    empty = CaseFrames.empty()
    return CaseFrames(
        cases=frame_from_rows("cases", cases) if cases else empty.cases,
        themes=frame_from_rows("themes", themes) if themes else empty.themes,
        referrals=empty.referrals,
        minutes=empty.minutes,
        conversations=empty.conversations,
        internal=empty.internal,
    )


@st.composite
def histories(draw, year: int = YEAR):
    """Cases of one year; between releases some are edited (a late case, a changed channel)."""
    count = draw(st.integers(0, 40))
    cases = []
    themes = []
    for case_id in range(1, count + 1):
        month = draw(st.integers(1, 12))
        day = datetime.date(year, month, draw(st.integers(1, 28)))
        closed = draw(st.booleans())
        cases.append(
            [
                case_id,
                day,
                day + datetime.timedelta(days=10) if closed else None,
                draw(st.sampled_from(VOCABULARY.case_type)),
                draw(st.sampled_from(VOCABULARY.reporter_role)),
                draw(st.sampled_from(VOCABULARY.accused_relation)),
                draw(st.sampled_from(VOCABULARY.channel)),
                draw(st.sampled_from(VOCABULARY.outcome)) if closed else "",
            ]
        )
        for theme in draw(st.sets(st.sampled_from(VOCABULARY.theme), min_size=1, max_size=2)):
            themes.append((case_id, theme))
    edits = draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 60)), max_size=6))
    # What the indicators count of each case (anonymous, a mailbox, came back, a conversation
    # after some days, an integrity report answered in time or not), drawn per case.
    flags = {
        case[0]: draw(
            st.fixed_dictionaries(
                {
                    "anonymous": st.booleans(),
                    "in_mailbox": st.booleans(),
                    "came_back": st.booleans(),
                    "to_conversation": st.none() | st.integers(0, 40),
                    "integrity_report": st.booleans(),
                    "acknowledged_in_time": st.booleans(),
                    "answered_in_time": st.booleans(),
                }
            )
        )
        for case in cases
    }
    return cases, themes, edits, flags


def _indicator_rows(cases: list[list], flags: dict) -> list[dict]:
    """The indicators' rows of the year's cases as `reports.indicators.cases_of` makes them
    (with what can only be true together: a mailbox only for an anonymous reporter, and so on)."""
    rows = []
    for case in cases:
        drawn = flags.get(case[0], {})
        anonymous = drawn.get("anonymous", False)
        in_mailbox = anonymous and drawn.get("in_mailbox", False)
        report = case[3] == "a" and drawn.get("integrity_report", False)
        rows.append(
            {
                "anonymous": anonymous,
                "integrity": case[3] == "a",
                "in_mailbox": in_mailbox,
                "came_back": in_mailbox and drawn.get("came_back", False),
                "to_conversation": drawn.get("to_conversation"),
                "to_closure": None if case[2] is None else (case[2] - case[1]).days,
                "integrity_report": report,
                "acknowledged_in_time": report and drawn.get("acknowledged_in_time", False),
                "answered_in_time": report and drawn.get("answered_in_time", False),
            }
        )
    return rows


def _knows_indicators(auditor: Auditor, tables, prefix: str = "") -> None:
    """What a reader of the indicators knows without being told, written from their meaning
    (not from the engine's links): each count is part of its whole; anonymous contacts and
    those with a conversation or closed are parts of all the year's contacts; reports are
    part of the integrity cases. Where the year's contacts are the released case total (no
    case registered late for a released quarter), the reader may know that too."""
    keys = {table.key for table in tables}
    if "ind_anonymous" not in keys:
        return

    def cell(key: str, row: str, column: str = "year") -> int:
        return auditor.cell(prefix + key, row, column)

    for key, whole in [
        ("ind_mailbox", cell("ind_anonymous", "anonymous")),
        ("ind_came_back", cell("ind_mailbox", "in_mailbox")),
        ("ind_conversation", cell("ind_anonymous", TOTAL)),
        ("ind_closed", cell("ind_anonymous", TOTAL)),
        ("ind_acknowledged", cell("ind_integrity", "reported")),
        ("ind_answered", cell("ind_integrity", "reported")),
    ]:
        auditor.same(cell(key, TOTAL), whole)
    for mine, released in [
        (cell("ind_anonymous", TOTAL), cell("cases_by_type", TOTAL, TOTAL)),
        (cell("ind_integrity", TOTAL), cell("cases_by_type", "a", TOTAL)),
    ]:
        if auditor.truth[mine] == auditor.truth[released]:
            auditor.same(mine, released)


def _knows_year_to_date(auditor: Auditor, tables, prefix: str = "") -> None:
    """What every reader knows without being told: a year to date through quarter n is the
    sum of quarters 1..n (written here from the labels, not from the engine's own sums)."""
    for table in tables:
        if not table.key.endswith("_ytd"):
            continue
        base = prefix + table.key.removesuffix("_ytd")
        rows = [str(row) for row in table.frame.index] + ([TOTAL] if table.column_totals else [])
        for row in rows:
            for column in map(str, table.frame.columns):
                year, number = column.split("-Q")
                auditor.adds_up(
                    auditor.cell(prefix + table.key, row, column),
                    [auditor.cell(base, row, f"{year}-Q{m}") for m in range(1, int(number) + 1)],
                )


def _release_year(cases, themes, edits, flags, k, year: int = YEAR):
    """Release the year quarter by quarter; between releases apply the edits (changes to
    cases of any quarter, as advisers make them); the fourth quarter releases the indicators'
    counts with the year, as `client_release_make` does. Returns every release's tables and
    publication."""
    from reports import indicators

    cases = [list(case) for case in cases]
    made = []
    previous_tables = None
    previous_publication = None
    for number in range(1, 5):
        for after, target in edits:
            if after == number - 1 and cases:
                case = cases[target % len(cases)]
                case[6] = "video" if case[6] != "video" else "phone"  # a changed channel
                cases.append(
                    [len(cases) + 1000, case[1], None, "a", "employee", "manager", "phone", ""]
                )
                themes.append((cases[-1][0], "t1"))
        frames = _frames([tuple(case) for case in cases], themes)
        quarter = Quarter(year, number)
        tables, links, sums = releases.client_tables(frames, quarter, VOCABULARY, previous_tables)
        if number == 4:
            type_table = tables[0].frame
            more_tables, more_links = indicators.indicator_tables(
                _indicator_rows(cases, flags),
                released={
                    indicators.CONTACTS: (
                        "cases_by_type",
                        TOTAL,
                        TOTAL,
                        int(type_table.to_numpy().sum()),
                    ),
                    indicators.INTEGRITY: (
                        "cases_by_type",
                        "a",
                        TOTAL,
                        int(type_table.loc["a"].sum()),
                    ),
                },
            )
            tables += more_tables
            links += more_links
        fixed = (
            releases._fixed_from(previous_publication, tables)
            if previous_publication is not None
            else {}
        )
        from reports.suppression import suppress

        publication = suppress(tables, k=k, links=links, sums=sums, fixed=fixed)
        made.append((tables, links, publication))
        previous_tables = {table.key: table for table in tables}
        previous_publication = publication
    return made


@settings(
    max_examples=int(__import__("os").environ.get("SUPPRESSION_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(history=histories(), k=st.integers(3, 6))
def test_a_year_released_quarter_by_quarter_pins_no_hidden_cell(history, k):
    cases, themes, edits, flags = history
    made = _release_year(cases, themes, edits, flags, k)
    # A released cell never changes: value and mark stay what the first release showed.
    for (_t1, _l1, earlier), (_t2, _l2, later) in itertools.pairwise(made):
        for key, table in earlier.tables.items():
            for (row, column), cell in table._cells.items():
                assert later[key].cell(row, column) == cell or (
                    np.isnan(cell[0]) and later[key].cell(row, column)[1] == cell[1]
                ), (key, row, column)
    # Everything shown by all four releases is what the last one shows: audit that as a whole.
    tables, links, publication = made[-1]
    auditor = Auditor(k)
    for table in tables:
        auditor.add_table(table, publication[table.key])
    for link in links:
        auditor.same(auditor.cell(*link.first), auditor.cell(*link.second))
    _knows_year_to_date(auditor, tables)
    _knows_indicators(auditor, tables)
    assert any(table.key.endswith("_ytd") for table in tables)
    auditor.assert_safe()


@settings(
    max_examples=int(__import__("os").environ.get("SUPPRESSION_EXAMPLES", "40")) // 4 or 1,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(
    histories=st.lists(histories(), min_size=2, max_size=3),
    k=st.integers(3, 6),
)
def test_clients_of_one_sector_and_every_portfolio_period_pin_no_hidden_cell(histories, k):
    """Several clients in one sector, each released quarter by quarter; then the portfolio for
    every run of quarters the period picker offers. Everything shown goes to the attacker."""
    import dataclasses
    from types import SimpleNamespace

    from reports.portfolio import EARLIER, RECENT, portfolio_publication

    auditor = Auditor(k)
    released = {}
    for number, (cases, themes, edits, flags) in enumerate(histories, start=1):
        tables, links, publication = _release_year(cases, list(themes), edits, flags, k)[-1]
        for table in tables:
            auditor.add_table(
                dataclasses.replace(table, key=f"c{number}.{table.key}"), publication[table.key]
            )
        for link in links:
            auditor.same(
                auditor.cell(f"c{number}.{link.first[0]}", *link.first[1:]),
                auditor.cell(f"c{number}.{link.second[0]}", *link.second[1:]),
            )
        _knows_year_to_date(auditor, tables, prefix=f"c{number}.")
        _knows_indicators(auditor, tables, prefix=f"c{number}.")
        summed = ("cases_by_type", "themes", "cases_by_type_ytd", "themes_ytd")
        released[number] = {YEAR: {key: publication[key] for key in summed}}
    clients = {number: SimpleNamespace(sector="care") for number in released}
    quarters = [Quarter(YEAR, number) for number in range(1, 5)]
    shown = 0
    for start in range(4):
        for end in range(start, 4):
            period = Period(quarters[start], quarters[end])
            figures = portfolio_publication(
                clients=clients, released=released, period=period, k=k, open_cases={}, minutes={}
            )
            run = period.quarters
            half = len(run) // 2 if len(run) > 1 else 0
            runs = {EARLIER: run[:half], RECENT: run[half:], TOTAL: run}

            def columns(of: list[Quarter]) -> list[str]:
                return [TOTAL] if len(of) == 4 else [q.label for q in of]

            for number in released:
                for column, of in runs.items():
                    value = figures["per_client"].shown(str(number), column)
                    if value is not None and of:
                        parts = [
                            auditor.cell(f"c{number}.cases_by_type", TOTAL, c) for c in columns(of)
                        ]
                        auditor.shown_sum(parts, value)
                        shown += 1
            for theme in VOCABULARY.theme:
                value = figures["themes_by_sector"].shown("care", theme)
                if value is not None:
                    parts = [
                        auditor.cell(f"c{number}.themes", theme, c)
                        for number in released
                        for c in columns(run)
                    ]
                    auditor.shown_sum(parts, value)
                    shown += 1
    auditor.assert_safe()


@settings(
    max_examples=int(__import__("os").environ.get("SUPPRESSION_EXAMPLES", "40")) // 10 or 1,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(
    clients=st.lists(
        st.tuples(histories(year=YEAR - 1), histories(year=YEAR)), min_size=2, max_size=2
    ),
    k=st.integers(3, 5),
)
def test_two_years_of_a_sector_and_every_view_of_every_audience_pin_no_hidden_cell(clients, k):
    """The harness of the issue: two clients of one sector, two years each released quarter by
    quarter with case changes in between; then every view an audience can open for every period
    the picker offers (each client's dashboard tables with the year-earlier column, which the
    firm's admins see for every client, and the firm's portfolio). Everything shown goes to one
    attacker (the widest audience: a contact person sees a subset)."""
    from boardroom.dashboard import DIMENSION_TABLES
    from reports import frames as report_frames
    from reports.portfolio import EARLIER, RECENT, portfolio_publication

    years = (YEAR - 1, YEAR)
    auditor = Auditor(k)
    released: dict[int, dict[int, Publication]] = {}
    for number, per_year in enumerate(clients, start=1):
        released[number] = {YEAR - 2: releases.pending_publication(YEAR - 2, VOCABULARY, k)}
        for year, (cases, themes, edits, flags) in zip(years, per_year, strict=True):
            tables, links, publication = _release_year(
                cases, list(themes), edits, flags, k, year=year
            )[-1]
            prefix = f"c{number}.{year}."
            for table in tables:
                auditor.add_table(
                    dataclasses.replace(table, key=prefix + table.key), publication[table.key]
                )
            for link in links:
                auditor.same(
                    auditor.cell(prefix + link.first[0], *link.first[1:]),
                    auditor.cell(prefix + link.second[0], *link.second[1:]),
                )
            _knows_year_to_date(auditor, tables, prefix=prefix)
            _knows_indicators(auditor, tables, prefix=prefix)
            released[number][year] = publication

    def parts(number: int, key: str, row: str, run: list[Quarter]) -> list[int]:
        """The true quarter cells behind a figure (whatever released cells it was read from)."""
        return [
            auditor.cell(f"c{number}.{quarter.year}.{key}", row, quarter.label)
            for quarter in run
            if quarter.year in years
        ]

    quarters = [Quarter(year, number) for year in years for number in range(1, 5)]
    views = shown = 0
    for start, end in itertools.combinations_with_replacement(range(len(quarters)), 2):
        period = Period(quarters[start], quarters[end])
        runs = {"period": period.quarters, "previous": period.a_year_earlier().quarters}
        for number, publications in released.items():
            for key in DIMENSION_TABLES:
                table = report_frames.period_table(publications, key, period)
                views += 1
                for row in map(str, table.values.index):
                    for column, run in runs.items():
                        value = table.shown(row, column)
                        if value is not None:
                            auditor.shown_sum(parts(number, key, row, run), value)
                            shown += 1
        figures = portfolio_publication(
            clients={number: SimpleNamespace(sector="care") for number in released},
            released={
                number: {
                    year: {
                        key: publications[year][key]
                        for key in ("cases_by_type", "themes", "cases_by_type_ytd", "themes_ytd")
                    }
                    for year in years
                }
                for number, publications in released.items()
            },
            period=period,
            k=k,
            open_cases={},
            minutes={},
        )
        views += 1
        run = period.quarters
        half = len(run) // 2 if len(run) > 1 else 0
        halves = {EARLIER: run[:half], RECENT: run[half:], TOTAL: run}
        for number in released:
            for column, of in halves.items():
                value = figures["per_client"].shown(str(number), column)
                if value is not None and of:
                    auditor.shown_sum(parts(number, "cases_by_type", TOTAL, of), value)
                    shown += 1
        for theme in VOCABULARY.theme:
            value = figures["themes_by_sector"].shown("care", theme)
            if value is not None:
                auditor.shown_sum(
                    [cell for number in released for cell in parts(number, "themes", theme, run)],
                    value,
                )
                shown += 1
    attacked = auditor.assert_safe()
    assert views == 36 * (len(DIMENSION_TABLES) * 2 + 1)
    note(f"{views} views, {shown} shown figures, {attacked} hidden cells attacked, none pinned")
    report = __import__("os").environ.get("HARNESS_REPORT")
    if report:  # bench/attack.py: a longer run, its numbers summed
        with open(report, "a") as out:
            out.write(json.dumps({"views": views, "shown": shown, "attacked": attacked}) + "\n")


def test_fixed_cells_keep_their_marks_and_are_never_complements():
    from reports.suppression import Fixed, Table, suppress

    frame = pd.DataFrame({"q1": [3, 9, 8], "q2": [7, 9, 2]}, index=["r1", "r2", "r3"])
    first = suppress([Table("t", frame[["q1"]], row_totals=False)], k=5)
    fixed = {
        ("t", row, column): Fixed(status, 5)
        for (row, column), (_v, status) in first["t"]._cells.items()
    }
    both = suppress([Table("t", frame, row_totals=True)], k=5, fixed=fixed)
    for (row, column), (_value, status) in first["t"]._cells.items():
        assert both["t"].cell(row, column)[1] == status
    assert both["t"].cell("r1", TOTAL)[1] != Status.SHOWN  # 3 + 7: would give r1/q1 away


# --- the ledger in a client schema -------------------------------------------------------------


def _json(publications: dict[int, Publication]) -> str:
    return json.dumps({year: p.to_json() for year, p in publications.items()}, sort_keys=True)


def test_before_and_after_a_report_the_released_figures_are_the_same(cast):
    """The attack: load the figures, let a colleague report, load again, subtract."""
    with tenant_context(cast.a1):
        day = DUE.starts_on + datetime.timedelta(days=5)
        register(cast, count=4, on=day, channel="email")
        register(cast, count=7, on=day)
        before = _json(selectors.year_publications([DUE.year], today=TODAY))
        # A late registration in the released quarter and one in the running quarter.
        register(cast, count=1, on=day, channel="email")
        register(cast, count=1, on=TODAY)
        after = _json(selectors.year_publications([DUE.year], today=TODAY))
        assert after == before
        published = selectors.year_publications([DUE.year], today=TODAY)[DUE.year]
        running = Quarter.of(TODAY).label
        assert published["cases_by_channel"].cell("email", running)[1] == Status.PENDING
        assert published["cases_by_channel"].cell("email", DUE.label)[1] == Status.BELOW_K


def test_the_next_release_keeps_every_earlier_mark(cast):
    with tenant_context(cast.a1):
        q1 = Quarter(YEAR, 1)
        register(cast, count=3, on=q1.starts_on, channel="email")
        register(cast, count=9, on=q1.starts_on)
        first = releases.client_release_make(
            client=cast.a1, quarter=q1, today=releases.release_date(q1)
        )
        register(cast, count=8, on=Quarter(YEAR, 2).starts_on)
        register(cast, count=2, on=q1.starts_on, channel="video")  # late, for Q1
        second = releases.client_release_make(
            client=cast.a1, quarter=Quarter(YEAR, 2), today=releases.release_date(Quarter(YEAR, 2))
        )
        old, new = Publication.from_json(first.published), Publication.from_json(second.published)
        for key, table in old.tables.items():
            for (row, column), (value, status) in table._cells.items():
                if column == q1.label:
                    assert new[key].cell(row, column)[1] == status
                    if status == Status.SHOWN:
                        assert new[key].cell(row, column)[0] == value
        assert new["cases_by_channel"].cell("video", q1.label)[1] == Status.BELOW_K
        # The late Q1 cases are not in Q1's figures: the released quarter stays as released.
        truth = second.truth["tables"]["cases_by_channel"]["frame"]
        video = truth["values"][truth["rows"].index("video")]
        assert video[truth["columns"].index(q1.label)] == 0


def test_a_quarter_is_released_once_even_when_two_readers_race(cast):
    with tenant_context(cast.a1):
        quarter = Quarter(YEAR, 1)
        one = releases.client_release_make(client=cast.a1, quarter=quarter, today=TODAY)
        two = releases.client_release_make(client=cast.a1, quarter=quarter, today=TODAY)
        assert one.pk == two.pk
        assert FigureRelease.objects.filter(client=cast.a1, year=YEAR, quarter=1).count() == 1


def test_a_quarter_that_has_not_closed_is_not_released(cast):
    with tenant_context(cast.a1):
        running = Quarter.of(TODAY)
        assert releases.client_release_make(client=cast.a1, quarter=running, today=TODAY) is None
        assert not FigureRelease.objects.filter(
            client=cast.a1, year=running.year, quarter=running.number
        ).exists()


def test_the_first_reader_of_a_year_makes_its_fourth_quarter_release_with_the_clients_row(
    cast, client_for
):
    """No nightly run yet: the first dashboard request makes last year's releases, the fourth
    quarter's with the indicators. On a client host the connection's tenant holds only the
    routing fields; the release must read the client's row (its employee count), not that."""
    from django.utils import timezone

    last_year = timezone.localdate().year - 1
    with tenant_context(cast.a1):
        register(cast, count=6, on=datetime.date(last_year, 11, 3))
    # What the tasks released on the way is taken back (trigger off in this test's transaction),
    # so the request is the first to release, as on a site whose nightly run has not come yet.
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE reports_figurerelease DISABLE TRIGGER reports_figurerelease_append_only"
        )
        FigureRelease.objects.filter(client=cast.a1).delete()
        cursor.execute(
            "ALTER TABLE reports_figurerelease ENABLE TRIGGER reports_figurerelease_append_only"
        )
    http = client_for(cast.a1)
    sign_in(http, cast.contact_a1)
    assert http.get("/board/").status_code == 200
    fourth = FigureRelease.objects.get(client=cast.a1, year=last_year, quarter=4)
    indicators = fourth.truth["indicators"]
    assert indicators["contacts"] == 6
    employees = type(cast.a1).objects.get(pk=cast.a1.pk).employee_count
    assert indicators["contacts_per_100"] == round(100 * 6 / employees, 1)


def test_releases_refuse_update_and_delete(cast):
    with tenant_context(cast.a1):
        release = releases.client_release_make(
            client=cast.a1, quarter=Quarter(YEAR, 1), today=TODAY
        )
    for statement in (
        f"UPDATE reports_figurerelease SET k = 3 WHERE id = {release.pk}",  # noqa: S608
        f"DELETE FROM reports_figurerelease WHERE id = {release.pk}",  # noqa: S608
        "TRUNCATE reports_figurerelease",
    ):
        with (
            pytest.raises((InternalError, ProgrammingError, IntegrityError)),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert FigureRelease.objects.filter(pk=release.pk, k=release.k).exists()


def test_a_theme_added_after_a_published_year_does_not_break_the_dashboard(
    cast, client_for, run_on_commit
):
    """Was a 500 (KeyError on the new theme in the frozen figures) for every reader."""
    from tenants import themes

    run_on_commit(themes.firm_theme_add, actor=Operator("test"), firm=cast.acme, name="Nachtdienst")
    contact = client_for(cast.a1)
    sign_in(contact, cast.contact_a1)
    for quarter in (DUE, Quarter(DUE.year - 2, 1)):
        query = f"?from={quarter.shifted(-4).label}&to={quarter.label}"
        assert contact.get(f"/board/{query}").status_code == 200
        assert contact.get(f"/board/data.json{query}").status_code == 200


def test_hidden_themes_keep_their_rows_whether_or_not_a_case_has_them(cast, run_on_commit):
    from tenants import themes

    used = run_on_commit(
        themes.firm_theme_add, actor=Operator("test"), firm=cast.acme, name="Gebruikt"
    )
    unused = run_on_commit(
        themes.firm_theme_add, actor=Operator("test"), firm=cast.acme, name="Ongebruikt"
    )
    for theme in (used, unused):
        run_on_commit(
            themes.firm_theme_set_active,
            actor=Operator("test"),
            firm=cast.acme,
            theme=theme,
            active=False,
        )
    with tenant_context(cast.a1):
        rows = set(selectors.vocabulary_current().theme)
    assert {used.code, unused.code} <= rows


# --- the portfolio: periods and sectors --------------------------------------------------------


@pytest.fixture
def two_in_one_sector(cast):
    """a1 and a2 in one sector, with small and larger counts over four quarters."""
    from tenants.models import ClientOrganisation

    ClientOrganisation.objects.filter(pk=cast.a2.pk).update(sector="healthcare")
    plan = {
        cast.a1: [(6, "work_pressure"), (2, "bullying"), (9, "work_pressure"), (3, "conflict")],
        cast.a2: [(1, "bullying"), (7, "work_pressure"), (5, "bullying"), (8, "conflict")],
    }
    for client, counts in plan.items():
        with tenant_context(client):
            for step, (count, theme) in enumerate(counts):
                quarter = DUE.shifted(step - 3)
                register(cast, count=count, on=quarter.starts_on, theme=theme)
            releases.client_publications([DUE.year - 1, DUE.year], client=client, today=TODAY)
    return cast


def _portfolio(cast, first: Quarter, last: Quarter):
    cast.acme.refresh_from_db()
    return portfolio_figures(firm=cast.acme, period=Period(first, last)).publication


def test_overlapping_portfolio_periods_cannot_be_subtracted(two_in_one_sector):
    """The attack: (Q1..Q4) minus (Q2..Q4) gives Q1. Any two shown sums differ by shown cells."""
    cast = two_in_one_sector
    quarters = [DUE.shifted(step) for step in range(-3, 1)]
    with tenant_context(cast.a1):
        released = {cast.a1.pk: selectors.year_publications([DUE.year - 1, DUE.year], today=TODAY)}
    with tenant_context(cast.a2):
        released[cast.a2.pk] = selectors.year_publications([DUE.year - 1, DUE.year], today=TODAY)
    for start in range(len(quarters) - 1):
        wide = _portfolio(cast, quarters[start], quarters[-1])["per_client"]
        narrow = _portfolio(cast, quarters[start + 1], quarters[-1])["per_client"]
        left_out = quarters[start]
        for client in (cast.a1, cast.a2):
            both = (wide.shown(str(client.pk), TOTAL), narrow.shown(str(client.pk), TOTAL))
            if None in both:
                continue
            table = released[client.pk][left_out.year]["cases_by_type"]
            # The difference is a cell the client's release itself shows.
            assert table.shown(TOTAL, left_out.label) == both[0] - both[1]


def test_a_sector_minus_one_client_gives_nothing_hidden_away(two_in_one_sector):
    cast = two_in_one_sector
    for quarter in [DUE.shifted(step) for step in range(-3, 1)]:
        sector = _portfolio(cast, quarter, quarter)["themes_by_sector"]
        for theme in ("work_pressure", "bullying", "conflict"):
            shown = sector.shown("healthcare", theme)
            if shown is None:
                continue
            for client in (cast.a1, cast.a2):
                with tenant_context(client):
                    table = selectors.year_publications([quarter.year], today=TODAY)[quarter.year][
                        "themes"
                    ]
                # A shown sector sum is made of shown client cells only.
                assert table.shown(theme, quarter.label) is not None


def test_adding_a_client_changes_no_other_row_of_the_portfolio(two_in_one_sector, run_on_commit):
    from tenants import services as tenant_services

    cast = two_in_one_sector
    before = _portfolio(cast, DUE.shifted(-3), DUE)["per_client"]
    run_on_commit(
        tenant_services.client_create,
        actor=Operator("test"),
        firm=cast.acme,
        slug="nieuw",
        name="Nieuwe Klant",
        sector="healthcare",
        employee_count=50,
    )
    after = _portfolio(cast, DUE.shifted(-3), DUE)["per_client"]
    assert len(after.values.index) == len(before.values.index) + 1
    for row in before.values.index:
        if row == TOTAL:
            continue
        for column in before.values.columns:
            assert after.cell_text(row, column) == before.cell_text(row, column)


def test_period_defaults_to_released_quarters():
    period = period_parse(None, None, today=TODAY)
    assert period.last == DUE and period.first == Quarter(DUE.year, 1)
    # Before the new year's first quarter is released: the whole last year.
    january = period_parse(None, None, today=datetime.date(DUE.year + 1, 1, 20))
    assert (january.first, january.last) == (Quarter(DUE.year, 1), Quarter(DUE.year, 4))


def test_indicators_are_frozen_with_the_years_release(cast):
    """The dashboard's indicators come from the year's fourth-quarter release: a case added
    afterwards changes no ratio, median or count a reader saw before."""
    from reports.indicators import indicators_current

    later = datetime.date(TODAY.year + 2, 1, 20)  # this year and next are then released
    with tenant_context(cast.a1):
        register(cast, count=12, on=datetime.date(TODAY.year, 5, 4))
        before = indicators_current(today=later)
        register(cast, count=1, on=datetime.date(TODAY.year, 5, 5), channel="email")
        after = indicators_current(today=later)
    assert [item.year for item in before] == [TODAY.year, TODAY.year + 1]
    assert before == after
    with tenant_context(cast.a1):
        frozen = FigureRelease.objects.get(client=cast.a1, year=TODAY.year, quarter=4)
        total = Publication.from_json(frozen.published)["cases_by_type"].shown(TOTAL, TOTAL)
    assert frozen.truth["indicators"]["year"] == TODAY.year
    # One number for "cases opened in the year" wherever it is shown (hidden here: with every
    # case in one category and quarter, the total would pin the empty ones).
    assert before[0].contacts == total

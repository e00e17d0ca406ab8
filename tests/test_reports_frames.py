"""From random case sets to published figures: every table produced, proved safe.

Random cases over two years go through the same path as a client's dashboard and annual report
(`frames_of_year` -> `year_publication`, then `period_table` / `years_table` views). The
independent auditor of tests/test_reports_suppression.py then gets everything a reader sees — both
years' tables with their totals and links, and every number the period views show — and
proves each hidden cell keeps two or more possible values.
"""

from __future__ import annotations

import datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports import frames as report_frames
from reports.frames import PERIOD, PREVIOUS, CaseFrames, Vocabulary, frame_from_rows
from reports.periods import Period, Quarter, period_make, period_parse
from reports.suppression import TOTAL, Publication, Status, Table, suppress
from tests.test_reports_suppression import PROPERTY, Auditor

VOCABULARY = Vocabulary(
    case_type=["undesirable_behaviour", "integrity"],
    reporter_role=["employee", "manager"],
    accused_relation=["colleague", "manager"],
    channel=["phone", "email"],
    theme=["bullying", "conflict", "work_pressure"],
    outcome=["resolved_informally", "referred"],
    referral_target=["hr", "gp"],
)
YEARS = (2024, 2025)
FIRST_DAY = datetime.date(2024, 1, 1)


@st.composite
def case_sets(draw) -> CaseFrames:
    """Up to 40 cases in 2024-2025 with themes, closures, referrals, time and conversations."""
    count = draw(st.integers(0, 40))
    cases, themes, referrals, minutes, conversations = [], [], [], [], []
    for case_id in range(1, count + 1):
        opened = FIRST_DAY + datetime.timedelta(days=draw(st.integers(0, 729)))
        closed = None
        outcome = ""
        if draw(st.booleans()):
            closed = min(
                opened + datetime.timedelta(days=draw(st.integers(0, 200))),
                datetime.date(2025, 12, 31),
            )
            outcome = draw(st.sampled_from(VOCABULARY.outcome))
        cases.append(
            (
                case_id,
                opened,
                closed,
                draw(st.sampled_from(VOCABULARY.case_type)),
                draw(st.sampled_from(VOCABULARY.reporter_role)),
                draw(st.sampled_from(VOCABULARY.accused_relation)),
                draw(st.sampled_from(VOCABULARY.channel)),
                outcome,
            )
        )
        for theme in draw(st.sets(st.sampled_from(VOCABULARY.theme), min_size=1, max_size=2)):
            themes.append((case_id, theme))
        last = closed or datetime.date(2025, 12, 31)
        span = (last - opened).days
        for _ in range(draw(st.integers(0, 1))):
            day = opened + datetime.timedelta(days=draw(st.integers(0, span)))
            referrals.append((case_id, day, draw(st.sampled_from(VOCABULARY.referral_target))))
        for _ in range(draw(st.integers(0, 2))):
            day = opened + datetime.timedelta(days=draw(st.integers(0, span)))
            minutes.append((case_id, day, draw(st.integers(15, 120))))
            conversations.append((case_id, day))
    internal = [
        (
            number,
            datetime.date(draw(st.sampled_from(YEARS)), draw(st.integers(1, 12)), 1),
            draw(st.sampled_from(VOCABULARY.case_type)),
        )
        for number in range(draw(st.integers(0, 6)))
    ]
    return CaseFrames(
        cases=frame_from_rows("cases", cases),
        themes=frame_from_rows("themes", themes),
        referrals=frame_from_rows("referrals", referrals),
        minutes=frame_from_rows("minutes", minutes),
        conversations=frame_from_rows("conversations", conversations),
        internal=frame_from_rows("internal", internal),
    )


def _renamed(table: Table, year: int) -> Table:
    return Table(
        f"{year}:{table.key}",
        table.frame,
        table.row_totals,
        table.column_totals,
        table.kind,
        table.guard,
    )


def _parts(period: Period, row: str, has_year_total: bool) -> list[tuple[int, str]]:
    """(year, column) cells a period figure adds up, written out independently of the code."""
    parts = []
    for year in sorted({quarter.year for quarter in period.quarters}):
        inside = [q for q in period.quarters if q.year == year]
        if len(inside) == 4 and has_year_total:
            parts.append((year, TOTAL))
        else:
            parts += [(year, q.label) for q in inside]
    return parts


@settings(PROPERTY, max_examples=max(10, PROPERTY.max_examples // 3))
@given(frames=case_sets(), k=st.integers(3, 6), first=st.integers(0, 7), length=st.integers(1, 4))
def test_published_years_and_period_views_reveal_no_hidden_cell(frames, k, first, length):
    start = Quarter(2024, 1).shifted(first)
    period = period_make(start, min(start.shifted(length - 1), Quarter(2025, 4)))
    publications: dict[int, Publication] = {}
    auditor = Auditor(k)
    for year in YEARS:
        of_year = report_frames.frames_of_year(frames, year)
        tables, links = report_frames.year_tables(of_year, year, VOCABULARY)
        publication = suppress(tables, k=k, links=links)
        publications[year] = publication
        for table in tables:
            auditor.add_table(_renamed(table, year), publication[table.key])
        for link in links:
            auditor.same(
                auditor.cell(f"{year}:{link.first[0]}", *link.first[1:]),
                auditor.cell(f"{year}:{link.second[0]}", *link.second[1:]),
            )
        for published in publication.tables.values():  # no small count is ever shown
            for row in published.values.index:
                for column in published.values.columns:
                    value, status = published.cell(row, column)
                    if status == Status.SHOWN and published.kind == "count":
                        assert value >= k
    for key in ("cases_by_type", "themes", "referrals", "hours"):
        view = report_frames.period_table(
            publications, key, period, compare=period.first.year == 2025
        )
        for column, chosen in ((PERIOD, period), (PREVIOUS, period.a_year_earlier())):
            if column not in view.values.columns:
                continue
            for row in view.values.index:
                value, status = view.cell(row, column)
                parts = _parts(chosen, str(row), True)
                if status == Status.SHOWN and len(parts) > 1:
                    auditor.shown_sum(
                        [auditor.cell(f"{year}:{key}", str(row), part) for year, part in parts],
                        value,
                    )
    auditor.assert_safe()


def test_year_tables_count_what_happened():
    """A worked example: the counts per quarter, the links and the combined table."""
    frames = CaseFrames(
        cases=frame_from_rows(
            "cases",
            [
                (
                    1,
                    datetime.date(2025, 1, 5),
                    datetime.date(2025, 4, 2),
                    "integrity",
                    "employee",
                    "manager",
                    "phone",
                    "referred",
                ),
                (
                    2,
                    datetime.date(2025, 2, 9),
                    None,
                    "integrity",
                    "manager",
                    "colleague",
                    "email",
                    "",
                ),
                (
                    3,
                    datetime.date(2024, 12, 30),
                    datetime.date(2025, 1, 2),
                    "undesirable_behaviour",
                    "employee",
                    "colleague",
                    "phone",
                    "resolved_informally",
                ),
            ],
        ),
        themes=frame_from_rows(
            "themes", [(1, "bullying"), (1, "conflict"), (2, "conflict"), (3, "bullying")]
        ),
        referrals=frame_from_rows("referrals", [(1, datetime.date(2025, 3, 1), "hr")]),
        minutes=frame_from_rows(
            "minutes", [(1, datetime.date(2025, 1, 5), 60), (2, datetime.date(2025, 2, 9), 90)]
        ),
        conversations=frame_from_rows("conversations", [(1, datetime.date(2025, 1, 5))]),
        internal=frame_from_rows("internal", [(1, datetime.date(2025, 6, 1), "integrity")]),
    )
    tables, links = report_frames.year_tables(frames, 2025, VOCABULARY)
    by_key = {table.key: table.frame for table in tables}
    assert by_key["cases_by_type"].to_dict("index") == {
        "undesirable_behaviour": {"2025-Q1": 0, "2025-Q2": 0, "2025-Q3": 0, "2025-Q4": 0},
        "integrity": {"2025-Q1": 2, "2025-Q2": 0, "2025-Q3": 0, "2025-Q4": 0},
    }
    assert by_key["themes"]["2025-Q1"].to_dict() == {
        "bullying": 1,
        "conflict": 2,
        "work_pressure": 0,
    }
    # Case 3 was opened in 2024 but closed in 2025: it counts among the year's outcomes.
    assert by_key["outcomes"]["2025-Q1"].to_dict() == {"resolved_informally": 1, "referred": 0}
    assert by_key["outcomes"]["2025-Q2"].to_dict() == {"resolved_informally": 0, "referred": 1}
    assert by_key["hours"].loc["minutes"].tolist() == [150, 0, 0, 0]
    assert by_key["combined"].to_dict("index") == {
        "undesirable_behaviour": {"external": 0, "internal": 0},
        "integrity": {"external": 2, "internal": 1},
    }
    assert len(links) == 3 * 5 + 2 + 1


def test_frames_must_follow_the_schema():
    frames = CaseFrames.empty()
    with_text = frames.cases.assign(summary="Jan Jansen pestte haar")
    bad = CaseFrames(**{**frames.__dict__, "cases": with_text})
    with pytest.raises(report_frames.FrameError, match="no other data"):
        report_frames.year_tables(bad, 2025, VOCABULARY)


def test_a_period_uses_year_totals_for_whole_years_and_shown_quarters_otherwise():
    frame = pd.DataFrame(
        {"2025-Q1": [7, 1], "2025-Q2": [8, 9], "2025-Q3": [6, 5], "2025-Q4": [5, 12]},
        index=["a", "b"],
    )
    publication = suppress([Table("t", frame, row_totals=True)], k=5)
    whole = report_frames.period_table(
        {2025: publication},
        "t",
        period_parse("2025-Q1", "2025-Q4", today=datetime.date(2026, 1, 1)),
        compare=False,
    )
    for row in ("a", "b", TOTAL):  # a whole year is the published year total, as it stands
        assert whole.cell(row, PERIOD) == publication["t"].cell(row, TOTAL) or (
            whole.shown(row, PERIOD) is None and publication["t"].shown(row, TOTAL) is None
        )
    part = report_frames.period_table(
        {2025: publication},
        "t",
        period_parse("2025-Q2", "2025-Q3", today=datetime.date(2026, 1, 1)),
        compare=False,
    )
    shown = {row: publication["t"].shown(row, "2025-Q2") for row in ("a", "b")}
    for row in ("a", "b"):
        if shown[row] is not None and publication["t"].shown(row, "2025-Q3") is not None:
            assert part.shown(row, PERIOD) == shown[row] + publication["t"].shown(row, "2025-Q3")
        else:
            assert part.shown(row, PERIOD) is None

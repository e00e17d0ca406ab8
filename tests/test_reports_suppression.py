"""Small-number suppression, proved on random tables.

For every table `suppress` produces, an independent auditor (below; it shares no code with the
module under test) builds what a reader knows — every shown number, every total relation, every
link between tables, "< k" means 0..k-1, "x" means at least k, counts are whole numbers — and
computes with integer programming the smallest and largest value each hidden cell can take.
Each hidden cell must keep at least two possible values; no shown count may be below k.
"""

from __future__ import annotations

import os

import highspy
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from reports.suppression import (
    TOTAL,
    Kind,
    Link,
    Publication,
    PublishedTable,
    Status,
    SuppressionError,
    Table,
    check_k,
    derived_sum,
    shared_column_totals,
    suppress,
)

# SUPPRESSION_EXAMPLES=2000 for a long hunt; the default keeps the suite quick.
PROPERTY = settings(
    max_examples=int(os.environ.get("SUPPRESSION_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


# --- the independent auditor -------------------------------------------------------------------


class Auditor:
    """What a reader can deduce from everything shown, as an integer program."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.index: dict[tuple[str, str, str], int] = {}
        self.truth: list[float] = []
        self.low: list[float] = []
        self.high: list[float] = []
        self.equations: list[dict[int, float]] = []
        self.rhs: list[float] = []
        self.kind: dict[int, Kind] = {}
        self.status: dict[int, Status] = {}
        self._solver: highspy._Highs | None = None
        # Whole-numbered solutions consistent with everything shown, found along the way.
        self.witnesses: list[np.ndarray] = []

    def cell(self, key: str, row: str, column: str) -> int:
        return self.index[(key, str(row), str(column))]

    def add_table(self, table: Table, published: PublishedTable) -> None:
        """Add a table's true cells, its totals relations and what was shown of it."""
        self._solver = None
        inner = table.frame.to_numpy(dtype=float)
        rows = [str(row) for row in table.frame.index]
        columns = [str(column) for column in table.frame.columns]
        if TOTAL in published.values.columns:
            inner = np.hstack([inner, inner.sum(axis=1, keepdims=True)])
            columns.append(TOTAL)
        if TOTAL in published.values.index:
            inner = np.vstack([inner, inner.sum(axis=0, keepdims=True)])
            rows.append(TOTAL)
        assert rows == [str(row) for row in published.values.index]
        assert columns == [str(column) for column in published.values.columns]
        big = 10 * float(inner.max()) + 1000
        for i, row in enumerate(rows):
            for j, column in enumerate(columns):
                number = len(self.truth)
                self.index[(table.key, row, column)] = number
                truth = float(inner[i, j])
                self.truth.append(truth)
                shown, status = published.cell(row, column)
                self.status[number] = status
                self.kind[number] = table.kind
                if status == Status.SHOWN:
                    assert shown == truth, "a shown number must be the true number"
                    self.low.append(shown)
                    self.high.append(shown)
                elif status == Status.BELOW_K:
                    self.low.append(0)
                    self.high.append(self.k - 1)
                elif status == Status.WITHHELD:  # no mark: nothing but the relations
                    self.low.append(0)
                    self.high.append(big)
                elif table.kind == Kind.COUNT:
                    self.low.append(self.k)
                    self.high.append(big)
                else:
                    self.low.append(0)
                    self.high.append(big)
        full = pd.DataFrame(index=rows, columns=columns)
        inner_columns = [column for column in full.columns if column != TOTAL]
        inner_rows = [row for row in full.index if row != TOTAL]
        if TOTAL in full.columns:
            for row in full.index:
                self.equation(
                    {self.cell(table.key, row, c): 1.0 for c in inner_columns},
                    self.cell(table.key, row, TOTAL),
                )
        if TOTAL in full.index:
            for column in full.columns:
                self.equation(
                    {self.cell(table.key, r, column): 1.0 for r in inner_rows},
                    self.cell(table.key, TOTAL, column),
                )

    def equation(self, parts: dict[int, float], total: int) -> None:
        self._solver = None
        equation = dict(parts)
        equation[total] = equation.get(total, 0.0) - 1.0
        self.equations.append(equation)
        self.rhs.append(0.0)

    def same(self, first: int, second: int) -> None:
        self._solver = None
        self.equations.append({first: 1.0, second: -1.0})
        self.rhs.append(0.0)

    def adds_up(self, total: int, parts: list[int]) -> None:
        """A cell the reader knows to be the sum of other cells (a year to date)."""
        self._solver = None
        equation = dict.fromkeys(parts, 1.0)
        equation[total] = equation.get(total, 0.0) - 1.0
        self.equations.append(equation)
        self.rhs.append(0.0)

    def shown_sum(self, parts: list[int], value: float) -> None:
        """A number shown elsewhere that is the sum of these cells."""
        self._solver = None
        self.equations.append(dict.fromkeys(parts, 1.0))
        self.rhs.append(value)

    def range_of(self, cell: int) -> tuple[int, int]:
        """Smallest and largest whole value the cell can take given everything shown.

        A linear program first; where its optimum is a whole number it is also the integer
        optimum (the integer points lie inside), otherwise an integer program decides.
        """
        size = len(self.truth)
        if self._solver is None:
            self._solver = highspy._Highs()
            self._solver.setOptionValue("output_flag", False)
            self._solver.addVars(size, np.array(self.low), np.array(self.high))
            for equation, value in zip(self.equations, self.rhs, strict=True):
                self._solver.addRow(
                    value,
                    value,
                    len(equation),
                    np.array(list(equation), dtype=np.int32),
                    np.array(list(equation.values())),
                )
        solver = self._solver
        every = np.arange(size, dtype=np.int32)
        ends = []
        for sign in (1.0, -1.0):
            objective = np.zeros(size)
            objective[cell] = sign
            solver.changeColsCost(size, every, objective)
            solver.run()
            assert solver.getModelStatus() == highspy.HighsModelStatus.kOptimal
            end = sign * solver.getInfo().objective_function_value
            self._keep(np.array(solver.getSolution().col_value))
            if abs(end - round(end)) > 1e-7:
                result = milp(
                    objective,
                    constraints=LinearConstraint(self._dense(), self.rhs, self.rhs),
                    integrality=np.ones(size),
                    bounds=Bounds(np.array(self.low), np.array(self.high)),
                )
                assert result.status == 0
                end = sign * result.fun
                self._keep(result.x)
            ends.append(round(end))
        return ends[0], ends[1]

    def _keep(self, solution: np.ndarray) -> None:
        """Remember a whole-numbered solution: a concrete way the hidden cells could be."""
        if np.all(np.abs(solution - np.round(solution)) < 1e-7):
            self.witnesses.append(np.round(solution))

    def _dense(self) -> np.ndarray:
        matrix = np.zeros((len(self.equations), len(self.truth)))
        for number, equation in enumerate(self.equations):
            for variable, coefficient in equation.items():
                matrix[number, variable] += coefficient
        return matrix

    def assert_safe(self) -> int:
        """Assert every hidden cell keeps two or more values and no shown count is below k."""
        checked = 0
        for cell, status in self.status.items():
            truth = self.truth[cell]
            if status == Status.SHOWN:
                if self.kind[cell] == Kind.COUNT:
                    assert truth >= self.k, f"a count of {truth} was shown with k={self.k}"
                continue
            if self.kind[cell] == Kind.COUNT and status != Status.WITHHELD:
                # The marks are honest: "< k" only for small counts, "x" only for larger ones.
                assert (truth < self.k) == (status == Status.BELOW_K)
            checked += 1
            if any(witness[cell] != truth for witness in self.witnesses):
                continue  # another value is possible: a solution seen before shows it
            low, high = self.range_of(cell)
            assert low <= truth <= high
            assert high - low >= 1, f"hidden cell {cell} (true {truth}) is determined"
        return checked


def audit(tables: list[Table], publication: Publication, links: list[Link] = ()) -> Auditor:
    auditor = Auditor(publication.k)
    for table in tables:
        auditor.add_table(table, publication[table.key])
    for link in links:
        auditor.same(auditor.cell(*link.first), auditor.cell(*link.second))
    return auditor


# --- strategies --------------------------------------------------------------------------------

# Mostly small numbers, as in a client organisation's year, with some larger ones.
counts = st.one_of(st.integers(0, 6), st.integers(0, 6), st.integers(0, 30))
thresholds = st.integers(3, 6)


@st.composite
def count_frames(draw, rows=(1, 6), columns=(1, 5)):
    row_count = draw(st.integers(*rows))
    column_count = draw(st.integers(*columns))
    values = draw(
        st.lists(
            st.lists(counts, min_size=column_count, max_size=column_count),
            min_size=row_count,
            max_size=row_count,
        )
    )
    return pd.DataFrame(
        values,
        index=[f"r{i}" for i in range(row_count)],
        columns=[f"c{j}" for j in range(column_count)],
    )


@st.composite
def partitions_of(draw, totals: list[int], row_count: int) -> pd.DataFrame:
    """Another table with the same column totals: each total split over `row_count` rows."""
    columns = []
    for total in totals:
        cuts = sorted(
            draw(st.lists(st.integers(0, total), min_size=row_count - 1, max_size=row_count - 1))
        )
        edges = [0, *cuts, total]
        columns.append([edges[i + 1] - edges[i] for i in range(row_count)])
    return pd.DataFrame(
        np.array(columns, dtype=np.int64).T,
        index=[f"s{i}" for i in range(row_count)],
        columns=[f"c{j}" for j in range(len(totals))],
    )


# --- properties --------------------------------------------------------------------------------


@PROPERTY
@given(frame=count_frames(), k=thresholds, row_totals=st.booleans(), column_totals=st.booleans())
def test_one_table_hides_no_deducible_cell(frame, k, row_totals, column_totals):
    tables = [Table("t", frame, row_totals=row_totals, column_totals=column_totals)]
    publication = suppress(tables, k=k)
    audit(tables, publication).assert_safe()


@PROPERTY
@given(
    frame=count_frames(rows=(1, 5), columns=(1, 4)),
    other_rows=st.integers(1, 5),
    k=thresholds,
    data=st.data(),
)
def test_tables_sharing_a_margin_are_protected_together(frame, other_rows, k, data):
    """Two breakdowns of the same cases (e.g. by type and by channel, per quarter)."""
    totals = [int(value) for value in frame.sum(axis=0)]
    other = data.draw(partitions_of(totals, other_rows))
    tables = [
        Table("by_type", frame, row_totals=True, column_totals=True),
        Table("by_channel", other, row_totals=True, column_totals=True),
    ]
    columns = [*frame.columns, TOTAL] if len(frame.columns) > 1 else list(frame.columns)
    links = shared_column_totals("by_type", "by_channel", columns)
    publication = suppress(tables, k=k, links=links)
    audit(tables, publication, links).assert_safe()
    for column in columns:  # one number, one way of showing it
        assert (
            publication["by_type"].status.loc[TOTAL, column]
            == (publication["by_channel"].status.loc[TOTAL, column])
        )


@PROPERTY
@given(
    current=count_frames(rows=(1, 5), columns=(4, 4)),
    data=st.data(),
    k=thresholds,
)
def test_previous_year_beside_this_year_reveals_nothing(current, data, k):
    """Each year is suppressed on its own; the comparison shows only sums of shown cells."""
    previous = data.draw(count_frames(rows=(len(current), len(current)), columns=(4, 4)))
    previous.index = current.index
    this_year = Table("y2025", current, row_totals=True, column_totals=True)
    last_year = Table("y2024", previous, row_totals=True, column_totals=True)
    published_now = suppress([this_year], k=k)["y2025"]
    published_before = suppress([last_year], k=k)["y2024"]
    auditor = Auditor(k)
    auditor.add_table(this_year, published_now)
    auditor.add_table(last_year, published_before)
    # The comparison a reader sees: per category, the year totals, and "first half" sums.
    halves = [["c0", "c1"], ["c2", "c3"]]
    for table, published in ((this_year, published_now), (last_year, published_before)):
        for row in [*current.index, TOTAL]:
            for half in halves:
                shown = derived_sum(published, rows=[row], columns=half)
                if shown is not None:
                    parts = [auditor.cell(table.key, row, column) for column in half]
                    auditor.shown_sum(parts, shown)
    auditor.assert_safe()


@PROPERTY
@given(current=count_frames(rows=(1, 4), columns=(2, 3)), data=st.data(), k=thresholds)
def test_years_published_jointly_with_a_comparison_table(current, data, k):
    """The engine also protects a comparison table linked to two year tables in one call."""
    previous = data.draw(count_frames(rows=(len(current), len(current)), columns=(2, 3)))
    previous = previous.reindex(columns=current.columns, fill_value=0)
    previous.index = current.index
    comparison = pd.DataFrame(
        {"y2024": previous.sum(axis=1), "y2025": current.sum(axis=1)}, index=current.index
    )
    tables = [
        Table("y2025", current, row_totals=True),
        Table("y2024", previous, row_totals=True),
        Table("compare", comparison, row_totals=False, column_totals=True),
    ]
    links = [Link(("compare", row, "y2025"), ("y2025", row, TOTAL)) for row in current.index]
    links += [Link(("compare", row, "y2024"), ("y2024", row, TOTAL)) for row in current.index]
    links += [
        Link(("compare", TOTAL, "y2025"), ("y2025", TOTAL, TOTAL)),
        Link(("compare", TOTAL, "y2024"), ("y2024", TOTAL, TOTAL)),
    ]
    publication = suppress(tables, k=k, links=links)
    audit(tables, publication, links).assert_safe()


@PROPERTY
@given(
    minutes=st.lists(st.integers(0, 900), min_size=4, max_size=4),
    cases=st.lists(st.integers(0, 8), min_size=4, max_size=4),
    k=thresholds,
)
def test_minutes_behind_few_cases_are_hidden_and_protected(minutes, cases, k):
    columns = ["q1", "q2", "q3", "q4"]
    minutes = [value if count else 0 for value, count in zip(minutes, cases, strict=True)]
    frame = pd.DataFrame([minutes], index=["minutes"], columns=columns)
    guard = pd.DataFrame([cases], index=["minutes"], columns=columns)
    table = Table(
        "hours", frame, row_totals=True, column_totals=False, kind=Kind.AMOUNT, guard=guard
    )
    publication = suppress([table], k=k)
    published = publication["hours"]
    for column, count in zip(columns, cases, strict=True):
        if count < k:
            assert published.status.loc["minutes", column] == Status.HIDDEN
    audit([table], publication).assert_safe()


# --- worked examples ---------------------------------------------------------------------------


def test_a_single_small_cell_takes_the_next_smallest_with_it():
    frame = pd.DataFrame({"count": [2, 9, 12]}, index=["bullying", "conflict", "other"])
    published = suppress([Table("themes", frame)], k=5)["themes"]
    assert published.display()["count"].tolist() == ["< 5", "x", "12", "23"]
    assert published.status.loc["conflict", "count"] == Status.HIDDEN


def test_two_small_cells_that_add_up_exactly_are_not_enough():
    """2 + 2 = 4 with both below 3: both would be determined; a third cell is hidden too."""
    frame = pd.DataFrame({"count": [2, 2, 9, 12]}, index=["a", "b", "c", "d"])
    published = suppress([Table("t", frame)], k=3)["t"]
    assert published.display()["count"].tolist() == ["< 3", "< 3", "x", "12", "25"]


def test_tables_pinned_down_by_their_own_marks_are_withheld():
    """Found by hypothesis: with k = 3, rows of 1 + 1 shown as "< 3" and column totals of 3,
    every row total is forced to 2 even with everything hidden ("< 3" means at most 2, and the
    rows must add up to the columns). The tables are withheld whole instead, marks included."""
    current = pd.DataFrame({"c0": [0, 0, 0], "c1": [0, 0, 0]}, index=["r0", "r1", "r2"])
    previous = pd.DataFrame({"c0": [1, 1, 1], "c1": [1, 1, 1]}, index=["r0", "r1", "r2"])
    comparison = pd.DataFrame({"y2024": [2, 2, 2], "y2025": [0, 0, 0]}, index=current.index)
    tables = [
        Table("y2025", current, row_totals=True),
        Table("y2024", previous, row_totals=True),
        Table("compare", comparison),
    ]
    links = [Link(("compare", row, "y2025"), ("y2025", row, TOTAL)) for row in current.index]
    links += [Link(("compare", row, "y2024"), ("y2024", row, TOTAL)) for row in current.index]
    links += [
        Link(("compare", TOTAL, "y2025"), ("y2025", TOTAL, TOTAL)),
        Link(("compare", TOTAL, "y2024"), ("y2024", TOTAL, TOTAL)),
    ]
    publication = suppress(tables, k=3, links=links)
    assert (publication["y2024"].status == Status.WITHHELD).all().all()
    assert publication["y2024"].display().loc["r0", "c0"] == "*"
    audit(tables, publication, links).assert_safe()


def test_nothing_small_means_nothing_hidden():
    frame = pd.DataFrame({"q1": [5, 7], "q2": [6, 8]}, index=["a", "b"])
    published = suppress([Table("t", frame, row_totals=True)], k=5)["t"]
    assert (published.status == Status.SHOWN).all().all()
    assert published.values.loc[TOTAL, TOTAL] == 26


def test_complements_are_the_cells_that_pin_a_small_one_down():
    # Two small cells in one column: the column cannot give them away (2 + 1 = 3 either way);
    # their rows can, so one cell beside each is hidden, and nothing else.
    frame = pd.DataFrame({"q1": [12, 2, 1], "q2": [9, 8, 7]}, index=["phone", "email", "chat"])
    published = suppress([Table("t", frame, row_totals=True)], k=5)["t"]
    assert published.display().to_dict("list") == {
        "q1": ["12", "< 5", "< 5", "15"],
        "q2": ["9", "x", "x", "24"],
        "total": ["21", "10", "8", "39"],
    }
    audit(
        [Table("t", frame, row_totals=True)], suppress([Table("t", frame, row_totals=True)], k=5)
    ).assert_safe()


def test_same_input_same_pattern():
    frame = pd.DataFrame(
        {"q1": [1, 7, 0, 12], "q2": [6, 2, 9, 4], "q3": [3, 3, 3, 30]}, index=list("abcd")
    )
    first = suppress([Table("t", frame, row_totals=True)], k=5)["t"]
    second = suppress([Table("t", frame, row_totals=True)], k=5)["t"]
    assert first.status.equals(second.status)


def test_json_round_trip_keeps_only_what_is_shown():
    frame = pd.DataFrame({"count": [2, 9, 12]}, index=["a", "b", "c"])
    publication = suppress([Table("t", frame)], k=5)
    data = publication.to_json()
    assert data["tables"]["t"]["values"] == [[None], [None], [12.0], [23.0]]
    again = Publication.from_json(data)
    assert again["t"].display().equals(publication["t"].display())


def test_derived_sums_only_from_shown_cells():
    frame = pd.DataFrame({"q1": [1, 20, 7], "q2": [6, 30, 8]}, index=["a", "b", "c"])
    published = suppress([Table("t", frame, row_totals=True)], k=5)["t"]
    # The complements are the cells beside the small one, not the row totals: a's and c's
    # totals stay readable.
    assert published.display().to_dict("list") == {
        "q1": ["< 5", "20", "x", "28"],
        "q2": ["x", "30", "x", "44"],
        "total": ["7", "50", "15", "72"],
    }
    assert derived_sum(published, rows=["b"], columns=["q1", "q2"]) == 50
    assert derived_sum(published, rows=["a"], columns=["q1", "q2"]) is None


# --- bad input: clear errors -------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 0, -1, True, 4.0, "5", None, 51])
def test_k_out_of_range_is_refused(k):
    with pytest.raises(SuppressionError):
        check_k(k)
    with pytest.raises(SuppressionError):
        suppress([Table("t", pd.DataFrame({"count": [10]}, index=["a"]))], k=k)


def test_k_below_three_says_why():
    with pytest.raises(SuppressionError, match="at least 3"):
        check_k(2)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"count": ["Jan Jansen"]}, index=["a"]),  # text as a value
        pd.DataFrame({"count": [3]}, index=["Jan Jansen pestte"]),  # free text as a label
        pd.DataFrame({"count": [-1]}, index=["a"]),
        pd.DataFrame({"count": [1.5]}, index=["a"]),
        pd.DataFrame({"count": [float("nan")]}, index=["a"]),
        pd.DataFrame({"count": [4]}, index=[TOTAL]),
        pd.DataFrame({"count": [4, 5]}, index=["a", "a"]),
    ],
)
def test_only_codes_and_whole_numbers_enter(frame):
    with pytest.raises(SuppressionError):
        suppress([Table("t", frame)], k=5)


def test_links_must_join_equal_numbers():
    first = pd.DataFrame({"count": [5, 6]}, index=["a", "b"])
    second = pd.DataFrame({"count": [5, 7]}, index=["a", "b"])
    with pytest.raises(SuppressionError, match="same number"):
        suppress(
            [Table("one", first), Table("two", second)],
            k=5,
            links=shared_column_totals("one", "two", ["count"]),
        )


def test_amount_table_needs_its_guard():
    frame = pd.DataFrame({"q1": [60]}, index=["minutes"])
    with pytest.raises(SuppressionError, match="counts behind it"):
        suppress([Table("hours", frame, kind=Kind.AMOUNT)], k=5)


def _integer_program() -> str:
    import numpy as np

    from reports.suppression import highs_module

    highspy = highs_module()
    solver = highspy._Highs()
    solver.setOptionValue("output_flag", False)
    size = 30
    solver.addVars(size, np.zeros(size), np.full(size, 10.0))
    rng = np.random.default_rng(1)
    for _ in range(15):
        columns = rng.choice(size, 6, replace=False).astype(np.int32)
        solver.addRow(7.0, 7.0, 6, columns, np.ones(6))
    every = np.arange(size, dtype=np.int32)
    solver.changeColsIntegrality(size, every, np.full(size, highspy.HighsVarType.kInteger))
    solver.changeColsCost(size, every, rng.random(size))
    solver.run()
    return str(solver.getModelStatus())


def test_a_worker_forked_after_an_integer_program_can_still_solve_one():
    # A celery or bench worker forked from a process that already used HiGHS hung on its first
    # integer program (HiGHS's thread pool does not survive fork) until the pool is reset.
    import multiprocessing

    assert _integer_program().endswith("kOptimal")
    child = multiprocessing.get_context("fork").Process(target=_integer_program)
    child.start()
    child.join(30)
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung and child.exitcode == 0

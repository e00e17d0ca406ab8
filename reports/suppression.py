"""Small-number suppression: the one gate every published figure passes through.

`suppress(tables, k=...)` takes count tables (pandas frames of non-negative integers, indexed by
category codes) and returns what may be shown. It knows nothing about cases, only numbers, and
accepts no free text: labels must be codes (`LABEL_PATTERN`), values must be whole numbers.

What is published, per table: every cell, the row totals and/or column totals it asks for, and
the grand total where both exist. Then:

1. Primary suppression: a count below k (zero included) is shown as "< k".
2. Secondary (complementary) suppression: cells that are k or more are hidden ("x") until no
   hidden cell can be worked out from what is shown. The attacker we model knows every shown
   number, every total relation inside each table, every link between tables (`Link`: the same
   number shown in two places, e.g. tables of one population sharing their column totals), that
   a "< k" cell lies in 0..k-1, that an "x" cell is at least k, and that counts are integers.
   A hidden cell is safe when at least two integer values remain possible for it.

The check is exact, not a rule of thumb: per connected group of hidden cells, either a closed
form (one equation) or integer programs (`scipy.optimize.milp`) find a second solution for
every hidden cell. A cell for which none exists is exposed; the smallest shown cell in one of
its equations is hidden next (ordinary cells before totals), and the check repeats to a fixed
point. The outcome depends only on the input (not on the solver's path), so the same figures
always give the same pattern — a request cannot be repeated until a lucky pattern shows up.

Amount tables (minutes worked) carry a `guard` frame with the number of cases behind each cell;
an amount with fewer than k cases behind it is hidden and protected the same way. Work tables
(information sessions the adviser gave) concern no reporter and are only checked, not hidden.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import pandas as pd

MINIMUM_K = 3
MAXIMUM_K = 50
TOTAL = "total"
LABEL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
SECONDARY_MARK = "x"
WITHHELD_MARK = "*"
PENDING_MARK = "\u2026"


class SuppressionError(ValueError):
    """The input cannot be published: a k out of range, free text, or inconsistent tables."""


class Kind(StrEnum):
    COUNT = "count"  # cases, contacts, referrals: a number of people-related events
    AMOUNT = "amount"  # minutes worked: protected through the count of cases behind it
    WORK = "work"  # the adviser's own activities (sessions given): no person behind them


class Status(StrEnum):
    SHOWN = "shown"
    BELOW_K = "below_k"  # primary: shown as "< k"
    HIDDEN = "hidden"  # secondary: shown as "x", so that no small number can be worked out
    WITHHELD = "withheld"  # the whole table is too thin to show even its marks: "*"
    # Not released yet (a quarter that has not closed): no figure, no mark; nothing about it
    # is known, so it is never an input of the check, only a place holder in a table's shape.
    PENDING = "pending"


def check_k(k: Any) -> int:
    """Return k as an int, or raise SuppressionError when it is not a whole number 3..50."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise SuppressionError("The anonymity threshold k must be a whole number.")
    if k < MINIMUM_K:
        raise SuppressionError(
            f"The anonymity threshold k must be at least {MINIMUM_K}; {k} would let small, "
            "identifying numbers through."
        )
    if k > MAXIMUM_K:
        raise SuppressionError(f"The anonymity threshold k can be at most {MAXIMUM_K}.")
    return int(k)


@dataclass(frozen=True)
class Table:
    """One table to publish. `frame`: rows = categories, columns = e.g. quarters or ["count"]."""

    key: str
    frame: pd.DataFrame
    row_totals: bool = False
    column_totals: bool = True
    kind: Kind = Kind.COUNT
    # Amount tables: the number of cases behind each cell (same shape; may add a TOTAL row or
    # column for the totals, else the totals' guard is the sum of the cells').
    guard: pd.DataFrame | None = None


@dataclass(frozen=True)
class Link:
    """Two cells (table key, row, column) that are the same number, shown in two places."""

    first: tuple[str, str, str]
    second: tuple[str, str, str]


@dataclass(frozen=True)
class Sum:
    """A cell that is the sum of cells of other tables (a sector's count is the sum of its
    clients' counts): the reader knows this relation too."""

    total: tuple[str, str, str]
    parts: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Fixed:
    """How a cell was shown in an earlier release. A release never takes back what was shown,
    so such a cell keeps its status: a shown one stays known to the reader (it can never serve
    as a complement again), a hidden one stays hidden with the bounds its mark gave (`k` of
    the release that showed it)."""

    status: Status
    k: int


def shared_column_totals(first: str, second: str, columns: Iterable[str]) -> list[Link]:
    """Links saying two tables count the same population: their column totals are equal."""
    return [Link((first, TOTAL, str(column)), (second, TOTAL, str(column))) for column in columns]


@dataclass(frozen=True)
class PublishedTable:
    """What may leave the system: shown values (NaN where hidden) and each cell's status.

    The true values of hidden cells are not kept here, so no export can leak them.
    """

    key: str
    kind: Kind
    k: int
    values: pd.DataFrame  # float, NaN where not shown; includes the TOTAL row/column if any
    status: pd.DataFrame  # Status values, same shape

    def __post_init__(self) -> None:
        # Cell lookups by label, without pandas indexing (views read thousands of cells).
        values = self.values.to_numpy(dtype=float).tolist()
        status = self.status.to_numpy().tolist()
        states = {state: Status(state) for line in status for state in set(line)}
        columns = [str(column) for column in self.values.columns]
        cells = {
            (row_label, column): (value, states[state])
            for row_label, row_values, row_status in zip(
                map(str, self.values.index), values, status, strict=True
            )
            for column, value, state in zip(columns, row_values, row_status, strict=True)
        }
        object.__setattr__(self, "_cells", cells)

    def cell(self, row: str, column: str) -> tuple[float, Status]:
        """(value, status) of one cell; the value is NaN when the cell is hidden."""
        return self._cells[(str(row), str(column))]  # type: ignore[attr-defined]

    def has_cell(self, row: str, column: str) -> bool:
        return (str(row), str(column)) in self._cells  # type: ignore[attr-defined]

    def has_column(self, column: str) -> bool:
        return column in self.values.columns

    @property
    def rows(self) -> list[str]:
        return [str(row) for row in self.values.index]

    def display(self) -> pd.DataFrame:
        """Return the table as strings: numbers, "< k" or "x"."""
        return pd.DataFrame(
            [
                [self.cell_text(row, column) for column in self.values.columns]
                for row in self.values.index
            ],
            index=self.values.index,
            columns=self.values.columns,
        )

    def cell_text(self, row: str, column: str) -> str:
        value, status = self.cell(row, column)
        if status == Status.BELOW_K:
            return f"< {self.k}"
        if status == Status.HIDDEN:
            return SECONDARY_MARK
        if status == Status.WITHHELD:
            return WITHHELD_MARK
        if status == Status.PENDING:
            return PENDING_MARK
        return str(int(value)) if float(value).is_integer() else f"{value:.1f}"

    def shown(self, row: str, column: str) -> float | None:
        """The shown number of one cell, or None when it is hidden."""
        value, status = self.cell(row, column)
        return value if status == Status.SHOWN else None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict: rows, columns, shown values (None where hidden), statuses."""
        return {
            "key": self.key,
            "kind": str(self.kind),
            "k": self.k,
            "rows": [str(row) for row in self.values.index],
            "columns": [str(column) for column in self.values.columns],
            "values": [
                [None if math.isnan(value) else value for value in row]
                for row in self.values.to_numpy(dtype=float).tolist()
            ],
            "status": [[str(status) for status in row] for row in self.status.to_numpy().tolist()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PublishedTable:
        """Rebuild a published table from `to_json` output (a frozen report snapshot)."""
        rows, columns = data["rows"], data["columns"]
        values = pd.DataFrame(
            [[np.nan if value is None else value for value in row] for row in data["values"]],
            index=rows,
            columns=columns,
            dtype=float,
        )
        status = pd.DataFrame(
            [[Status(status) for status in row] for row in data["status"]],
            index=rows,
            columns=columns,
        )
        return cls(
            key=data["key"], kind=Kind(data["kind"]), k=int(data["k"]), values=values, status=status
        )


_STATUSES = {str(status): status for status in Status}


class Cells(Protocol):
    """What reading released cells needs (`reports.frames.run_parts`, the portfolio): a
    `PublishedTable`, or `ReleasedCells` where pandas would cost too much."""

    def cell(self, row: str, column: str) -> tuple[float, Status]: ...

    def has_cell(self, row: str, column: str) -> bool: ...

    def has_column(self, column: str) -> bool: ...

    @property
    def rows(self) -> list[str]: ...


class ReleasedCells:
    """The cells of a published table read straight from its JSON (`PublishedTable.to_json`),
    without pandas: the same lookups (`cell`, `has_cell`, `has_column`, `rows`) for a view that
    reads a few cells of thousands of tables (the portfolio sums two tables of every client's
    release; building DataFrames for them cost seconds at a thousand clients). Only the row
    and column positions are indexed; a cell is read when asked for."""

    __slots__ = ("_column_at", "_row_at", "_status", "_values", "columns", "key", "rows")

    def __init__(self, data: dict[str, Any]) -> None:
        self.key = str(data["key"])
        self.rows = [str(row) for row in data["rows"]]
        self.columns = [str(column) for column in data["columns"]]
        self._row_at = {row: index for index, row in enumerate(self.rows)}
        self._column_at = {column: index for index, column in enumerate(self.columns)}
        self._values: list[list[float | None]] = data["values"]
        self._status: list[list[str]] = data["status"]

    def cell(self, row: str, column: str) -> tuple[float, Status]:
        """(value, status) of one cell; the value is NaN when the cell is hidden."""
        at, column_at = self._row_at[str(row)], self._column_at[str(column)]
        value = self._values[at][column_at]
        return (float("nan") if value is None else float(value)), _STATUSES[
            self._status[at][column_at]
        ]

    def has_cell(self, row: str, column: str) -> bool:
        return str(row) in self._row_at and str(column) in self._column_at

    def has_column(self, column: str) -> bool:
        return column in self._column_at


@dataclass
class Publication:
    k: int
    tables: dict[str, PublishedTable] = field(default_factory=dict)

    def __getitem__(self, key: str) -> PublishedTable:
        return self.tables[key]

    def to_json(self) -> dict[str, Any]:
        return {"k": self.k, "tables": {key: table.to_json() for key, table in self.tables.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Publication:
        return cls(
            k=int(data["k"]),
            tables={key: PublishedTable.from_json(value) for key, value in data["tables"].items()},
        )


def derived_sum(
    table: PublishedTable, *, rows: Sequence[str], columns: Sequence[str]
) -> float | None:
    """Return the sum of these shown cells, or None when any of them is hidden.

    Figures for other periods or groupings are built only from shown cells, so they can never
    tell more than the published table itself.
    """
    total = 0.0
    for row in rows:
        for column in columns:
            value = table.shown(row, column)
            if value is None:
                return None
            total += value
    return total


# --- input checks ------------------------------------------------------------------------------


def _label(value: Any, *, where: str) -> str:
    if isinstance(value, bool):
        raise SuppressionError(f"{where}: labels must be category codes, not {value!r}.")
    if isinstance(value, int | np.integer):
        return str(int(value))
    if not isinstance(value, str) or not LABEL_PATTERN.match(value):
        # Labels are codes such as "bullying" or "2025-Q1"; anything else could be free text.
        raise SuppressionError(
            f"{where}: {str(value)[:20]!r} is not a category code; reports accept codes and "
            "counts only, never free text."
        )
    if value == TOTAL:
        raise SuppressionError(f"{where}: the label {TOTAL!r} is reserved for totals.")
    return value


def _whole_numbers(frame: pd.DataFrame, *, where: str) -> np.ndarray:
    if not all(pd.api.types.is_numeric_dtype(dtype) for dtype in frame.dtypes):
        raise SuppressionError(f"{where}: only numbers can be published, no text.")
    values = frame.to_numpy(dtype=float)
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values != np.round(values)):
        raise SuppressionError(f"{where}: counts must be whole numbers of at least 0.")
    return values.astype(np.int64)


@dataclass
class _Grid:
    """One table with its totals, as cells of the global system."""

    table: Table
    rows: list[str]
    columns: list[str]
    values: np.ndarray  # with totals
    guard: np.ndarray | None
    has_total_row: bool
    has_total_column: bool


def _grid(table: Table) -> _Grid:
    if not isinstance(table.frame, pd.DataFrame):
        raise SuppressionError(f"{table.key}: expected a pandas DataFrame.")
    _label(table.key, where="table")
    rows = [_label(row, where=table.key) for row in table.frame.index]
    columns = [_label(column, where=table.key) for column in table.frame.columns]
    if len(set(rows)) != len(rows) or len(set(columns)) != len(columns):
        raise SuppressionError(f"{table.key}: row and column labels must be unique.")
    if not rows or not columns:
        raise SuppressionError(f"{table.key}: a table needs at least one row and one column.")
    inner = _whole_numbers(table.frame, where=table.key)
    has_total_column = table.row_totals and len(columns) > 1
    has_total_row = table.column_totals
    values = _with_totals(inner, has_total_row, has_total_column)
    guard = None
    if table.kind == Kind.AMOUNT:
        if table.guard is None:
            raise SuppressionError(f"{table.key}: an amount table needs the counts behind it.")
        guard = _guard(table, rows, columns, has_total_row, has_total_column)
    elif table.guard is not None:
        raise SuppressionError(f"{table.key}: only amount tables take a guard.")
    out_rows = [*rows, TOTAL] if has_total_row else rows
    out_columns = [*columns, TOTAL] if has_total_column else columns
    return _Grid(table, out_rows, out_columns, values, guard, has_total_row, has_total_column)


def _with_totals(inner: np.ndarray, total_row: bool, total_column: bool) -> np.ndarray:
    values = inner
    if total_column:
        values = np.hstack([values, values.sum(axis=1, keepdims=True)])
    if total_row:
        values = np.vstack([values, values.sum(axis=0, keepdims=True)])
    return values


def _guard(
    table: Table, rows: list[str], columns: list[str], total_row: bool, total_column: bool
) -> np.ndarray:
    guard = table.guard
    assert guard is not None
    guard = guard.rename(index=str, columns=str)
    inner = guard.reindex(index=rows, columns=columns)
    if inner.isna().to_numpy().any():
        raise SuppressionError(f"{table.key}: the guard must cover every cell.")
    values = _with_totals(_whole_numbers(inner, where=table.key), total_row, total_column)
    # Explicit guards for totals (distinct cases behind a total) replace the summed ones.
    if total_column and TOTAL in guard.columns:
        values[: len(rows), -1] = guard.loc[rows, TOTAL].to_numpy(dtype=np.int64)
    if total_row and TOTAL in guard.index:
        width = len(columns) + (1 if total_column else 0)
        explicit = guard.reindex(index=[TOTAL], columns=[*columns, TOTAL][:width]).iloc[0]
        for position, value in enumerate(explicit.to_numpy(dtype=float)):
            if not math.isnan(value):
                values[-1, position] = int(value)
    return values


# --- the system --------------------------------------------------------------------------------


class _System:
    """All cells of all tables as variables (linked cells share one), with their equations."""

    def __init__(
        self,
        grids: list[_Grid],
        links: Sequence[Link],
        k: int,
        sums: Sequence[Sum] = (),
        fixed: Mapping[tuple[str, str, str], Fixed] | None = None,
    ) -> None:
        self.k = k
        self.cell_index: dict[tuple[str, str, str], int] = {}
        cell_value: list[int] = []
        cell_kind: list[Kind] = []
        cell_guard: list[int | None] = []
        cell_is_total: list[bool] = []
        for grid in grids:
            for i, row in enumerate(grid.rows):
                for j, column in enumerate(grid.columns):
                    self.cell_index[(grid.table.key, row, column)] = len(cell_value)
                    cell_value.append(int(grid.values[i, j]))
                    cell_kind.append(grid.table.kind)
                    cell_guard.append(None if grid.guard is None else int(grid.guard[i, j]))
                    cell_is_total.append(row == TOTAL or column == TOTAL)
        parent = list(range(len(cell_value)))

        def find(cell: int) -> int:
            while parent[cell] != cell:
                parent[cell] = parent[parent[cell]]
                cell = parent[cell]
            return cell

        for link in links:
            try:
                first, second = self.cell_index[link.first], self.cell_index[link.second]
            except KeyError as error:
                raise SuppressionError(
                    f"A link names a cell that does not exist: {error}."
                ) from None
            if cell_value[first] != cell_value[second] or cell_kind[first] != cell_kind[second]:
                raise SuppressionError(
                    f"Linked cells {link.first} and {link.second} do not hold the same number."
                )
            parent[find(first)] = find(second)
        roots = sorted({find(cell) for cell in range(len(cell_value))})
        variable_of_root = {root: number for number, root in enumerate(roots)}
        self.variable_of_cell = [variable_of_root[find(cell)] for cell in range(len(cell_value))]
        count = len(roots)
        self.value = np.zeros(count, dtype=np.int64)
        self.kind: list[Kind] = [Kind.COUNT] * count
        # A cell that is a total anywhere counts as a total; `shown_in` counts the places a
        # variable is printed (linked cells are one number shown in several tables).
        self.is_total = [False] * count
        self.shown_in = [0] * count
        self.order = [0] * count
        guard: list[int | None] = [None] * count
        for cell in reversed(range(len(cell_value))):  # so `order` ends at the first occurrence
            variable = self.variable_of_cell[cell]
            self.value[variable] = cell_value[cell]
            self.kind[variable] = cell_kind[cell]
            self.is_total[variable] = self.is_total[variable] or cell_is_total[cell]
            self.shown_in[variable] += 1
            self.order[variable] = cell
            this_guard = cell_guard[cell]
            if this_guard is not None:
                known = guard[variable]
                guard[variable] = this_guard if known is None else min(known, this_guard)
        self.primary = {
            variable
            for variable in range(count)
            if (self.kind[variable] == Kind.COUNT and self.value[variable] < k)
            or (self.kind[variable] == Kind.AMOUNT and (guard[variable] or 0) < k)
        }
        # A bound no cell can reach; capping the unknown upper bounds there only shrinks what the
        # attacker may consider, so a second solution found under the cap is a real one.
        self.cap = int(10 * (int(self.value.max()) if count else 0) + 10 * k + 100)
        self.withheld: set[int] = set()
        self.fixed_shown: set[int] = set()
        self.fixed_bounds: dict[int, tuple[int, int]] = {}
        self._fix(fixed or {})
        self.variables_of_table: dict[str, set[int]] = defaultdict(set)
        self.tables_of_variable: dict[int, set[str]] = defaultdict(set)
        for (key, _row, _column), cell in self.cell_index.items():
            variable = self.variable_of_cell[cell]
            self.variables_of_table[key].add(variable)
            self.tables_of_variable[variable].add(key)
        self.equations: list[dict[int, int]] = []
        for grid in grids:
            self._add_equations(grid)
        for relation in sums:
            try:
                total = self._variable(*relation.total)
                parts = [self._variable(*part) for part in relation.parts]
            except KeyError as error:
                raise SuppressionError(
                    f"A sum names a cell that does not exist: {error}."
                ) from None
            if int(self.value[parts].sum()) != int(self.value[total]):
                raise SuppressionError(f"The parts of {relation.total} do not add up to it.")
            self._add(parts, total)
        self.equations_of: dict[int, list[int]] = defaultdict(list)
        for number, equation in enumerate(self.equations):
            for variable in equation:
                self.equations_of[variable].append(number)

    def _fix(self, fixed: Mapping[tuple[str, str, str], Fixed]) -> None:
        """Cells shown in earlier releases keep how they were shown (see `Fixed`)."""
        marks: dict[int, Fixed] = {}
        for cell, mark in fixed.items():
            if cell not in self.cell_index:
                raise SuppressionError(f"A fixed cell does not exist: {cell}.")
            variable = self.variable_of_cell[self.cell_index[cell]]
            if marks.get(variable, mark) != mark:
                raise SuppressionError(f"{cell} was shown in two different ways before.")
            marks[variable] = mark
        for variable, mark in marks.items():
            value = int(self.value[variable])
            counted = self.kind[variable] == Kind.COUNT
            if mark.status == Status.SHOWN:
                self.fixed_shown.add(variable)
                self.primary.discard(variable)
            elif mark.status == Status.BELOW_K:
                if value >= mark.k:
                    raise SuppressionError("A cell shown as below k before now holds k or more.")
                self.fixed_bounds[variable] = (0, mark.k - 1)
                self.primary.add(variable)
            elif mark.status == Status.HIDDEN:
                if counted and value < mark.k:
                    raise SuppressionError("A cell hidden as at least k before now holds less.")
                self.fixed_bounds[variable] = (mark.k, self.cap) if counted else (0, self.cap)
                self.primary.discard(variable)
            elif mark.status == Status.WITHHELD:
                self.fixed_bounds[variable] = (0, self.cap)
                self.primary.discard(variable)
                self.withheld.add(variable)
            else:
                raise SuppressionError(f"{mark.status} is not how a released cell is shown.")

    @property
    def fixed(self) -> set[int]:
        return self.fixed_shown | set(self.fixed_bounds)

    def _variable(self, key: str, row: str, column: str) -> int:
        return self.variable_of_cell[self.cell_index[(key, row, column)]]

    def _add(self, parts: list[int], total: int) -> None:
        equation: dict[int, int] = defaultdict(int)
        for part in parts:
            equation[part] += 1
        equation[total] -= 1
        cleaned = {
            variable: coefficient for variable, coefficient in equation.items() if coefficient
        }
        if cleaned:
            self.equations.append(cleaned)

    def _add_equations(self, grid: _Grid) -> None:
        key = grid.table.key
        inner_rows = [row for row in grid.rows if row != TOTAL]
        inner_columns = [column for column in grid.columns if column != TOTAL]
        if grid.has_total_column:
            for row in grid.rows:
                parts = [self._variable(key, row, column) for column in inner_columns]
                self._add(parts, self._variable(key, row, TOTAL))
        if grid.has_total_row:
            for column in grid.columns:
                parts = [self._variable(key, row, column) for row in inner_rows]
                self._add(parts, self._variable(key, TOTAL, column))

    def bounds(self, variable: int) -> tuple[int, int]:
        """What the attacker knows of a hidden cell from how it is shown."""
        if variable in self.fixed_bounds:
            return self.fixed_bounds[variable]
        if variable in self.withheld:
            return (0, self.cap)  # no mark at all
        if self.kind[variable] == Kind.COUNT:
            return (0, self.k - 1) if variable in self.primary else (self.k, self.cap)
        return (0, self.cap)


# --- the check ---------------------------------------------------------------------------------


def _components(system: _System, hidden: set[int]) -> list[tuple[list[int], list[int]]]:
    """Groups of hidden cells tied together by equations: (variables, equation numbers)."""
    seen: set[int] = set()
    groups = []
    for start in sorted(hidden):
        if start in seen:
            continue
        variables, equations, stack = [], set(), [start]
        seen.add(start)
        while stack:
            variable = stack.pop()
            variables.append(variable)
            for number in system.equations_of.get(variable, []):
                if number in equations:
                    continue
                equations.add(number)
                for other in system.equations[number]:
                    if other in hidden and other not in seen:
                        seen.add(other)
                        stack.append(other)
        groups.append((sorted(variables), sorted(equations)))
    return groups


def _reduced(
    system: _System, hidden: set[int], numbers: list[int]
) -> list[tuple[dict[int, int], int]]:
    """Each equation over hidden cells only: (coefficients, right-hand side from shown cells)."""
    reduced = []
    for number in numbers:
        equation = system.equations[number]
        rhs = -sum(
            coef * int(system.value[var]) for var, coef in equation.items() if var not in hidden
        )
        reduced.append(({var: coef for var, coef in equation.items() if var in hidden}, rhs))
    return reduced


def _exposed_one_equation(
    system: _System, variables: list[int], equation: dict[int, int], rhs: int
) -> set[int]:
    """Exact for one equation with unit coefficients over integer intervals."""
    exposed = set()
    for variable in variables:
        low, high = system.bounds(variable)
        rest_low = rest_high = 0
        for other, coefficient in equation.items():
            if other == variable:
                continue
            other_low, other_high = system.bounds(other)
            rest_low += min(coefficient * other_low, coefficient * other_high)
            rest_high += max(coefficient * other_low, coefficient * other_high)
        coefficient = equation[variable]
        ends = sorted([(rhs - rest_low) * coefficient, (rhs - rest_high) * coefficient])
        if min(high, ends[1]) - max(low, ends[0]) < 1:
            exposed.add(variable)
    return exposed


@functools.cache
def highs_module() -> Any:
    """The HiGHS module, made safe to use in a forked child.

    HiGHS keeps a process-wide pool of worker threads; a child forked after the parent solved
    an integer program inherits the pool's state without its threads and spins forever on its
    first one (seen as a hung batch worker). Resetting the pool in every forked child fixes it.
    """
    import highspy

    os.register_at_fork(after_in_child=lambda: highspy.Highs.resetGlobalScheduler(True))
    return highspy


def _exposed_by_programs(
    system: _System,
    variables: list[int],
    reduced: list[tuple[dict[int, int], int]],
    certified: set[int],
) -> set[int]:
    """Cells with no second integer solution; adds every cell shown to have one to `certified`.

    Linear programs first (HiGHS simplex, warm-started between objectives, gives vertex
    solutions, integral for the table shapes used here); an integer program only where the
    linear one finds a fractional solution.
    """
    highspy = highs_module()
    size = len(variables)
    position = {variable: number for number, variable in enumerate(variables)}
    lows, highs = zip(*(system.bounds(variable) for variable in variables), strict=True)
    low_array, high_array = np.array(lows, dtype=float), np.array(highs, dtype=float)
    solver = highspy._Highs()
    solver.setOptionValue("output_flag", False)
    solver.addVars(size, low_array, high_array)
    for equation, value in reduced:
        indices = np.array([position[variable] for variable in equation], dtype=np.int32)
        coefficients = np.array(list(equation.values()), dtype=float)
        solver.addRow(float(value), float(value), len(indices), indices, coefficients)
    every = np.arange(size, dtype=np.int32)
    truth = system.value[variables]
    moved = np.array([variable in certified for variable in variables], dtype=bool)
    optimal = highspy.HighsModelStatus.kOptimal

    integral_now = [False]

    def solve(objective: np.ndarray, *, integral: bool) -> np.ndarray | None:
        if integral != integral_now[0]:
            kind = highspy.HighsVarType.kInteger if integral else highspy.HighsVarType.kContinuous
            solver.changeColsIntegrality(size, every, np.full(size, kind))
            integral_now[0] = integral
        solver.changeColsCost(size, every, objective)
        solver.run()
        status = solver.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            # The true values satisfy everything, so this cannot happen with consistent input.
            raise RuntimeError("Suppression check: the published figures are inconsistent.")
        if status != optimal:
            return None
        return np.array(solver.getSolution().col_value)

    def certify(objective: np.ndarray) -> None:
        solution = solve(objective, integral=False)
        if solution is None:
            return
        if np.any(np.abs(solution - np.round(solution)) > 1e-7):
            solution = solve(objective, integral=True)
            if solution is None:
                return
        moved[np.round(solution).astype(np.int64) != truth] = True

    # Push each cell away from the bound it sits on (a cell at a bound can move one way only):
    # first many unproven cells at once, then one cell at a time.
    upward = np.where(truth <= low_array, 1.0, np.where(truth >= high_array, -1.0, 0.0))
    free = upward == 0
    upward[free] = np.where(np.arange(np.count_nonzero(free)) % 2 == 0, 1.0, -1.0)
    for _attempt in range(3):
        open_cells = np.flatnonzero(~moved)
        if len(open_cells) < 3:
            break
        before = len(open_cells)
        for flip in (1.0, -1.0):
            objective = np.zeros(len(variables))
            objective[open_cells] = -upward[open_cells] * flip
            certify(objective)
        if np.count_nonzero(~moved) == before:
            break
    for number in range(len(variables)):
        directions = [upward[number]]
        if low_array[number] < truth[number] < high_array[number]:
            directions.append(-upward[number])
        for direction in directions:
            if moved[number]:
                break
            objective = np.zeros(len(variables))
            objective[number] = -direction
            certify(objective)
    certified.update(variables[number] for number in np.flatnonzero(moved))
    return {variables[number] for number in np.flatnonzero(~moved)}


class _Checker:
    """Finds exposed hidden cells. Hiding more only widens what is possible, so a cell once
    shown to have a second solution keeps it: that knowledge carries over between rounds."""

    def __init__(self, system: _System) -> None:
        self.system = system
        self.certified: set[int] = set()

    def exposed(self, hidden: set[int]) -> set[int]:
        found: set[int] = set()
        for variables, numbers in _components(self.system, hidden):
            if all(variable in self.certified for variable in variables):
                continue
            found |= self._check(variables, _reduced(self.system, hidden, numbers))
        return found

    def _check(self, variables: list[int], reduced: list[tuple[dict[int, int], int]]) -> set[int]:
        if not reduced:
            # No equation touches these cells: only how they are shown says anything about them.
            exposed = {var for var in variables if _width(self.system.bounds(var)) < 1}
        elif len(reduced) == 1 and all(abs(coef) == 1 for coef in reduced[0][0].values()):
            exposed = _exposed_one_equation(self.system, variables, *reduced[0])
        else:
            return _exposed_by_programs(self.system, variables, reduced, self.certified)
        self.certified.update(set(variables) - exposed)
        return exposed


def _width(bounds: tuple[int, int]) -> int:
    return bounds[1] - bounds[0]


def _nearest_candidates(system: _System, hidden: set[int], exposed: int) -> set[int]:
    """Shown cells in the nearest equations of an exposed cell that have any: first those of its
    own equations in which it is the only hidden cell (they are what pins it down: a row whose
    other cells and total are shown), then its other equations, then those reached through
    other hidden cells."""
    pinning = {
        variable
        for number in system.equations_of.get(exposed, [])
        if not any(other in hidden for other in system.equations[number] if other != exposed)
        for variable in system.equations[number]
        if variable != exposed and variable not in system.fixed_shown
    }
    if pinning:
        return pinning
    seen_equations: set[int] = set()
    seen_variables = {exposed}
    frontier = [exposed]
    while frontier:
        numbers = {
            number
            for variable in frontier
            for number in system.equations_of.get(variable, [])
            if number not in seen_equations
        }
        seen_equations |= numbers
        candidates = {
            variable
            for number in numbers
            for variable in system.equations[number]
            if variable not in hidden and variable not in system.fixed_shown
        }
        if candidates:
            return candidates
        frontier = [
            variable
            for number in numbers
            for variable in system.equations[number]
            if variable in hidden and variable not in seen_variables
        ]
        seen_variables |= set(frontier)
    return set()


def _hiding_cost(system: _System, counts: dict[int, int], var: int) -> tuple[int, ...]:
    return (
        system.shown_in[var],
        -counts[var],
        system.is_total[var],
        int(system.value[var]),
        system.order[var],
    )


def _cells_to_hide(
    system: _System, hidden: set[int], exposed: set[int]
) -> tuple[set[int], set[int]]:
    """Choose shown cells to hide for the exposed ones: greedily, numbers printed in one table
    before those printed in several (a linked number hidden in one table must go in all of them,
    which exposes their cells in turn and cascades), then the cell nearest to the most exposed
    cells (one total often frees a whole row), ordinary cells before totals, the smallest.
    Returns (cells to hide, exposed cells with no candidate at all)."""
    options = {cell: _nearest_candidates(system, hidden, cell) for cell in exposed}
    stuck = {cell for cell, candidates in options.items() if not candidates}
    open_cells = {cell for cell in exposed if options[cell]}
    chosen: set[int] = set()
    while open_cells:
        counts: dict[int, int] = defaultdict(int)
        for cell in open_cells:
            for candidate in options[cell]:
                counts[candidate] += 1
        best = min(counts, key=lambda var: _hiding_cost(system, counts, var))
        chosen.add(best)
        open_cells = {cell for cell in open_cells if best not in options[cell]}
    return chosen, stuck


def _withhold(system: _System, variables: Iterable[int]) -> set[int]:
    """Withhold every table touching these cells, and every table sharing a cell with those."""
    tables: set[str] = set()
    pending = set(variables)
    while pending:
        variable = pending.pop()
        for key in system.tables_of_variable[variable] - tables:
            tables.add(key)
            pending |= system.variables_of_table[key]
    # What an earlier release showed is known; it cannot be withheld any more.
    return {
        variable for key in tables for variable in system.variables_of_table[key]
    } - system.fixed


def _protect(system: _System) -> set[int]:
    hidden = set(system.primary) | set(system.fixed_bounds)
    checker = _Checker(system)
    while True:
        exposed = checker.exposed(hidden)
        if not exposed:
            return hidden
        additions, stuck = _cells_to_hide(system, hidden, exposed)
        newly_withheld: set[int] = set()
        if stuck:
            # Everything around these cells is hidden and they are still pinned down by the
            # marks themselves ("< k" is at most k - 1, "x" at least k): withhold their tables
            # whole, marks included. Less shown only widens what is possible.
            group = set()
            for variables, _numbers in _components(system, hidden):
                if stuck & set(variables):
                    group |= set(variables)
            newly_withheld = _withhold(system, group) - system.withheld
            system.withheld |= newly_withheld
            additions |= newly_withheld
        if not additions - hidden and not newly_withheld:
            # Fail closed: never publish a pattern the check does not pass.
            raise RuntimeError("Suppression could not protect a cell; nothing is published.")
        hidden |= additions


# --- the entry point ---------------------------------------------------------------------------


def suppress(
    tables: Sequence[Table],
    *,
    k: Any,
    links: Sequence[Link] = (),
    sums: Sequence[Sum] = (),
    fixed: Mapping[tuple[str, str, str], Fixed] | None = None,
) -> Publication:
    """Return what may be shown of `tables`: "< k" for small counts, "x" where they'd be deducible.

    Tables passed together are protected together (their links, sums and totals are known to
    the reader); pass together every table that one page, export or report shows side by side.
    `fixed` cells were shown by an earlier release (`reports.releases`): they keep their status
    and the check covers them together with the new cells. Raises SuppressionError for bad
    input and changes nothing.
    """
    k = check_k(k)
    keys = [table.key for table in tables]
    if len(set(keys)) != len(keys):
        raise SuppressionError("Each table needs its own key.")
    grids = [_grid(table) for table in tables]
    system = _System(grids, links, k, sums, fixed)
    hidden = _protect(system)
    publication = Publication(k=k)
    for grid in grids:
        key = grid.table.key
        variables = np.array(
            [[system._variable(key, row, column) for column in grid.columns] for row in grid.rows]
        )
        is_hidden = np.isin(variables, list(hidden))
        is_primary = np.isin(variables, list(system.primary))
        values = np.where(is_hidden, np.nan, grid.values.astype(float))
        below_k = (
            is_hidden & is_primary if grid.table.kind == Kind.COUNT else np.zeros_like(is_hidden)
        )
        is_withheld = np.isin(variables, list(system.withheld))
        status = np.where(
            is_withheld,
            Status.WITHHELD,
            np.where(below_k, Status.BELOW_K, np.where(is_hidden, Status.HIDDEN, Status.SHOWN)),
        ).astype(object)
        publication.tables[key] = PublishedTable(
            key=key,
            kind=grid.table.kind,
            k=k,
            values=pd.DataFrame(values, index=grid.rows, columns=grid.columns),
            status=pd.DataFrame(status, index=grid.rows, columns=grid.columns),
        )
    return publication

"""Tables that fit the terminal without cutting or splitting a number, printed fast.

rich shrinks a table wider than the terminal by cutting cells with "…" (or, with no_wrap,
without a mark), or by folding them anywhere: ``28,589,12`` over ``8`` reads as a wrong number.
:func:`fit_tables` lays each table out itself instead: *whole* columns (numbers, kind names;
:mod:`sepcalc.report.fitting`) wrap only between words, text columns (names, paths) fold, and
when that cannot fit, the columns a report marks as droppable are left out (the table says
which in its caption). A table that fits is fixed at its widest cells and printed by
:class:`FastTable`, which writes what rich would, without rich's per-cell machinery.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    from rich.table import Table

MIN_TEXT_WIDTH = 6
"""Narrowest a text column is folded to when nothing else fits."""
TEXT_WIDTH = 14
"""Narrowest a text column (a layer's name) is folded to before columns are left out."""


def fit_tables(renderable: object, console: Console, width: int) -> None:
    """Make every table in ``renderable`` (and in its groups and cells) fit ``width`` without
    cutting a cell, and without splitting a word of a whole column where the table can fit
    otherwise (leaving droppable columns out if need be)."""
    _fit(renderable, console, width, nested=False)


def _measure(console: Console, options: ConsoleOptions, cell: RenderableType) -> Measurement:
    """``Measurement.get``, without rendering a plain string or text to measure it."""
    if type(cell) is str and "[" not in cell and ":" not in cell:
        plain = cell
    elif type(cell) is Text:
        plain = cell.plain
    else:
        return Measurement.get(console, options, cell)
    if "\n" in plain or "\r" in plain or not plain.isprintable():
        return Measurement.get(console, options, cell)
    widest = min(cell_len(plain), options.max_width)
    words = plain.split()
    return Measurement(min(max((cell_len(w) for w in words), default=widest), widest), widest)


def _fit(renderable: object, console: Console, width: int, *, nested: bool) -> None:
    """:func:`fit_tables`; ``nested``: in a table's cell."""
    from rich.table import Table  # not at startup: analyze -f json prints no table

    if isinstance(renderable, Group):
        for child in renderable.renderables:
            _fit(child, console, width, nested=nested)
    if not isinstance(renderable, Table):
        return
    for column in renderable.columns:
        for cell in column.cells:
            _fit(cell, console, width, nested=True)
    options = console.options.update_width(max(width, 10**4))

    def measured(cells: Iterable[RenderableType]) -> list[Measurement]:
        return [_measure(console, options, c) for c in cells]

    table = renderable
    boxed = table.box is not None
    natural = [
        max((m.maximum for m in measured([c.header, *c.cells])), default=0) for c in table.columns
    ]
    if sum(natural) + sum(_pads(table)) <= _room(table, width):
        if not nested:  # a table in a cell may still have to fold, with the table around it
            _measured(table, natural)
        return
    if not boxed and table.padding == (0, 1, 0, 1):
        table.padding = (0, 1, 0, 0)  # one space between columns, not two
    if not _lay_out(table, console, options, width):
        _fold_all(table, console, options, width)


def _room(table: Table, width: int) -> int:
    """The width left for the columns' cells and padding in ``width``."""
    boxed = table.box is not None
    n = len(table.columns)
    return width - (n - 1 if boxed else 0) - (2 if boxed and table.show_edge else 0)


def _pads(table: Table) -> list[int]:
    _, right, _, left = table.padding
    widths = [left + right for _ in table.columns]
    if widths and not table.pad_edge:
        widths[0] -= left
        widths[-1] -= right
    return widths


def _lay_out(table: Table, console: Console, options: ConsoleOptions, width: int) -> bool:
    """Give every column of ``table`` a width so that the table fits ``width``: whole columns
    at least their longest word (and their header's), text columns at least
    :data:`TEXT_WIDTH`, leaving out droppable columns (highest ``drop`` first) while it does
    not fit; then the same with text columns 4 narrower; then text columns at least
    :data:`MIN_TEXT_WIDTH` and headers folded. False, with ``table`` untouched, when no such
    layout fits."""
    from sepcalc.report.fitting import drop_order, is_whole, label

    columns = list(table.columns)
    droppable = sorted((c for c in columns if drop_order(c)), key=lambda c: -drop_order(c))
    size: dict[int, tuple[int, int, int]] = {}  # id -> (natural, longest word, header word)
    for c in columns:
        cells = [_measure(console, options, x) for x in c.cells]
        header = _measure(console, options, c.header)
        natural = max([header.maximum, *(m.maximum for m in cells)])
        size[id(c)] = (natural, max((m.minimum for m in cells), default=0), header.minimum)
    tiers = ((TEXT_WIDTH, True), (TEXT_WIDTH - 4, True), (MIN_TEXT_WIDTH, False))
    for text_min, header_whole in tiers:
        for n in range(len(droppable) + 1):
            kept = [c for c in columns if c not in droppable[:n]]
            table.columns = kept
            lows, highs = [], []
            for c in kept:
                natural, word, head = size[id(c)]
                if is_whole(c):
                    low = max(word, head if header_whole else 0)
                else:
                    low = max(min(text_min, natural), head if header_whole else 0)
                lows.append(min(low, natural))
                highs.append(natural)
            pads = _pads(table)
            room = _room(table, width) - sum(pads)
            widths = _share(lows, highs, room, whole=[is_whole(c) for c in kept])
            if widths is None:
                continue
            for i, (c, w) in enumerate(zip(kept, widths, strict=True)):
                c._index = i
                c.width = w
                c.no_wrap = w >= highs[i]
                c.overflow = "fold"
            if n:
                left_out = ", ".join(label(c) for c in droppable[:n])
                table.caption = f"(left out to fit {width} columns: {left_out})"
                table.caption_justify = "left"
                table.caption_style = "dim"
            return True
    table.columns = columns
    for i, c in enumerate(columns):
        c._index = i
    return False


def _share(lows: list[int], highs: list[int], room: int, *, whole: list[bool]) -> list[int] | None:
    """Widths between ``lows`` and ``highs`` that add up to at most ``room``: whole columns
    grown to their natural width first (the narrowest need first, so that as many as can keep
    each cell on one line), then the others evened out; None when the lows do not fit."""
    widths = list(lows)
    spare = room - sum(widths)
    if spare < 0:
        return None
    for i in sorted((i for i in range(len(widths)) if whole[i]), key=lambda i: highs[i] - lows[i]):
        grow = min(highs[i] - widths[i], spare)
        widths[i] += grow
        spare -= grow
    while spare > 0:
        short = [i for i in range(len(widths)) if widths[i] < highs[i]]
        if not short:
            break
        i = min(short, key=lambda i: (widths[i], i))
        widths[i] += 1
        spare -= 1
    return widths


def _fold_all(table: Table, console: Console, options: ConsoleOptions, width: int) -> None:
    """The last resort, for a table too wide even with its numbers wrapped between words and
    its droppable columns left out: every column folds, so every character is printed (when
    the numbers alone fit, only the text columns fold)."""
    columns = table.columns
    for column in columns:
        column.overflow = "fold"
        column.no_wrap = False
    pad = _pads(table)
    natural = [
        max((_measure(console, options, c).maximum for c in [col.header, *col.cells]), default=0)
        + p
        for col, p in zip(columns, pad, strict=True)
    ]
    numbers = {i for i, c in enumerate(columns) if c.justify == "right"}
    fixed = {
        i: max(
            max((_measure(console, options, c).maximum for c in columns[i].cells), default=0),
            *(len(w) for w in str(columns[i].header).split()),
            1,
        )
        for i in numbers
    }
    text_min = sum(
        min(natural[i], MIN_TEXT_WIDTH + pad[i]) for i in range(len(columns)) if i not in numbers
    )
    if sum(fixed[i] + pad[i] for i in numbers) + text_min <= _room(table, width):
        for i, w in fixed.items():
            columns[i].width = w  # rich shrinks only the other columns


def _measured(table: Any, natural: list[int]) -> None:
    """Fix each column of ``table``, which fits, at its widest cell (``natural``): the width
    rich would give it, without rich measuring every cell again, and each cell on one line
    without rich looking for where to wrap it.

    Only where rich would measure the cells that were measured: a header shown, no footer, no
    bounds or fixed widths of its own, nothing to expand into.
    """
    if table.expand or table.width is not None or not table.show_header or table.show_footer:
        return
    for column, width in zip(table.columns, natural, strict=True):
        if column.width is None and column.min_width is None and column.max_width is None:
            column.width = width
            column.no_wrap = True


class Fitted:
    """``renderable`` with its tables fitted to the width it is rendered at, the long ones
    printed by :class:`FastTable`, and its prose (the texts of a group) wrapped at
    ``prose_width`` (none: at the width)."""

    def __init__(self, renderable: RenderableType, prose_width: int | None = None) -> None:
        self.renderable = renderable
        self.prose_width = prose_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        fit_tables(self.renderable, console, options.max_width)
        yield _fast(self.renderable, self.prose_width)


def wrap_prose(text: Text, width: int) -> Text:
    """``text`` with its lines broken between words to at most ``width`` columns; a word wider
    than that (a count of hundreds of digits) is kept whole on a line of its own; text laid
    out by hand (:class:`sepcalc.report.fitting.Preformatted`) is left as it is."""
    from rich._wrap import divide_line

    from sepcalc.report.fitting import Preformatted

    if isinstance(text, Preformatted):
        return text

    lines = []
    for line in text.split("\n", allow_blank=True):
        for part in line.divide(divide_line(line.plain, width, fold=False)):
            part.rstrip_end(width)
            part.rstrip()
            lines.append(part)
    wrapped = Text("\n").join(lines)
    wrapped.end, wrapped.justify, wrapped.overflow = text.end, text.justify, text.overflow
    wrapped.no_wrap = text.no_wrap
    return wrapped


FAST_ROWS = 50
"""Tables of more rows than this are printed by :class:`FastTable` where it can."""


def _fast(renderable: RenderableType, prose_width: int | None) -> RenderableType:
    from rich.table import Table

    if isinstance(renderable, Group):
        parts = (_fast(r, prose_width) for r in renderable.renderables)
        return Group(*parts, fit=renderable.fit)
    if prose_width is not None and isinstance(renderable, Text):
        return wrap_prose(renderable, prose_width)
    if isinstance(renderable, Table) and renderable.row_count > FAST_ROWS:
        return FastTable(renderable)
    return renderable


class FastTable:
    """A table printed as rich prints it, segment for segment, without rich's per-cell
    rendering (padding, measuring, line splitting and cropping each cell: two thirds of
    printing a 5,000-layer report).

    Only a table of the shape :func:`fit_tables` leaves a table that fits in: no box, every
    column at a fixed width on one line, each cell one line of plain or styled text no wider
    than its column, horizontal padding only, no footer; any other table (or cell) is printed
    by rich itself. The title and the header row are rich's own, from a copy of the table
    without its rows.
    """

    def __init__(self, table: Table) -> None:
        self.table = table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self.table
        rows = self._rows(console, options)
        if rows is None:
            yield table
            return
        head = copy.copy(table)
        head.columns = [copy.copy(c) for c in table.columns]
        for c in head.columns:
            c._cells = []
        head.rows = []
        head.caption = None
        yield head
        yield from rows
        if table.caption:
            caption = table.caption
            text = (
                console.render_str(
                    caption,
                    style=Style.pick_first(table.caption_style, "table.caption"),
                    highlight=False,
                )
                if isinstance(caption, str)
                else caption
            )
            width = sum(self._widths(console, options) or []) + table._extra_width
            yield from console.render(
                text,
                options.update(
                    width=width,
                    highlight=table.highlight,
                    height=None,
                    justify=table.caption_justify,
                ),
            )

    def _widths(self, console: Console, options: ConsoleOptions) -> list[int] | None:
        """The widths rich gives the columns (padding included), when each is the column's
        fixed width and its padding."""
        table = self.table
        max_width = options.max_width if table.width is None else table.width
        try:
            widths: list[int] = table._calculate_column_widths(
                console, options.update_width(max_width - table._extra_width)
            )
        except AttributeError:  # another rich: it prints the table itself
            return None
        pads = _pads(table)
        fixed = [
            None if c.width is None else c.width + p
            for c, p in zip(table.columns, pads, strict=True)
        ]
        return widths if widths == fixed else None

    def _rows(self, console: Console, options: ConsoleOptions) -> list[Segment] | None:
        table = self.table
        plain_shape = (
            table.box is None
            and not table.show_footer
            and not table.expand
            and not table.collapse_padding
            and not console.get_style(table.style or "")
            and table.padding[0] == table.padding[2] == 0
            and all(c.no_wrap and c.justify in ("left", "right") for c in table.columns)
        )
        widths = self._widths(console, options) if plain_shape else None
        if widths is None:
            return None
        pads = _pads(table)
        _, right, _, left = table.padding
        lefts = [0 if i == 0 and not table.pad_edge else left for i in range(len(widths))]
        rights = [
            0 if i == len(widths) - 1 and not table.pad_edge else right for i in range(len(widths))
        ]
        get_style = console.get_style
        column_styles = [get_style(c.style or "") for c in table.columns]
        texts = [list(self._texts(console, c, options.markup)) for c in table.columns]
        if any(t is None for column in texts for t in column):
            return None
        line = Segment.line()
        out: list[Segment] = []
        append = out.append
        right_justified = [c.justify == "right" for c in table.columns]
        for index, row in enumerate(zip(*texts, strict=True)):
            row_style = get_style(table.get_row_style(console, index))
            for i, text in enumerate(row):
                width = widths[i] - pads[i]
                style = column_styles[i] + row_style
                if lefts[i]:
                    append(Segment(" " * lefts[i], style))
                if isinstance(text, str):  # as Text renders a line without styles of its own
                    if cell_len(text) > width:
                        return None
                    if right_justified[i]:
                        text = text.rstrip()
                        append(Segment(" " * (width - cell_len(text)) + text, style))
                    else:
                        append(Segment(text + " " * (width - cell_len(text)), style))
                else:
                    assert text is not None
                    if text.cell_len > width:
                        return None
                    justified = text.copy()
                    if right_justified[i]:
                        justified.rstrip()
                        justified.pad_left(width - justified.cell_len)
                    else:
                        justified.truncate(width, overflow="fold", pad=True)
                    for segment in Text("\n").join([justified]).render(console):
                        append(Segment(segment.text, style + segment.style))
                if rights[i]:
                    append(Segment(" " * rights[i], style))
            append(line)
        return out

    @staticmethod
    def _texts(console: Console, column: Any, markup: bool | None) -> Iterator[str | Text | None]:
        """Each cell of ``column`` as the text rich renders (a str where it has no style of
        its own), or None for a cell that is not one line of text (or that sets its own
        justification or wrapping)."""
        for cell in column.cells:
            if type(cell) is str and not column.highlight and not _MARKUP.intersection(cell):
                yield None if "\n" in cell or "\t" in cell else cell
                continue
            if isinstance(cell, str):
                text = console.render_str(cell, highlight=column.highlight, markup=markup)
            elif isinstance(cell, Text):
                text = cell
            else:
                yield None
                continue
            plain = text.plain
            if (
                "\n" in plain
                or "\t" in plain
                or text.justify is not None
                or text.overflow is not None
                or text.no_wrap is not None
            ):
                yield None
            elif not text.spans and not console.get_style(text.style):
                yield plain
            else:
                yield text


_MARKUP = frozenset("[:")
"""Characters a string needs for rich to read markup or an emoji code in it."""

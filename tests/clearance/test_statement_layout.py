"""The statement's table of review steps never breaks badly across pages.

The text above the table (here, a scope of more and more lines) is grown until
the table crosses a page end; at every length the table's heading stays with
its first row, and no page holds a single row of it.
"""

import io
from collections import Counter

from pypdf import PdfReader

from clearance.pdf import render_pdf, review_dates

HEADING = "The review, step by step"


def pages_of(pdf: bytes) -> list[str]:
    """Each page's text, whitespace collapsed so a wrapped row reads as one line."""
    return [
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(pdf)).pages
    ]


def layout(statement, lines: int) -> tuple[int, list[int]]:
    """Render with a scope of this many lines; return the heading's page and each row's."""
    statement.scope = "\n".join(
        f"Scope line {n}: the hosted assistant, region {n}." for n in range(lines)
    )
    pages = pages_of(render_pdf(statement))
    rows = [f"{row['status']} ({row['action'].lower()})" for row in review_dates(statement)]
    heading = next(i for i, text in enumerate(pages) if HEADING in text)
    # A row is found on the first page from the heading on that shows it.
    found = [next(i for i in range(heading, len(pages)) if row in pages[i]) for row in rows]
    return heading, found


def test_the_steps_table_keeps_with_its_heading_and_leaves_no_row_alone(
    case_at, statement_settings
):
    statement = case_at("cleared").clearance_statements.get()
    assert len(review_dates(statement)) >= 5
    seen_pages = set()
    previous = None
    for lines in range(0, 160, 4):
        heading, rows = layout(statement, lines)
        seen_pages.add(heading)
        per_page = Counter(rows)
        assert rows[0] == heading, (lines, heading, rows)  # the heading is never left alone
        assert rows == sorted(rows), (lines, rows)
        if len(per_page) > 1:
            assert min(per_page.values()) >= 2, (lines, rows)  # no orphaned or widowed row
        if previous is not None and heading != previous:
            # The table just moved to the next page: look at every length in between too.
            for fine in range(lines - 3, lines):
                fine_heading, fine_rows = layout(statement, fine)
                fine_pages = Counter(fine_rows)
                assert fine_rows[0] == fine_heading, (fine, fine_heading, fine_rows)
                if len(fine_pages) > 1:
                    assert min(fine_pages.values()) >= 2, (fine, fine_rows)
            break
        previous = heading
    assert len(seen_pages) > 1, "the table never reached a page end: grow the text more"

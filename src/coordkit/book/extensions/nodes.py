"""Docutils node builders shared by coordkit's Sphinx extensions (facts, glossary, syllabus)."""

from __future__ import annotations

from docutils import nodes


def cell(content) -> nodes.entry:
    """A table cell from a string or a list of inline nodes."""
    if isinstance(content, str):
        content = [nodes.Text(content)]
    return nodes.entry("", nodes.paragraph("", "", *content))


def table(headers: list[str], rows: list[list], widths: list[int], classes: list[str]) -> nodes.table:
    """A table with one header row; each row is a list of cells (strings or lists of inline nodes)."""
    out = nodes.table(classes=classes)
    group = nodes.tgroup(cols=len(headers))
    out += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    row = nodes.row()
    for title in headers:
        row += cell(title)
    head += row
    group += head
    body = nodes.tbody()
    for cells in rows:
        row = nodes.row()
        for content in cells:
            row += cell(content)
        body += row
    group += body
    return out

"""HTML parsed once per section.

WeasyPrint parses each document with a pure-Python HTML5 parser, about a twentieth of
a warm render. A dn-docs document is mostly the same sections for many patients, and
the composer marks where each one starts (``<!--dn:section-->``). The warm renderer
parses each distinct section once, alone inside an otherwise empty ``<main>``, and
builds a document's tree from its skeleton (the head, the running header, the facts
table: everything before the first mark and after the last section) and copies of its
sections' elements.

A section's HTML closes every element it opens, so the parser builds the same
elements for it alone as inside the whole document; the tests compare both trees for
every language, kind and option. A document without the marks, or whose skeleton does
not hold them where expected, is parsed whole.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Hashable, Iterator
from typing import Any, NamedTuple
from xml.etree import ElementTree

import cssselect2
import tinyhtml5
import weasyprint

from .adapter import Target
from .generations import Generations, Reuse

#: Parsed sections are kept in two generations of at most this many (see
#: :mod:`.generations`). A clinic's week in four languages has about 200 distinct
#: sections, a few KiB of elements each.
GENERATION_SECTIONS = 1_000
#: A newly parsed section waits among at most this many until a later document has it
#: too; a patient's own sections (the screening answers, the signature rows) never do.
TRIAL_SECTIONS = 250

_MARK = re.compile(r"<!--(dn:section(?: once)?)-->")
_TAG_NAME = re.compile(r"[a-z][a-z0-9]*")
_MAIN_CLOSE = "</main>"
_EMPTY_MAIN = "<!DOCTYPE html><html><head></head><body><main>{}</main></body></html>"

_ParsedSection = tuple[str | None, tuple[ElementTree.Element, ...]]

#: What :class:`ParsedHTML` calls of WeasyPrint's own (it replaces nothing).
TARGETS = (
    Target(
        weasyprint,
        "_find_base_url",
        "weasyprint._find_base_url",
        "(html_document, fallback_base_url)",
    ),
)


def parse_html(html: str) -> ElementTree.Element:
    """The element tree WeasyPrint's parser builds for ``html``."""
    return tinyhtml5.parse(html, namespace_html_elements=False)  # type: ignore[no-any-return]


class SectionParser:
    """Sections parsed once and copied into each document that has them."""

    def __init__(self) -> None:
        self.reuse = Reuse()
        self.kept: Generations[_ParsedSection] = Generations(GENERATION_SECTIONS, TRIAL_SECTIONS)

    def _section(self, chunk: str) -> _ParsedSection:
        parsed = self.kept.get(chunk)
        if parsed is not None:
            self.reuse.hits += 1
            return parsed
        self.reuse.misses += 1
        main = parse_html(_EMPTY_MAIN.format(chunk)).find("body/main")
        assert main is not None
        parsed = (main.text, tuple(main))
        self.kept.put(chunk, parsed)
        return parsed

    def parse_sections(
        self, html: str, copies: dict[ElementTree.Element, Hashable] | None = None
    ) -> ElementTree.Element:
        """The same tree as :func:`parse_html`, with each section parsed once.

        ``copies``, when given, learns each element copied from a parsed section: the same
        key for the copies of the same parsed element, in any document.
        """
        marks = list(_MARK.finditer(html))
        end = html.rfind(_MAIN_CLOSE)
        if not marks or end < marks[-1].end():
            return parse_html(html)
        # Each section runs from its mark to the next one; the last one to </main>.
        ends = [mark.start() for mark in marks[1:]] + [end]
        chunks = [html[mark.end() : stop] for mark, stop in zip(marks, ends, strict=True)]
        skeleton = html[: marks[0].start()] + "".join(mark[0] for mark in marks) + html[end:]
        root = parse_html(skeleton)
        main = root.find("body/main")
        texts = [mark[1] for mark in marks]
        places = [
            index
            for index, child in enumerate(main if main is not None else ())
            # Comments (and processing instructions) have a function as their tag.
            if not isinstance(child.tag, str) and child.text in texts
        ]
        if main is None or len(places) != len(chunks):
            return parse_html(html)
        chunk_after = dict(zip(places, chunks, strict=True))
        children: list[ElementTree.Element] = []
        for index, child in enumerate(main):
            children.append(child)
            if (chunk := chunk_after.get(index)) is not None:
                child.tail, elements = self._section(chunk)
                for number, element in enumerate(elements):
                    copied = copy.deepcopy(element)
                    children.append(copied)
                    if copies is not None:
                        copies[copied] = (chunk, number)
        main[:] = children
        return root


class _Found(NamedTuple):
    etree_element: ElementTree.Element


class _Root(cssselect2.ElementWrapper):  # type: ignore[misc]  # cssselect2 has no type hints
    """A document's root that finds elements by tag name with ElementTree.

    WeasyPrint looks for the ``<style>``, ``<link>``, ``<title>`` and ``<meta>``
    elements of every document by matching those selectors against a wrapper it makes
    for each element, about 1% of a warm render; both look only at the elements found.
    """

    def query_all(self, *selectors: str) -> Iterator[Any]:
        if not all(map(_TAG_NAME.fullmatch, selectors)):
            return super().query_all(*selectors)  # type: ignore[no-any-return]
        tags = set(selectors)
        return (_Found(element) for element in self.etree_element.iter() if element.tag in tags)


class ParsedHTML(weasyprint.HTML):  # type: ignore[misc]  # WeasyPrint has no type hints
    """A WeasyPrint document from an element tree parsed already."""

    def __init__(
        self,
        root: ElementTree.Element,
        base_url: str,
        url_fetcher: Any,
        copies: dict[ElementTree.Element, Hashable] | None = None,
    ) -> None:
        #: The elements copied from parsed sections (see :func:`parse_sections`).
        self.copies = copies or {}
        # What weasyprint.HTML sets up after parsing (nothing here is fetched).
        self.base_url = weasyprint._find_base_url(root, base_url)
        self.url_fetcher = url_fetcher
        self.media_type = "print"
        self.wrapper_element = _Root.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element

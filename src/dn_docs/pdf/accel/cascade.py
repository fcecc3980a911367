"""The cascade skipped for sections whose styles are known.

Even with the styles themselves shared (see :mod:`.styles`), WeasyPrint matches every
selector against every element of a document and merges the matched declarations of
each element and pseudo-element by weight: about a tenth of a warm render. A section
copied from one parsed earlier (see :mod:`.parsing`) has the same elements as the
first time. Under ancestors with the same attributes (the root's language, direction
and large print; ``<body>``; ``<main>``) its elements match the same rules, so they
get the same styles, as long as no rule looks at the section's siblings.

So the warm renderer notes, for each such section, the style WeasyPrint gave each of
its elements and pseudo-elements, and the next time the section comes under a parent
with the same style, hands those styles out again without matching anything. A
section is noted only when every one of its styles is kept (see
:func:`.styles.kept_style_of`) and none of its elements has a ``style`` attribute.
Stylesheets with sibling or structural selectors (``+``, ``~``, ``:first-child``,
``:nth-of-type()``, ``:empty``, ``:has()`` and the like) turn this off; the user agent
stylesheet's only such rules are for form fields, which dn-docs never writes.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any
from xml.etree import ElementTree

import tinycss2
from weasyprint.css import StyleFor, get_child_text

from .adapter import Replacement, Target
from .generations import Generations, Reuse
from .styles import KeptStyle, SharedStyles, kept_style_of

#: Section styles are kept in two generations of at most this many (see
#: :mod:`.generations`); a clinic's week has about 200 distinct sections per layout
#: context, each holding references to styles that are kept anyway.
GENERATION_SECTION_STYLES = 1_000
#: A section's new styles wait among at most this many until a later document uses them.
TRIAL_SECTION_STYLES = 250

# What lets a rule match an element because of its siblings or its children.
_STRUCTURAL = re.compile(r"[+~]|:(?:first|last|only|nth)-|:empty\b|:has\(", re.I)


@dataclass(frozen=True)
class _SectionStyles:
    # Holds the parent style whose id is in the key, so no other style takes that id.
    parent: KeptStyle
    # Each element of the section in tree order, with its styles by pseudo-element.
    styles: tuple[tuple[tuple[str | None, KeptStyle], ...], ...]


TARGET = Target(
    StyleFor,
    "__init__",
    "weasyprint.css.StyleFor.__init__",
    "(self, html, sheets, presentational_hints, font_config, target_collector)",
)


@cache
def independent_of_siblings(css: str) -> bool:
    """Whether no rule of ``css`` selects elements by their siblings or children."""
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    return not any(_selects_by_structure(rule) for rule in rules)


def _selects_by_structure(rule: Any) -> bool:
    if rule.type == "qualified-rule":
        return bool(_STRUCTURAL.search(tinycss2.serialize(rule.prelude)))
    if rule.type == "at-rule" and rule.at_keyword.lower() in ("media", "supports", "layer"):
        nested = tinycss2.parse_rule_list(rule.content or [], True, True)
        return any(_selects_by_structure(inner) for inner in nested)
    return False


def _sheets_key(sheets: list[tuple[Any, str, Any]]) -> Hashable:
    # A sheet whose matcher holds no selector (the <style> of @page rules, parsed
    # again for every document) can't change any element's style. The sheets
    # themselves are in the key, so their ids can't be reused while it is kept.
    return tuple(
        (sheet, origin, specificity)
        for sheet, origin, specificity in sheets
        if any(getattr(sheet.matcher, name) for name in _MATCHER_SELECTORS)
    )


_MATCHER_SELECTORS = (
    "id_selectors",
    "class_selectors",
    "lower_local_name_selectors",
    "namespace_selectors",
    "lang_attr_selectors",
    "other_selectors",
)


class _Document:
    """What StyleFor reads of a document, with the known sections left out."""

    def __init__(
        self, cascade: SharedCascade, html: Any, style_for: StyleFor, context: Hashable
    ) -> None:
        self._cascade = cascade
        self.etree_element = html.etree_element
        self.base_url = html.base_url
        self.wrapper_element = self
        self._html = html
        self._style_for = style_for
        self._context = context
        self._missed: list[tuple[Hashable, KeptStyle, ElementTree.Element]] = []

    def iter_subtree(self) -> Iterator[Any]:
        """The document's elements in tree order, less the sections filled in."""
        root = self._html.wrapper_element
        yield root
        pending = [root.iter_children()]
        while pending:
            wrapper = next(pending[-1], None)
            if wrapper is None:
                pending.pop()
                continue
            unit = self._html.copies.get(wrapper.etree_element)
            if unit is not None and self._filled(unit, wrapper):
                continue
            yield wrapper
            pending.append(wrapper.iter_children())

    def _filled(self, unit: Hashable, wrapper: Any) -> bool:
        # The parent's style is computed by now: it comes first in tree order.
        computed = self._style_for.get_computed_styles()
        parent = kept_style_of(computed[wrapper.parent.etree_element, None])
        if parent is None:
            return False
        # What rules may look at outside the section: its ancestors and their attributes.
        ancestors = tuple(
            (ancestor.etree_element.tag, tuple(sorted(ancestor.etree_element.attrib.items())))
            for ancestor in wrapper.ancestors
        )
        key = (self._context, unit, ancestors, id(parent))
        cascade = self._cascade
        known = cascade.kept.get(key)
        if known is None:
            cascade.reuse.misses += 1
            self._missed.append((key, parent, wrapper.etree_element))
            return False
        cascade.reuse.hits += 1
        for element, styles in zip(wrapper.etree_element.iter(), known.styles, strict=True):
            for pseudo_type, kept_style in styles:
                computed[element, pseudo_type] = cascade.styles.handed_out(kept_style)
        return True

    def note_missed(self) -> None:
        """Keep the styles WeasyPrint computed for the sections not known before."""
        if not self._missed:
            return
        by_element: dict[Any, list[tuple[str | None, KeptStyle | None]]] = {}
        for (element, pseudo_type), style in self._style_for.get_computed_styles().items():
            by_element.setdefault(element, []).append((pseudo_type, kept_style_of(style)))
        for key, parent, section in self._missed:
            elements = list(section.iter())
            if any("style" in element.attrib for element in elements):
                continue
            found = [by_element.get(element, []) for element in elements]
            styles = tuple(
                tuple((pseudo, style) for pseudo, style in entries if style is not None)
                for entries in found
            )
            if sum(map(len, styles)) == sum(map(len, found)):
                self._cascade.kept.put(key, _SectionStyles(parent, styles))


class SharedCascade:
    """The styles of whole sections, handed out again (with :class:`.styles.SharedStyles`).

    Only for stylesheets that pass :func:`independent_of_siblings`; a document's own
    ``<style>`` is checked for each document.
    """

    def __init__(self, styles: SharedStyles) -> None:
        self.styles = styles
        self.reuse = Reuse()
        self.kept: Generations[_SectionStyles] = Generations(
            GENERATION_SECTION_STYLES, TRIAL_SECTION_STYLES
        )
        original = TARGET.original

        def init(
            style_for: StyleFor,
            html: Any,
            sheets: list[tuple[Any, str, Any]],
            presentational_hints: bool,
            font_config: Any,
            target_collector: Any,
        ) -> None:
            copies = getattr(html, "copies", None)
            inline = (get_child_text(style) for style in html.etree_element.iter("style"))
            if not copies or not all(map(independent_of_siblings, inline)):
                original(
                    style_for, html, sheets, presentational_hints, font_config, target_collector
                )
                return
            context = (_sheets_key(sheets), presentational_hints, font_config, html.base_url)
            document = _Document(self, html, style_for, context)
            original(
                style_for, document, sheets, presentational_hints, font_config, target_collector
            )
            document.note_missed()

        self.replacements = (Replacement(TARGET, init),)

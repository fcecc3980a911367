"""Computed styles shared between documents.

WeasyPrint computes a style for every element and pseudo-element of a document, then
computes each of its properties the first time layout or drawing asks for it. Within
one document it already shares a style between elements whose parent style and
matched rules are the same. dn-docs documents share far more than that with each
other: the same stylesheets, the same templates, the same few hundred element
contexts. So the warm renderer keeps each style it computes and hands the same style
to an element of a later document whose parent has the same style and whose cascaded
declarations are the same values. Every property computed for one patient's document
is then already computed for the next.

WeasyPrint changes a few element styles while it builds boxes: a table's margins and
position move to its wrapper, the root's or body's overflow moves to the page. Those
elements get their own copy of the kept style in every document; the kept style
itself is never changed. A style is not kept when its values depend on one document:
viewport units (the page size), an anchor name or unresolved ``var()`` values.
Declarations parsed from an element's own ``style`` attribute are new objects in
every document, so their styles are never found again (dn-docs' templates write none).
"""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from weasyprint.css import ComputedStyle, StyleFor
from weasyprint.css.tokens import Pending
from weasyprint.css.units import VIEWPORT_UNITS

from .adapter import Replacement, Target
from .generations import Generations, Reuse

#: Styles are kept in two generations of at most this many keys, two for each style
#: (see :mod:`.generations`). A clinic's week in four languages keeps about 1,700
#: styles, a few KiB each with their computed properties.
GENERATION_STYLES = 10_000

#: Elements whose style WeasyPrint changes while building boxes (see the module
#: docstring): each document gets a copy.
_CHANGED_TAGS = frozenset({"html", "body"})

TARGET = Target(
    StyleFor,
    "set_computed_styles",
    "weasyprint.css.StyleFor.set_computed_styles",
    "(self, element, parent, root=None, pseudo_type=None, base_url=None, target_collector=None)",
)


@dataclass(frozen=True, eq=False)
class KeptStyle:
    # Never handed out itself when ``copied``. It holds what the key's ids stand for
    # (its parent style, its cascaded declarations, its font configuration), so no
    # other object can take their ids while it is kept.
    style: ComputedStyle
    copied: bool


# A document's copy of a kept style → the kept style, which its children are keyed by.
_ORIGIN = "_dn_docs_kept_style"
# A kept style → how it is kept (see kept_style_of).
_KEPT = "_dn_docs_kept"


def declarations_key(cascaded: dict[str, Any]) -> Hashable:
    """The cascaded declarations of a style, as a key.

    Values from the stylesheets are the same objects in every document; values of
    attr() are new tuples with equal contents. Some values and page-rule weights are
    lists: those compare by their items.
    """
    items = tuple(cascaded.items())
    try:
        hash(items)
    except TypeError:
        return _frozen(items)
    return items


def _frozen(value: Any) -> Hashable:
    try:
        hash(value)
    except TypeError:
        if isinstance(value, tuple | list):
            return (type(value).__name__, *(_frozen(item) for item in value))
        # Kept alive by what holds the key (see KeptStyle).
        return ("id", id(value))
    hashable: Hashable = value
    return hashable


def _weight_key(weight: tuple[Any, Any, Any]) -> Hashable:
    # (precedence, layer, specificity); an @page rule's specificity is a list.
    precedence, layer, specificity = weight
    if type(specificity) is list:
        return (precedence, layer, tuple(specificity))
    return weight


def _depends_on_document(value: Any) -> bool:
    # A Dimension is a named tuple: its unit first.
    if getattr(value, "unit", None) in VIEWPORT_UNITS or isinstance(value, Pending):
        return True
    return isinstance(value, tuple | list) and any(_depends_on_document(item) for item in value)


def kept_style_of(style: ComputedStyle) -> KeptStyle | None:
    """How ``style``, handed out in this render, can be handed out again; None if it can't.

    Styles that depend on one document are not kept (see the module docstring).
    """
    kept_style: KeptStyle | None = getattr(getattr(style, _ORIGIN, style), _KEPT, None)
    return kept_style


class SharedStyles:
    """Computed styles kept between documents, and each document's copies of them."""

    def __init__(self) -> None:
        self.reuse = Reuse()
        self.kept: Generations[KeptStyle] = Generations(GENERATION_STYLES)
        # This render's copies, and so what their kept styles may learn from them.
        self._copies: list[ComputedStyle] = []

        def set_computed_styles(style_for: StyleFor, *arguments: Any, **keywords: Any) -> None:
            self.set_computed_styles(style_for, *arguments, **keywords)

        self.replacements = (Replacement(TARGET, set_computed_styles),)

    def set_computed_styles(
        self,
        style_for: StyleFor,
        element: Any,
        parent: Any,
        root: Any = None,
        pseudo_type: str | None = None,
        base_url: str | None = None,
        target_collector: Any = None,
    ) -> None:
        arguments = (style_for, element, parent, root, pseudo_type, base_url, target_collector)
        computed_styles = style_for.get_computed_styles()
        cascaded = style_for.get_cascaded_styles().get((element, pseudo_type), {})
        # A pseudo-element's parent is its element.
        parent_style = None if parent is None else computed_styles[parent, None]
        context = (
            id(getattr(parent_style, _ORIGIN, parent_style)),
            pseudo_type,
            id(style_for.font_config),
            base_url,
        )
        # Most declarations are the stylesheets' own objects, so they are found by
        # identity (cheap); attr() values are found by their contents.
        declarations = cascaded.values()
        same_objects = (
            *context,
            tuple(cascaded),
            tuple([id(value) for value, _ in declarations]),
            tuple([_weight_key(weight) for _, weight in declarations]),
        )
        try:
            kept_style = self.kept.get(same_objects)
        except TypeError:  # another unhashable weight: found by contents only
            kept_style = None
        if kept_style is None:
            same_values = (*context, declarations_key(cascaded))
            kept_style = self.kept.get(same_values)
        if kept_style is not None:
            self.reuse.hits += 1
            computed_styles[element, pseudo_type] = self.handed_out(kept_style)
            return None
        self.reuse.misses += 1
        TARGET.original(*arguments)
        style = computed_styles[element, pseudo_type]
        if style["anchor"] is not None or any(
            _depends_on_document(value) for value, _ in cascaded.values()
        ):
            return None
        # Page types (the @page rules and their margin boxes) are shared as they are.
        copied = (
            isinstance(element, ElementTree.Element)
            and pseudo_type is None
            and (element.tag.rpartition("}")[2] in _CHANGED_TAGS or "table" in style["display"])
        )
        kept_style = KeptStyle(style, copied)
        setattr(style, _KEPT, kept_style)
        # The kept style holds every object whose id is in these keys.
        self.kept.put(same_values, kept_style)
        with suppress(TypeError):
            self.kept.put(same_objects, kept_style)
        computed_styles[element, pseudo_type] = self.handed_out(kept_style)
        return None

    def handed_out(self, kept_style: KeptStyle) -> ComputedStyle:
        """The kept style for this document: itself, or this document's own copy of it."""
        if not kept_style.copied:
            return kept_style.style
        style = kept_style.style.copy()
        setattr(style, _ORIGIN, kept_style.style)
        self._copies.append(style)
        return style

    def learn_from_copies(self) -> None:
        """Compute in each kept style what the last document's copies of it computed.

        A copy starts with what its kept style has computed; this way the next copy
        starts with what this document's needed. Called before a render, when the
        previous document is drawn and its copies computed all they needed.
        """
        for copy in self._copies:
            kept_style = getattr(copy, _ORIGIN)
            for name in [name for name in copy if name not in kept_style]:
                kept_style[name]  # computed on first access
        self._copies.clear()

"""One sandboxed Jinja environment per locale, with that locale's translations installed.

Environments are cached per process, so templates are compiled once per locale
and the locale stays a value passed in, never global state.
"""

from __future__ import annotations

from functools import cache

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from .. import locales, resources

# Placeholders a translator keeps in the page-counter message.
_PAGE, _PAGES = "{page}", "{pages}"
#: Identifiers up to this long are kept on one line; a longer one may wrap rather than
#: run off the page.
UNBROKEN_ID = 24


def css_string(text: str) -> Markup:
    """Quote ``text`` as a CSS string literal (for our own translated labels only)."""
    escaped = "".join(ch if ch.isalnum() or ch in " .,:;-_" else f"\\{ord(ch):x} " for ch in text)
    return Markup(f'"{escaped}"')  # noqa: S704 - every character but [A-Za-z0-9 .,:;_-] is escaped


def isolate(value: object) -> str:
    """Wrap request text in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE.

    A name keeps its own direction inside a sentence of either direction, and any
    bidi override it carries ends at the isolate instead of reversing what follows.
    """
    return f"\u2068{value}\u2069"


def phone(value: object) -> Markup:
    """A phone number on one line, read left to right on a right-to-left page too."""
    return Markup('<span class="phone">\u2066{}\u2069</span>').format(value)


def identifier(value: object) -> Markup:
    """An id (patient id, license) on one line when it fits, in its own direction."""
    text = str(value)
    kind = "unbroken" if len(text) <= UNBROKEN_ID else "value"
    return Markup('<span class="{}">{}</span>').format(kind, isolate(text))


def marked(message: str) -> str:
    """``N_``: marks a message for extraction where a template passes it on untranslated."""
    return message


def page_counter(message: str) -> Markup:
    """Turn a translated ``Page {page} of {pages}`` into a CSS ``content`` value."""
    parts: list[str] = []
    rest = message
    while rest:
        positions = [(rest.find(p), p) for p in (_PAGE, _PAGES) if p in rest]
        if not positions:
            parts.append(css_string(rest))
            break
        index, placeholder = min(positions)
        if index:
            parts.append(css_string(rest[:index]))
        parts.append("counter(page)" if placeholder == _PAGE else "counter(pages)")
        rest = rest[index + len(placeholder) :]
    return Markup(" ".join(parts))  # noqa: S704 - parts are css_string() output and counters


@cache
def environment(locale_id: str) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(str(resources.templates_dir())),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # Extraction trims {% trans %} blocks (pyproject.toml); rendering must look up the same ids.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(  # type: ignore[attr-defined]
        locales.load_translations(locale_id), newstyle=True
    )
    env.globals["N_"] = marked
    env.filters["css_string"] = css_string
    env.filters["page_counter"] = page_counter
    env.filters["isolate"] = isolate
    env.filters["phone"] = phone
    env.filters["identifier"] = identifier
    return env

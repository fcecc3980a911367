"""The ``dn-docs`` command line."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from . import content, examples, locales
from .batch.dispatch import BROKER_WAIT, DEFAULT_QUEUE, WORKER_WAIT
from .batch.runner import STACKS
from .batch.template import FORMATS, write_template
from .errors import DnDocsError, RequestError
from .limits import MAX_REQUEST_BYTES
from .pipeline import render_document
from .signing import sealing_from_environment
from .storage import ensure_dir, inside, write_atomic
from .version import __version__

F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """One line on stderr and no traceback; exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"dn-docs: error: {self.format_message()}", err=True)


class BadInputError(UserError):
    """The user's own input is wrong; exit status 2."""

    exit_code = 2


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except RequestError as exc:
        raise BadInputError(str(exc)) from None
    except DnDocsError as exc:
        raise UserError(str(exc)) from None


def load_json(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_REQUEST_BYTES:
            raise BadInputError(
                f"{path}: larger than {MAX_REQUEST_BYTES // 1024} KiB; not a request"
            )
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dn-docs")
def main() -> None:
    """Dry-needling consent forms and aftercare handouts, personalized and localized, as PDFs."""


@main.command()
@click.argument("request_file", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), help="PDF to write.")
@click.option(
    "--kind", type=click.Choice(["consent", "aftercare"]), help="Override the request's kind."
)
@click.option("--locale", help="Override the request's language (e.g. es, ar, zh-Hans).")
@click.option("--html", "as_html", is_flag=True, help="Write the HTML instead of the PDF.")
def render(
    request_file: Path, out: Path | None, kind: str | None, locale: str | None, as_html: bool
) -> None:
    """Render one document from a JSON request."""
    data = load_json(request_file)
    if not isinstance(data, dict):
        raise BadInputError(f"{request_file}: the request must be a JSON object")
    data = {**data, **({"kind": kind} if kind else {}), **({"locale": locale} if locale else {})}
    with user_errors():
        document = render_document(data)
        request = document.composed.request
        target = out or Path(f"{request.kind}-{request.locale}.{'html' if as_html else 'pdf'}")
        payload = document.composed.standalone_html.encode() if as_html else document.pdf
        # Not resolved: a link at the target is refused, never written through.
        write_atomic(target.absolute(), payload)
    sealed = ", sealed" if document.sealed else ""
    click.echo(f"{target}  ({document.pages} pages, {len(document.pdf) // 1024} KiB{sealed})")


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("out/demo"),
    show_default=True,
    help="Folder for the demo PDFs.",
)
def demo(out: Path) -> None:
    """Render the bundled example patients: consent and aftercare in every shipped language."""
    from rich.progress import Progress

    requests = examples.demo_requests()
    with user_errors():
        folder = ensure_dir(out)
        with Progress(disable=not sys.stderr.isatty(), transient=True) as progress:
            task = progress.add_task("rendering", total=len(requests))
            for number, request in enumerate(requests, start=1):
                document = render_document(request)
                edition = "".join(
                    f"-{option.replace('_', '-')}"
                    for option, on in request["options"].items()
                    if on
                )
                name = f"{number:02d}-{request['kind']}-{request['locale']}{edition}.pdf"
                write_atomic(inside(folder, name), document.pdf)
                click.echo(f"{folder / name}  ({document.pages} pages)")
                progress.advance(task)
    click.echo(f"{len(requests)} documents in {folder}")


@main.group(name="content")
def content_group() -> None:
    """The clinical content catalog."""


@content_group.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as JSON.")
def content_list(as_json: bool) -> None:
    """Print every catalog item with its category, rule and citations."""
    if as_json:
        rows = [
            {
                "id": item.id,
                "category": item.category.value,
                "frequency": item.frequency,
                "applies": item.applies.describe(),
                "documents": sorted(item.kinds),
                "text": item.text,
                "citations": [str(c) for c in item.cite],
            }
            for item in content.ITEMS
        ]
        click.echo(json.dumps({"version": content.CATALOG_VERSION, "items": rows}, indent=2))
        return
    click.echo(f"dn-docs content catalog {content.CATALOG_VERSION}: {len(content.ITEMS)} items\n")
    for item in content.ITEMS:
        click.echo(f"{item.id}  [{item.category.value}]  applies: {item.applies.describe()}")
        click.echo(f"    {item.text}")
        for citation in item.cite:
            click.echo(f"    source: {citation}")
        click.echo("")


@main.group(name="locales")
def locales_group() -> None:
    """Shipped languages and their catalogs."""


@locales_group.command(name="list")
def locales_list() -> None:
    """Print the shipped locales with direction and translation version."""
    with user_errors():
        for locale_id, direction in sorted(locales.SUPPORTED.items()):
            click.echo(f"{locale_id:8} {direction}  {locales.catalog_version(locale_id)}")


class _BatchGroup(click.Group):
    """``dn-docs batch FILE …`` runs a batch, as it always has; ``dn-docs batch template``
    and the other subcommands are named."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@main.group(name="batch", cls=_BatchGroup)
def batch_group() -> None:
    """Batches: `dn-docs batch FILE --out DIR` renders one (see `dn-docs batch run -h`);
    `dn-docs batch template` writes a file to fill in."""


def _seconds(value: float, name: str) -> float:
    if value <= 0:
        raise BadInputError(f"{name}: must be a number of seconds above 0")
    return value


@batch_group.command(name="run")
@click.argument("input_file", type=click.Path(path_type=Path))
@click.option(
    "--clinic",
    "clinic_file",
    type=click.Path(path_type=Path),
    help="JSON with defaults for every row: clinic, practitioner, locale, options, date_format.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option(
    "--broker",
    envvar="DN_DOCS_BROKER_URL",
    help="Celery broker URL; without one, a local process pool does the work.",
)
@click.option(
    "--queue",
    envvar="DN_DOCS_QUEUE",
    default=DEFAULT_QUEUE,
    show_default=True,
    help="Celery queue to send to (DN_DOCS_QUEUE).",
)
@click.option("--workers", type=int, help="Local pool size (default: one per core).")
@click.option("--resume", is_flag=True, help="Skip documents the manifest already has, unchanged.")
@click.option("--delimiter", help="CSV separator (default: found from the header row).")
@click.option("--encoding", help="CSV encoding (default: UTF-8, or Windows-1252 if it is not).")
@click.option(
    "--date-format",
    help="How the file writes dates, e.g. DD.MM.YYYY or MM/DD/YYYY (default: YYYY-MM-DD, "
    "or clinic.json's date_format).",
)
@click.option(
    "--stacks",
    default=",".join(STACKS),
    show_default=True,
    help="Print stacks to make: packets (packets.pdf), kinds (merged-<kind>.pdf), or none.",
)
@click.option(
    "--worker-wait",
    envvar="DN_DOCS_WORKER_WAIT",
    type=float,
    default=WORKER_WAIT,
    show_default=True,
    help="Seconds without a finished document before the batch checks that a worker "
    "consumes the queue, and ends if none does (DN_DOCS_WORKER_WAIT).",
)
@click.option(
    "--broker-wait",
    envvar="DN_DOCS_BROKER_WAIT",
    type=float,
    default=BROKER_WAIT,
    show_default=True,
    help="Seconds the broker may stay unreachable before the batch ends (DN_DOCS_BROKER_WAIT).",
)
def batch(
    input_file: Path,
    clinic_file: Path | None,
    out: Path,
    broker: str | None,
    queue: str,
    workers: int | None,
    resume: bool,
    delimiter: str | None,
    encoding: str | None,
    date_format: str | None,
    stacks: str,
    worker_wait: float,
    broker_wait: float,
) -> None:
    """Render a spreadsheet (.xlsx), CSV or JSON Lines batch: one PDF per row and kind, a
    manifest, errors.csv and print stacks."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from .batch import CeleryDispatcher, InputOptions, LocalDispatcher, run_batch
    from .progress import RateColumn

    if not input_file.is_file():
        raise BadInputError(f"{input_file}: no such file")
    defaults = load_json(clinic_file) if clinic_file else None
    with user_errors():  # a wrong key or passphrase stops the batch before its first job
        sealing_from_environment()
    if defaults is not None and not isinstance(defaults, dict):
        raise BadInputError(f"{clinic_file}: the clinic defaults must be a JSON object")
    chosen = {s.strip() for s in stacks.split(",") if s.strip()} - {"none"}
    if chosen - set(STACKS):
        raise BadInputError("--stacks: must be packets, kinds, both (packets,kinds) or none")
    if broker:
        from worker import create_app

        dispatcher: Any = CeleryDispatcher(
            create_app(broker),
            queue=queue,
            worker_wait=_seconds(worker_wait, "--worker-wait"),
            broker_wait=_seconds(broker_wait, "--broker-wait"),
        )
    else:
        dispatcher = LocalDispatcher(workers=workers)
    options = InputOptions(delimiter=delimiter, encoding=encoding, date_format=date_format)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("failed {task.fields[failed]}"),
        RateColumn(),
        TimeRemainingColumn(),
    )
    # Warnings go to stderr above the bar; a redirected stdout gets the summary alone.
    console = Console(stderr=True)
    with (
        user_errors(),
        Progress(*columns, console=console, disable=not sys.stderr.isatty()) as progress,
    ):
        task = progress.add_task("rendering", total=None, failed=0)

        def on_progress(done: int, failed: int, total: int) -> None:
            progress.update(task, completed=done + failed, total=total, failed=failed)

        def on_warning(message: str) -> None:
            progress.console.print(
                f"dn-docs: warning: {message}", markup=False, highlight=False, soft_wrap=True
            )

        summary = run_batch(
            input_file,
            out,
            dispatcher,
            defaults,
            resume,
            on_progress,
            options=options,
            stacks=chosen,
            on_warning=on_warning,
        )
    click.echo(str(summary))
    if summary.interrupted:
        sys.exit(128 + summary.interrupted)
    if not summary.clean:
        sys.exit(3)


@batch_group.command(name="template")
@click.option("--format", "kind", type=click.Choice(FORMATS), default="xlsx", show_default=True)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="File to write (default: batch-template.xlsx or .csv).",
)
def batch_template(kind: str, out: Path | None) -> None:
    """Write a batch file to fill in: a header, an example row and the allowed values."""
    target = out or Path(f"batch-template.{kind}")
    with user_errors():
        write_template(target.absolute(), kind)
    click.echo(f"{target}: header, an example row and the allowed values")


def _form_sentences() -> list[str]:
    """English sentences of the templates (not the catalog), from messages.pot."""
    from babel.messages.pofile import read_po

    from . import resources

    texts = {item.text for item in content.ITEMS}
    with (resources.locales_dir() / "messages.pot").open("rb") as handle:
        return [
            str(m.id)
            for m in read_po(handle)
            if isinstance(m.id, str) and len(m.id.split()) >= 4 and m.id not in texts
        ]


@content_group.command(name="readability")
def content_readability() -> None:
    """Flesch–Kincaid grade of the English text, per section and overall."""
    from .content import readability

    sections, overall = readability.scores(_form_sentences())
    width = max(len(s.section) for s in sections)
    failed = False
    for score in sections:
        mark = "ok" if score.grade <= readability.SECTION_LIMIT else "TOO HARD"
        failed |= score.grade > readability.SECTION_LIMIT
        click.echo(
            f"{score.section:<{width}}  grade {score.grade:4.1f}  ({score.sentences} items)  {mark}"
        )
    mark = "ok" if overall <= readability.OVERALL_LIMIT else "TOO HARD"
    click.echo(
        f"{'overall':<{width}}  grade {overall:4.1f}  (limit {readability.OVERALL_LIMIT:g})  {mark}"
    )
    if failed or overall > readability.OVERALL_LIMIT:
        sys.exit(1)


@locales_group.command(name="check")
def locales_check() -> None:
    """Check every catalog: complete, not fuzzy, placeholders, plurals, compiled, current."""
    from .catalogs import check_all

    reports, stale = check_all()
    for report in reports:
        click.echo(f"{report.locale:8} {'ok' if report.ok else 'FAILED'}")
        for problem in report.problems[:20]:
            click.echo(f"    {problem}")
    for problem in stale:
        click.echo(f"messages.pot: {problem}")
    if stale or not all(r.ok for r in reports):
        raise UserError("translation catalogs have problems (listed above)")
    click.echo(f"{len(reports)} catalogs complete and current")


@main.group(name="fonts")
def fonts_group() -> None:
    """Compact copies of the CJK fonts (built by the set-up)."""


@fonts_group.command(name="build")
@click.option("--force", is_flag=True, help="Rebuild copies that already exist.")
def fonts_build(force: bool) -> None:
    """Build the compact CJK font copies that documents use when they exist."""
    from . import fonts

    started = time.monotonic()
    paths = fonts.build(force=force)
    size = sum(path.stat().st_size for path in paths) / 2**20
    click.echo(
        f"{len(paths)} font copies in {fonts.fonts_dir()} ({size:.0f} MiB, "
        f"{time.monotonic() - started:.0f} s)"
    )


@main.command()
@click.argument("pdf_file", type=click.Path(path_type=Path))
def verify(pdf_file: Path) -> None:
    """Check a PDF's seal, changes after sealing and text: "intact" or what is wrong.

    Exit status 0 intact and sealed by a trusted signer; 1 modified; 2 unsigned or
    sealed by a signer not in DN_DOCS_TRUST_ROOTS.
    """
    from .signing.verification import UnreadablePdfError, verify_document

    # pyHanko logs each failed certificate path with a traceback; the report says it.
    logging.getLogger("pyhanko").addHandler(logging.NullHandler())
    try:
        data = pdf_file.read_bytes()
    except OSError as exc:
        raise BadInputError(f"{pdf_file}: {exc.strerror}") from None
    with user_errors():
        try:
            result = verify_document(data)
        except UnreadablePdfError as exc:
            raise BadInputError(f"{pdf_file}: {exc}") from None
    click.echo(f"{pdf_file}: {result}")
    for line in result.lines():
        click.echo(f"  {line}")
    sys.exit(result.exit_status)


@main.group(name="certs")
def certs_group() -> None:
    """Certificates for sealing documents."""


@certs_group.command(name="dev-ca")
@click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="Folder."
)
def certs_dev_ca(out: Path) -> None:
    """Make a development CA and clinic certificate (NOT for production) and print the
    environment lines that use them."""
    from .signing.devca import write_dev_ca

    with user_errors():
        credentials = write_dev_ca(out)
    click.echo(
        f"# A development CA and clinic sealing certificate in {out}: NOT FOR PRODUCTION.",
        err=True,
    )
    for line in credentials.environment_lines():
        click.echo(line)


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Output folder (searched for batch folders with a manifest).",
)
@click.option("--older-than", required=True, help="Age such as 30d, 12h or 90m.")
def purge(out: Path, older_than: str) -> None:
    """Remove outputs older than an age, and their manifest entries."""
    from .batch.purge import parse_age
    from .batch.purge import purge as purge_outputs

    with user_errors():
        age = parse_age(older_than)
        if not out.is_dir():
            raise BadInputError(f"{out}: no such folder")
        summary = purge_outputs(out, age)
    click.echo(
        f"removed {summary.files} files and {summary.entries} manifest entries"
        f" ({summary.folders} empty batch folders) older than {older_than}"
    )


@main.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Output folder whose write access is checked.",
)
def doctor(out: Path) -> None:
    """Check this installation: one line per check, exit status 1 if any has a problem."""
    from .doctor import run_checks

    checks = run_checks(out)
    for check in checks:
        click.echo(str(check))
    if not all(check.ok for check in checks):
        sys.exit(1)


def _register_service_commands() -> None:
    from .service.commands import register

    register(main)


_register_service_commands()

"""``playdeck upload``: send report files, zips and Playwright output folders to a Playdeck
server.

Secrets given to the command (API key, password) are never printed: every message that leaves
the command goes through ``_Reporter.fail``, which redacts them, and Typer shows no defaults for
them in ``--help``.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from playdeck import __version__
from playdeck.cli.bundle import no_report, output_dirs, write_bundle
from playdeck.cli.multipart import FileChangedError, FilePart, MultipartBody
from playdeck.cli.upload_inputs import Inputs, report_in, zips_in
from playdeck.kit import ci
from playdeck.kit.retry import RetryPolicy, send_with_retries

UPLOAD_PATH = "/api/test-runs/upload"
LOGIN_PATH = "/api/auth/login"
# Below this a progress bar would only flicker.
PROGRESS_MIN_BYTES = 1024 * 1024
DEFAULT_RETRIES = 4
# Not a WriteError: the server answering early (413) and closing is not worth repeating.
RETRIED_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.TimeoutException,
    httpx.ReadError,
    httpx.RemoteProtocolError,
)
MAX_MESSAGE_CHARS = 500
EXIT_REFUSED = 1
EXIT_USAGE = 2
# Missing attachment paths named in the warning; the rest are counted.
_MISSING_SHOWN = 5


class _Reporter:
    """One-line messages on stderr, with the command's secrets redacted."""

    def __init__(self, console: Console, secrets: list[str]) -> None:
        self.console = console
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def one_line(self, text: str) -> str:
        text = " ".join(self.redact(text).split())
        if len(text) > MAX_MESSAGE_CHARS:
            text = text[: MAX_MESSAGE_CHARS - 1] + "…"
        return text

    def info(self, text: str) -> None:
        self.console.print(escape(self.one_line(text)), soft_wrap=True, highlight=False)

    def warn(self, text: str) -> None:
        self.console.print(
            f"[yellow]playdeck: warning: {escape(self.one_line(text))}[/]",
            soft_wrap=True,
            highlight=False,
        )

    def fail(self, text: str, code: int = EXIT_REFUSED) -> NoReturn:
        self.console.print(
            f"[red]playdeck: {escape(self.one_line(text))}[/]", soft_wrap=True, highlight=False
        )
        raise typer.Exit(code)


# The server and the credentials, for the commands that talk to a server (upload, gate).
ServerOption = Annotated[
    str,
    typer.Option(
        envvar="PLAYDECK_SERVER_URL",
        show_default=False,
        help="Playdeck server, e.g. http://127.0.0.1:8001.",
    ),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        envvar="PLAYDECK_API_KEY",
        show_default=False,
        show_envvar=True,
        help="API key, sent as Authorization: Bearer (the runs:write scope is enough).",
    ),
]
UsernameOption = Annotated[
    str | None,
    typer.Option(envvar="PLAYDECK_USERNAME", help="Log in as this user (with --password)."),
]
PasswordOption = Annotated[
    str | None,
    typer.Option(envvar="PLAYDECK_PASSWORD", show_default=False, help="Password."),
]


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object; ``None`` for anything else (a proxy's HTML error page)."""
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def _problem_detail(response: httpx.Response) -> str:
    """The server's reason: problem+json ``detail`` (with field errors), else the status phrase."""
    body = _json_object(response)
    if body is not None:
        detail = body.get("detail") or body.get("title") or body.get("message")
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            fields = [
                f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
                for e in errors[:3]
                if isinstance(e, dict)
            ]
            detail = f"{detail or ''} ({'; '.join(fields)})".strip()
        if isinstance(detail, str) and detail:
            return detail
    return response.reason_phrase or "no reason given"


def _refusal(action: str, response: httpx.Response) -> str:
    if response.is_redirect:
        target = response.headers.get("location", "?")
        return (
            f"{action} refused: HTTP {response.status_code} redirect to {target} "
            "(use that address as --server)"
        )
    return f"{action} refused (HTTP {response.status_code}): {_problem_detail(response)}"


def _unreachable(server: str, exc: httpx.TransportError) -> str:
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        reason = f"timed out ({type(exc).__name__})"
    return f"cannot reach {server}: {reason}"


def _normalise_server(server: str, out: _Reporter) -> str:
    server = server.strip().rstrip("/")
    if not server.startswith(("http://", "https://")):
        out.fail(f"--server must start with http:// or https:// (got {server!r})", EXIT_USAGE)
    return server


def _login(client: httpx.Client, server: str, username: str, password: str, out: _Reporter) -> None:
    """Log in, then authenticate the upload with the bearer access token (or, from servers that
    answer with a session cookie only, with that cookie, which the client keeps)."""
    try:
        response = client.post(
            server + LOGIN_PATH, json={"username": username, "password": password}
        )
    except httpx.TransportError as exc:
        out.fail(_unreachable(server, exc))
    if not response.is_success:
        out.fail(_refusal("login", response))
    body = _json_object(response)
    token = body.get("access_token") if body is not None else None
    if isinstance(token, str) and token:
        out.secrets.append(token)
        client.headers["Authorization"] = f"Bearer {token}"
        # A bearer request needs no cookie, and a cookie would make it a CSRF-checked one.
        client.cookies.clear()
    elif not client.cookies:
        out.fail("login answered without an access token or a session cookie")


def _form_fields(
    *,
    project: str,
    branch: str | None,
    commit: str | None,
    build_url: str | None,
    environment: str | None,
    run_name: str | None,
    tags: list[str],
) -> list[tuple[str, str]]:
    fields = [("projectName", project)]
    optional = {
        "branch": branch,
        "commit": commit,
        "buildUrl": build_url,
        "environment": environment,
        "runName": run_name,
    }
    fields.extend((name, value) for name, value in optional.items() if value)
    split = [t.strip() for tag in tags for t in tag.split(",") if t.strip()]
    if split:
        fields.append(("tags", ",".join(dict.fromkeys(split))))
    return fields


@contextmanager
def _file_parts(paths: list[Path], out: _Reporter) -> Iterator[list[FilePart]]:
    """``file`` parts for any mix of paths.

    Zips (blob reports of every shard, say) go as they are, several making one run. A
    Playwright JSON report, given or found in a folder given (or beside it), is packed into a
    zip with the attachment files it points to, looked for in the folders given (or the
    report's own folder when none is). Other report files (JUnit XML) go as they are.
    """
    given = Inputs.of(paths)
    if given.zips:
        if given.folders or given.reports or given.others:
            out.fail(
                "zips are uploaded with other zips only, not with files or folders", EXIT_USAGE
            )
        yield [FilePart.for_path(p) for p in given.zips]
        return
    reports = given.reports
    if not reports and given.folders:
        found = report_in(given.folders, beside=False)
        zips = zips_in(given.folders)
        if found is None and zips and not given.others:
            out.info(f"Sending {len(zips)} zip(s) found in {', '.join(map(str, given.folders))}")
            yield [FilePart.for_path(p) for p in zips]
            return
        found = found or report_in(given.folders, beside=True)
        if found is None:
            out.fail(str(no_report(given.folders[0])), EXIT_USAGE)
        reports = [found]
    if not reports:
        yield [FilePart.for_path(p) for p in given.others]
        return
    if len(reports) > 1 or given.others:
        out.fail(
            "one Playwright JSON report per upload, with the folders of its attachments "
            "(send JUnit files in an upload of their own)",
            EXIT_USAGE,
        )
    report_path, report = reports[0]
    # Alone, a report's files are looked for beside it and in the run's output folders.
    roots = given.folders or [
        report_path.parent,
        *output_dirs(report, report_path, Path.cwd()),
    ]
    with tempfile.TemporaryDirectory(prefix="playdeck-upload-") as tmp:
        archive = Path(tmp) / f"{report_path.resolve().parent.name or 'report'}.zip"
        try:
            bundle = write_bundle(report_path, report, roots, archive)
        except OSError as exc:
            out.fail(f"cannot pack {report_path}: {exc}", EXIT_USAGE)
        note = f"Packed {report_path.name} with {len(bundle.attachments)} attachment file(s)"
        if bundle.outside:
            note += f"; {bundle.outside} outside {', '.join(map(str, roots))} left out"
        if given.folders or bundle.outside:  # a report given alone is packed quietly
            out.info(note)
        if bundle.missing:
            shown = ", ".join(bundle.missing[:_MISSING_SHOWN])
            more = (
                f" and {len(bundle.missing) - _MISSING_SHOWN} more"
                if len(bundle.missing) > _MISSING_SHOWN
                else ""
            )
            out.warn(
                f"{len(bundle.missing)} attachment file(s) the report points to are missing "
                f"and not uploaded (give the folder that holds them): {shown}{more}"
            )
        yield [FilePart.for_path(archive, filename=archive.name)]


def _send(
    client: httpx.Client, server: str, body: MultipartBody, out: _Reporter, retries: int
) -> httpx.Response:
    """Send ``body``, retrying transient failures (the same ``Idempotency-Key`` each time, so
    a retry of an upload the server did store answers that run)."""
    headers = {
        "Content-Type": body.content_type,
        "Content-Length": str(body.length),
        "Idempotency-Key": str(uuid.uuid4()),
    }

    def post() -> httpx.Response:
        progress = Progress(
            TextColumn("Uploading"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=out.console,
            transient=True,
            # CI logs get no bar: without a terminal it cannot redraw in place.
            disable=body.length < PROGRESS_MIN_BYTES or not out.console.is_terminal,
        )
        with progress:
            task = progress.add_task("upload", total=body.length)
            return client.post(
                server + UPLOAD_PATH,
                content=body.chunks(lambda n: progress.advance(task, n)),
                headers=headers,
            )

    try:
        return send_with_retries(
            post,
            policy=RetryPolicy(attempts=retries + 1),
            on_retry=lambda note: out.info(f"Upload to {server}: {note}"),
            retry_errors=RETRIED_ERRORS,
        )
    except FileChangedError as exc:
        out.fail(str(exc))
    except httpx.WriteError as exc:
        # The server may answer early (413 from Content-Length) and close while we write.
        out.fail(
            f"the connection to {server} was closed during the upload "
            f"({exc or 'write error'}); the body may exceed the server's upload limit"
        )
    except httpx.TransportError as exc:
        out.fail(_unreachable(server, exc))


def upload(
    paths: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            readable=True,
            show_default=False,
            help="Report files (Playwright JSON, JUnit XML), zips (blob reports of every shard), "
            "and folders (Playwright output: the report and its attachment files).",
        ),
    ],
    server: ServerOption,
    project: Annotated[
        str,
        typer.Option(
            "--project", "-p", envvar="PLAYDECK_PROJECT", help="Project name (created if new)."
        ),
    ],
    branch: Annotated[str | None, typer.Option(help="Git branch of the run.")] = None,
    commit: Annotated[str | None, typer.Option(help="Commit SHA of the run.")] = None,
    build_url: Annotated[str | None, typer.Option(help="CI build URL.")] = None,
    environment: Annotated[str | None, typer.Option(help="Environment tested.")] = None,
    run_name: Annotated[str | None, typer.Option(help="Name of the run.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="Tag for the run (repeat, or comma-separate)."),
    ] = None,
    api_key: ApiKeyOption = None,
    username: UsernameOption = None,
    password: PasswordOption = None,
    run_key: Annotated[
        str | None,
        typer.Option(
            envvar="PLAYDECK_RUN_KEY",
            help="The CI build: uploads with the same key are one run (default: from the CI "
            "system's variables).",
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            envvar="PLAYDECK_SHARD",
            help="This upload's shard of the build, current/total (default: from the CI system).",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds to wait for the server's answer.")
    ] = 300.0,
    retries: Annotated[
        int,
        typer.Option(
            min=0,
            envvar="PLAYDECK_UPLOAD_RETRIES",
            help="Retries of a transient failure (connection, 502/503/504, 429), with backoff.",
        ),
    ] = DEFAULT_RETRIES,
) -> None:
    """Upload test results; prints the run's URL."""
    out = _Reporter(Console(stderr=True), [api_key or "", password or ""])
    server = _normalise_server(server, out)
    if api_key and (username or password):
        out.fail("give either --api-key or --username/--password, not both", EXIT_USAGE)
    if bool(username) != bool(password):
        out.fail("--username and --password go together", EXIT_USAGE)
    fields = _form_fields(
        project=project,
        branch=branch,
        commit=commit,
        build_url=build_url,
        environment=environment,
        run_name=run_name,
        tags=tag or [],
    )
    fields.extend(ci.run_fields(os.environ, given_key=run_key, given_shard=shard).items())
    headers = {"User-Agent": f"playdeck-cli/{__version__}", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    client_timeout = httpx.Timeout(timeout, connect=10.0)
    with (
        _file_parts(paths, out) as parts,
        httpx.Client(headers=headers, timeout=client_timeout) as client,
    ):
        if username and password:
            _login(client, server, username, password, out)
        response = _send(client, server, MultipartBody(fields, parts), out, retries)
    if not response.is_success:
        out.fail(_refusal("upload", response))
    created = _json_object(response)
    if created is None or "url" not in created:
        out.fail(f"unexpected answer from {server} (HTTP {response.status_code}): not a run")
    out.info(
        f"Stored run {created.get('testRunId')} in project {project!r} "
        f"(project id {created.get('projectId')})"
    )
    typer.echo(created["url"])

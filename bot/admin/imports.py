"""The console's imports: staff upload a merchants or products file (CSV or XLSX), see the dry
run of `jbl import --dry-run` (what it would create, update and leave, and the rows in error as
a table and as the error file to download and fix), then import it. The file waits between the
two in a directory of its own, for the staff member who uploaded it only."""

from __future__ import annotations

import contextlib
import csv
import json
import re
import secrets
import shutil
import time
from collections.abc import Awaitable
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from handlers.import_errors import ENCODING, error_report_path
from handlers.import_files import UnreadableFile
from handlers.imports import Imported, import_file
from handlers.reports.headings import count
from handlers.texts import text
from models.importing import Kind, Outcome
from models.staff import WEB, record
from models.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.admin.console import ConsoleConfig, Pages
    from models.web_sessions import Signed

# Largest file taken: the program's whole merchants or products file, as XLSX.
MAX_UPLOAD = 200 * 1024 * 1024
ERRORS_SHOWN = 100
KEPT_SECONDS = 24 * 3600
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{20,64}")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Imports:
    def __init__(self, config: ConsoleConfig, pages: Pages) -> None:
        self.config = config
        self.pages = pages

    async def page(
        self, request: Request, signed: Signed, status: int = 200, **shown: object
    ) -> Response:
        return self.pages.render(
            "imports.html",
            signed.language,
            signed,
            status=status,
            kinds=[kind.value for kind in Kind],
            **shown,
        )

    def _refused(self, request: Request, signed: Signed, key: str) -> Awaitable[Response]:
        return self.page(request, signed, 400, error=text(signed.language, key))

    async def upload(self, request: Request, signed: Signed) -> Response:
        """Keeps the uploaded file and shows its dry run."""
        form = request.state.form
        upload = form.get("file")
        try:
            kind = Kind(str(form.get("kind", "")))
        except ValueError:
            return await self._refused(request, signed, "web_bad_form")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._refused(request, signed, "web_import_no_file")
        _forget_old(self.config.uploads)
        upload_id = secrets.token_urlsafe(24)
        folder = self.config.uploads / upload_id
        folder.mkdir(parents=True, mode=0o700)
        name = _SAFE_NAME.sub("_", Path(upload.filename).name)[-100:] or "file"
        path = folder / name
        if not await _saved(upload, path):
            shutil.rmtree(folder, ignore_errors=True)
            return await self._refused(request, signed, "web_import_too_big")
        review = kind == Kind.PRODUCTS and form.get("review") == "ya"
        meta = {"person_id": signed.person_id, "kind": kind.value, "name": name, "review": review}
        (folder / "upload.json").write_text(json.dumps(meta))
        return await self._run(request, signed, upload_id, dry_run=True)

    async def confirm(self, request: Request, signed: Signed) -> Response:
        """Imports the file whose dry run staff saw."""
        return await self._run(request, signed, request.path_params["upload"], dry_run=False)

    async def errors(self, request: Request, signed: Signed) -> Response:
        found = self._found(request.path_params["upload"], signed)
        if found is None:
            return Response(status_code=404)
        path = error_report_path(found[0])
        if not path.exists():
            return Response(status_code=404)
        headers = {
            "Content-Disposition": f'attachment; filename="{path.name}"',
            "Cache-Control": "no-store",
        }
        return FileResponse(path, media_type="text/csv", headers=headers)

    def _found(self, upload_id: str, signed: Signed) -> tuple[Path, Kind, bool] | None:
        """The uploaded file, its kind and whether it waits for review, if this person
        uploaded it."""
        if not _UPLOAD_ID.fullmatch(upload_id):
            return None
        folder = self.config.uploads / upload_id
        try:
            meta = json.loads((folder / "upload.json").read_text())
        except (OSError, ValueError):
            return None
        if meta.get("person_id") != signed.person_id:
            return None
        return folder / meta["name"], Kind(meta["kind"]), bool(meta.get("review"))

    async def _run(
        self, request: Request, signed: Signed, upload_id: str, *, dry_run: bool
    ) -> Response:
        language = signed.language
        found = self._found(upload_id, signed)
        if found is None:
            return await self.page(request, signed, 404, error=text(language, "web_import_gone"))
        path, kind, review = found
        try:
            imported = await import_file(
                self.config.sessions,
                kind,
                path,
                self.config.clock(),
                language,
                dry_run=dry_run,
                review=review,
            )
        except UnreadableFile as error:
            return await self.page(request, signed, 400, error=error.problem.text(language))
        if not dry_run:
            async with UnitOfWork(self.config.sessions) as uow:
                await record(
                    uow.session,
                    WEB,
                    f"import_{kind.value}",
                    self.config.clock(),
                    person_id=signed.person_id,
                    file=path.name,
                    **{outcome.value: n for outcome, n in imported.counts.items()},
                )
                await uow.commit()
        header, errors = _error_rows(imported)
        return await self.page(
            request,
            signed,
            result=_result(imported, language),
            upload_id=upload_id,
            file=path.name,
            dry_run=dry_run,
            header=header,
            errors=errors,
            warnings=[warning.text(language) for warning in imported.warnings],
        )


def _forget_old(uploads: Path) -> None:
    """Removes the uploads of more than a day ago: imported or left, they are done with."""
    if not uploads.exists():
        return
    old = time.time() - KEPT_SECONDS
    for folder in uploads.iterdir():
        with contextlib.suppress(OSError):
            if folder.stat().st_mtime < old:
                shutil.rmtree(folder, ignore_errors=True)


async def _saved(upload: UploadFile, path: Path) -> bool:
    """Copies the upload to `path`; False when it is larger than `MAX_UPLOAD`."""
    written = 0
    with path.open("wb") as out:
        while chunk := await upload.read(1024 * 1024):
            written += len(chunk)
            if written > MAX_UPLOAD:
                return False
            out.write(chunk)
    return True


def _result(imported: Imported, language: str) -> list[tuple[str, str]]:
    counts = imported.counts
    done = "web_import_would" if imported.dry_run else "web_import_did"
    return [
        (text(language, f"{done}_{outcome.value}"), count(counts[outcome], language))
        for outcome in Outcome
    ]


def _error_rows(imported: Imported) -> tuple[list[str], list[list[str]]]:
    """The error file's header and its first rows, as staff will open it."""
    if imported.errors_file is None:
        return [], []
    with imported.errors_file.open(encoding=ENCODING, newline="") as file:
        first = file.readline()
        file.seek(0)
        # Written with the imported CSV's delimiter (`;` from Excel in Indonesia), or `,`.
        delimiter = ";" if first.count(";") > first.count(",") else ","
        rows = csv.reader(file, delimiter=delimiter)
        header = next(rows, [])
        return list(header), [list(row) for row in islice(rows, ERRORS_SHOWN)]

"""`academic-faces` command line. Heavy imports happen inside the commands, so `--help`
and light commands start fast."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from flows.cli_common import CliError
from flows.cli_common import cli_settings as _settings
from flows.cli_common import err_console as _console
from flows.cli_common import with_store as _with_store
from flows.cli_ml import add_ml_commands
from flows.cli_ops import add_ops_commands, add_recrawl_after
from flows.cli_privacy import add_privacy_commands

# -- crawl ---------------------------------------------------------------------------------
def cmd_crawl(args) -> int:
    from flows.summaries import crawl_table, table_console
    from infra.index import rebuild_merged_index
    from infra.services import storage_settings
    from infra.store import ObjectStore
    from spiders.registry import select_departments
    from spiders.runner import crawl_departments

    settings = _settings(args)
    departments = select_departments(settings.departments_file, args.only)
    console = _console()
    if args.json and not args.dry_run:
        raise CliError("--json goes with --dry-run (a real crawl reports through its table and the store)")
    if args.dry_run:
        return _dry_run(departments, settings, args.parallel, console, args.json)
    if args.fan_out:
        return _fan_out(settings, args.only)
    with storage_settings(settings) as resolved:
        store = ObjectStore.from_settings(resolved)
        store.ensure_bucket()
        with console.status(f"crawling {len(departments)} department(s)") as status:
            def done(result):
                status.update(f"{result.slug}: {result.summary()['finish']}")
                console.log(f"{result.slug}: {result.summary()['finish']} (exit {result.returncode})")
            results = crawl_departments(departments, resolved, parallel=args.parallel, on_done=done)
        merged, problems = rebuild_merged_index(store)
    table_console().print(crawl_table([r.summary() for r in results]))
    for problem in problems:
        console.print(f"[yellow]index: {problem}")
    console.print(f"raw/index.csv: {len(merged)} photos")
    failed = [r for r in results if not r.ok]
    for r in failed:
        console.print(f"[red]{r.slug} failed ({r.failure}); end of its log:[/red]\n{r.log_tail[-1500:]}")
    return 1 if failed else 0


def _fan_out(settings, only) -> int:
    """The Prefect `crawl` flow, one `crawl-department` flow run per department on the pool's workers."""
    from flows.cli_ops import use_fan_out_api

    use_fan_out_api(settings)
    from flows.crawl import crawl
    from flows.summaries import crawl_table, table_console

    departments_file = str(settings.departments_file) if settings.departments_file else None
    table_console().print(crawl_table(crawl(departments_file, only, fan_out=True)))
    return 0


def _dry_run(departments, settings, parallel: int, console, as_json: bool = False) -> int:
    """Show who a crawl would collect, without downloading photos or touching the store."""
    import json

    from rich.table import Table

    from flows.summaries import table_console
    from spiders.runner import crawl_departments

    with console.status(f"dry run of {len(departments)} department(s)"):
        results = crawl_departments(departments, settings, parallel=parallel, dry_run=True)
    if as_json:  # standard output carries the JSON alone; problems go to standard error
        print(json.dumps([r.dry_run_summary() for r in results], indent=1, ensure_ascii=False))
    for result in results:
        if not as_json:
            table = Table("name", "photo", "page", title=f"{result.slug}: {len(result.people)} people (dry run)")
            for person in result.people:
                table.add_row(person["name"], person["photo_url"], person["page_url"])
            table_console().print(table)
        if not result.ok:
            console.print(f"[red]{result.slug} failed ({result.failure}):[/red]\n{result.log_tail[-1500:]}")
    return 0 if all(r.ok for r in results) else 1


# -- index / store ---------------------------------------------------------------------------
def cmd_index_export(args) -> int:
    from infra.index import read_merged_index, to_export_csv_bytes

    frame = _with_store(_settings(args), read_merged_index)
    data = to_export_csv_bytes(frame)  # for spreadsheets: formulas neutralised, UTF-8 with BOM
    if args.out == "-":
        sys.stdout.write(data.decode())
    else:
        out = Path(args.out)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(out)  # never a half-written export
        _console().print(f"wrote {len(frame)} rows to {out}")
    return 0


def cmd_store_ls(args) -> int:
    def go(store):
        count = 0
        for obj in store.list(args.prefix or "", recursive=True):
            print(f"{obj.size:>10}  {obj.key}")
            count += 1
        return count
    count = _with_store(_settings(args), go)
    _console().print(f"{count} object(s)")
    return 0


def cmd_store_get(args) -> int:
    from infra.store import KeyNotFound

    def go(store):
        try:
            return store.get_bytes(args.key)
        except KeyNotFound:
            raise CliError(f"no object {args.key!r} in bucket {store.bucket}") from None
    data = _with_store(_settings(args), go)
    if args.out:
        Path(args.out).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


def cmd_import(args) -> int:
    from spiders.local_import import import_photos

    manifest = Path(args.manifest)
    if not manifest.is_file():
        raise CliError(f"manifest {manifest} does not exist")
    from infra.privacy import load_denylist

    settings = _settings(args)
    summary = _with_store(settings, lambda store: import_photos(
        store, manifest, args.slug, university=args.university, denylist=load_denylist(store),
        pseudonym_key=settings.pseudonym_key if settings.pseudonymise_names else None))
    _console().print(f"imported {summary.imported} new, {summary.unchanged} unchanged; rejected {summary.rejected}")
    return 0


# -- departments ----------------------------------------------------------------------------
def cmd_departments_list(args) -> int:
    from rich.table import Table

    from flows.summaries import table_console
    from spiders.registry import load_registry

    table = Table()
    for column in ("slug", "category", "university", "department", "render_js", "offline"):
        table.add_column(column, no_wrap=column in ("slug", "category"))
    for d in load_registry(_settings(args).departments_file):
        table.add_row(d.slug, d.category, d.university, d.department, d.render_js,
                      "yes" if d.verifiable_offline else "no")
    table_console().print(table)
    return 0


def cmd_departments_new(args) -> int:
    from spiders.scaffold import scaffold_department

    written = scaffold_department(
        slug=args.slug, university=args.university, department=args.department, category=args.category,
        start_url=args.url, render_js=args.render_js, registry_file=Path(args.file) if args.file else None,
        tests_dir=Path(args.tests_dir),
    )
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_departments_preview(args) -> int:
    import json

    from rich.table import Table

    from flows.summaries import table_console
    from spiders.preview import preview_page, write_preview_html

    console = _console()
    try:
        with console.status(f"reading {args.url}"):
            preview = preview_page(args.url, _settings(args), follow=args.follow, thumbnails=bool(args.html),
                                   render_js=args.render_js)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print(json.dumps(preview.as_dict(), indent=1, ensure_ascii=False))
    else:
        table = Table("name", "photo", title=f"{len(preview.people)} people with a photo (dry run)")
        for person in preview.people:
            table.add_row(person["name"], person["photo_url"])
        for person in preview.unfollowed:
            table.add_row(person["name"], f"[dim]on their own page (--follow): {person['detail_url']}[/dim]")
        table_console().print(table)
        skipped = ", ".join(f"{k} {v}" for k, v in preview.crawl.skipped.items())
        console.print(f"skipped: {skipped or 'nothing'}")
    if args.html:
        console.print(f"preview page: {write_preview_html(preview, Path(args.html))}")
    if not preview.ok:
        console.print(f"[red]{args.url}: {preview.crawl.failure}[/red]\n{preview.crawl.log_tail[-1500:]}")
        return 1
    return 0


# -- demo ------------------------------------------------------------------------------------
def cmd_demo(args) -> int:
    from flows.cli_ops import parse_models
    from flows.demo import run_demo

    return run_demo(people_per_department=args.people, port=args.port, serve_only=args.serve_only,
                    faces=Path(args.faces) if args.faces else None,
                    nonface=Path(args.nonface) if args.nonface else None, console=_console(),
                    models=parse_models(args.models), controls=args.controls,
                    recrawl_after_hours=args.recrawl_after)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="academic-faces", description=(
        "Collect staff photos from department web sites, crop faces, train and honestly evaluate "
        "classifiers of academic field; run it all as Prefect flows."))
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("crawl", help="crawl department staff pages into the object store")
    p.add_argument("--departments", metavar="FILE", help="registry file replacing the built-in one")
    p.add_argument("--only", nargs="+", metavar="SLUG", help="crawl only these departments")
    p.add_argument("--parallel", type=int, default=4, help="departments crawled at once (default 4)")
    p.add_argument("--dry-run", action="store_true",
                   help="list the people that would be collected; download and store nothing")
    p.add_argument("--json", action="store_true", help="with --dry-run: print one JSON object per department "
                   "(slug, people [{name, photo_url, page_url}], skipped counts) on standard output")
    p.add_argument("--fan-out", action="store_true", help="one flow run per department on the work pool's "
                   "workers (needs `academic-faces up` and `deploy`, or PREFECT_API_URL)")
    p.set_defaults(func=cmd_crawl)

    add_ml_commands(sub)
    add_ops_commands(sub)
    add_privacy_commands(sub)

    index = sub.add_parser("index", help="the merged photo index").add_subparsers(dest="action", required=True)
    p = index.add_parser("export", help="write raw/index.csv to a file")
    p.add_argument("--out", required=True, metavar="FILE", help="output file ('-' for standard output)")
    p.set_defaults(func=cmd_index_export)

    store = sub.add_parser("store", help="look into the bucket").add_subparsers(dest="action", required=True)
    p = store.add_parser("ls", help="list objects")
    p.add_argument("prefix", nargs="?", default="")
    p.set_defaults(func=cmd_store_ls)
    p = store.add_parser("get", help="print or save one object")
    p.add_argument("key")
    p.add_argument("--out", metavar="FILE")
    p.set_defaults(func=cmd_store_get)

    p = sub.add_parser("import", help="import local photos (manifest CSV: path,name,category) into raw/")
    p.add_argument("manifest", help="CSV with columns path,name,category[,university,department]")
    p.add_argument("--slug", required=True, help="index shard name, like a department slug")
    p.add_argument("--university", default="local import")
    p.set_defaults(func=cmd_import)

    deps = sub.add_parser("departments", help="the department registry").add_subparsers(dest="action", required=True)
    p = deps.add_parser("list", help="list registered departments")
    p.add_argument("--departments", metavar="FILE")
    p.set_defaults(func=cmd_departments_list)
    p = deps.add_parser("new", help="add a department entry (and a fixture test)")
    p.add_argument("--slug", required=True)
    p.add_argument("--university", required=True)
    p.add_argument("--department", required=True)
    p.add_argument("--category", required=True)
    p.add_argument("--url", required=True, help="the staff page (start URL)")
    p.add_argument("--render-js", choices=["auto", "true", "false"], default="auto")
    p.add_argument("--file", help="registry file to append to (default: the built-in one)")
    p.add_argument("--tests-dir", default="tests/departments", help="where the fixture test goes")
    p.set_defaults(func=cmd_departments_new)
    p = deps.add_parser("preview", help="show who a crawl of one page would collect (nothing is stored)")
    p.add_argument("url", help="a staff page")
    p.add_argument("--html", metavar="OUT", help="also write a self-contained page with each person's photo "
                   "thumbnail (photos are downloaded for it) and the skipped images with their reasons")
    p.add_argument("--follow", action="store_true", help="also read pagination and the people's own pages")
    p.add_argument("--render-js", choices=["auto", "true", "false"], default="auto")
    p.add_argument("--json", action="store_true", help="print the result as JSON on standard output")
    p.set_defaults(func=cmd_departments_preview)

    p = sub.add_parser("demo", help="build the local demo university from face photos, serve it, run the pipeline")
    p.add_argument("--people", type=int, default=12, help="people per department (default 12)")
    p.add_argument("--port", type=int, default=8765, help="0: any free port")
    p.add_argument("--faces", metavar="DIR", help="face photos as <person>/<photo>.jpg (default "
                   "../shared/data/faces/lfw, else the public LFW archive is downloaded)")
    p.add_argument("--nonface", metavar="DIR", help="decoy images (default ../shared/data/nonface, else generated)")
    p.add_argument("--models", default="probe", help="comma-separated: probe, cnn, vggface (default probe)")
    p.add_argument("--controls", default="all", help="confound controls: blur, lodo, all (default) or none")
    p.add_argument("--serve-only", action="store_true", help="only serve the site until Ctrl-C")
    add_recrawl_after(p)
    p.set_defaults(func=cmd_demo)
    return parser


PROJECT_DIRS = tuple(str(Path(__file__).resolve().parent.parent / d) + "/" for d in ("flows", "spiders", "ml", "infra"))


def _user_facing(exc: BaseException) -> bool:
    """Errors the project raises on purpose carry a message meant for the user: its own
    exception types, and ValueError/RuntimeError/KeyError raised by its own code."""
    own = type(exc).__module__.split(".")[0] in {"flows", "spiders", "ml", "infra"}
    if isinstance(exc, CliError) or (own and isinstance(exc, (ValueError, RuntimeError, KeyError))):
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    raised_here = tb is not None and tb.tb_frame.f_code.co_filename.startswith(PROJECT_DIRS)
    return raised_here and type(exc) in (ValueError, RuntimeError, KeyError)


def main(argv: list[str] | None = None) -> int:
    # Offline by default: Prefect's telemetry would only produce errors (set before Prefect loads).
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # Prefect's default of 20 s for the temporary API server is too short on a busy 2-core
    # machine (seen: the demo failed at start-up while other work ran); a slow start costs nothing.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not _user_facing(exc):
            raise
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"academic-faces: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""`academic-faces` command line. Heavy imports happen inside the commands, so `--help`
and light commands start fast."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_USAGE = 2


class CliError(Exception):
    """A user-facing error: printed without a traceback, exit code 1."""


def _settings(args):
    from infra.settings import load_settings

    settings = load_settings()
    departments = getattr(args, "departments", None)
    if departments:
        if not Path(departments).is_file():
            raise CliError(f"departments file {departments} does not exist")
        settings = settings.replace(departments_file=Path(departments).absolute())
    return settings


def _console():
    from rich.console import Console

    return Console(stderr=True)


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
    if args.dry_run:
        return _dry_run(departments, settings, args.parallel, console)
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
        console.print(f"[red]{r.slug} failed (exit {r.returncode}); end of its log:[/red]\n{r.log_tail[-1500:]}")
    return 1 if failed else 0


def _dry_run(departments, settings, parallel: int, console) -> int:
    """Show who a crawl would collect, without downloading photos or touching the store."""
    from rich.table import Table

    from flows.summaries import table_console

    from spiders.runner import crawl_departments

    results = crawl_departments(departments, settings, parallel=parallel, dry_run=True)
    for result in results:
        table = Table("name", "photo", "page", title=f"{result.slug}: {len(result.people)} people (dry run)")
        for person in result.people:
            table.add_row(person["name"], person["photo_url"], person["page_url"])
        table_console().print(table)
        if not result.ok:
            console.print(f"[red]{result.slug} failed (exit {result.returncode}):[/red]\n{result.log_tail[-1500:]}")
    return 0 if all(r.ok for r in results) else 1


# -- preprocess ------------------------------------------------------------------------------
def _split_config(args):
    from ml.split import SplitConfig

    try:
        train, test, validation = (float(x) for x in args.ratios.split(","))
    except ValueError:
        raise CliError(f"--ratios wants three numbers like 0.7,0.2,0.1, got {args.ratios!r}") from None
    if abs(train + test + validation - 1) > 1e-6 or min(train, test, validation) < 0:
        raise CliError(f"--ratios must be non-negative and sum to 1, got {args.ratios}")
    return SplitConfig(train=train, test=test, validation=validation, seed=args.seed, by=args.split_by)


def cmd_preprocess(args) -> int:
    from rich.progress import Progress

    from flows.summaries import preprocess_tables, table_console
    from infra.services import storage_settings
    from infra.store import ObjectStore
    from ml.preprocess import preprocess

    config = _split_config(args)
    with storage_settings(_settings(args)) as resolved:
        store = ObjectStore.from_settings(resolved)
        store.ensure_bucket()
        with Progress(console=_console(), transient=True) as progress:
            bar = progress.add_task("cropping", total=None)
            summary = preprocess(store, resolved, size=args.size, workers=args.workers, config=config,
                                 on_result=lambda r: progress.advance(bar))
    for table in preprocess_tables(summary):
        table_console().print(table)
    return 0


# -- train ---------------------------------------------------------------------------------
def cmd_train(args) -> int:
    from infra.services import storage_settings
    from infra.store import ObjectStore
    from ml.train import reproduce, train

    console = _console()
    config = {k: v for k, v in {"epochs": args.epochs, "seed": args.seed, "batch_size": args.batch_size,
                                "weights_path": args.weights,
                                "mixed_precision": args.mixed_precision or None}.items() if v is not None}
    if args.model == "probe":
        config = {k: v for k, v in config.items() if k == "seed"}

    def on_epoch(epoch: int, logs: dict) -> None:
        console.log(f"epoch {epoch + 1}: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(logs.items())
                                                      if isinstance(v, (int, float))))
    with storage_settings(_settings(args)) as resolved:
        store = ObjectStore.from_settings(resolved)
        if args.reproduce:
            run = reproduce(store, resolved, args.reproduce, on_epoch=on_epoch)
        else:
            run = train(store, resolved, args.model, config=config, on_epoch=on_epoch)
    print(json.dumps({"run": run.run_id, "kind": run.kind, "metrics": run.metrics}, indent=1, default=str))
    return 0


# -- evaluate --------------------------------------------------------------------------------
def cmd_evaluate(args) -> int:
    from ml.evaluate import evaluate_run

    metrics = _with_store(_settings(args), lambda store: evaluate_run(store, args.run, args.model))
    if args.json:
        print(json.dumps({k: v for k, v in metrics.items() if k != "examples"}, indent=1))
        return 0
    from rich.table import Table

    from flows.summaries import table_console

    table = Table("run", "n_test", "accuracy", "95% CI", "balanced acc.", "macro-F1", "chance", "majority",
                  "p (vs chance)", title="evaluation on the test split")
    table.add_row(metrics["run"], str(metrics["n_test"]), f"{metrics['accuracy']:.3f}",
                  f"{metrics['ci_low']:.3f}-{metrics['ci_high']:.3f}", f"{metrics['balanced_accuracy']:.3f}",
                  f"{metrics['macro_f1']:.3f}", f"{metrics['chance']:.3f}", f"{metrics['majority_baseline']:.3f}",
                  f"{metrics['p_value']:.4f}")
    table_console().print(table)
    return 0


# -- predict -------------------------------------------------------------------------------
def _run_folder(args, tmp: Path) -> Path:
    """A local folder with the chosen run's files (from --model-dir, or the object store)."""
    if args.model_dir:
        return Path(args.model_dir)
    from ml.runs import download_run, latest_run_id

    def fetch(store):
        return download_run(store, args.run or latest_run_id(store, args.model), tmp)
    return _with_store(_settings(args), fetch)


def cmd_predict(args) -> int:
    import tempfile

    from ml.predict import NoFaceFound, Predictor

    with tempfile.TemporaryDirectory(prefix="predict-") as tmp:
        predictor = Predictor(_run_folder(args, Path(tmp)))
        results, failed = [], 0
        for photo in args.photos:
            try:
                results.append(predictor.predict_photo(Path(photo).read_bytes(), photo))
            except (NoFaceFound, OSError) as exc:
                failed += 1
                print(f"academic-faces: error: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps([{"photo": r.source, "label": r.label, "probabilities": r.probabilities} for r in results],
                         indent=1))
    else:
        from rich.table import Table

        from flows.summaries import table_console

        table = Table("photo", "predicted", *predictor.labels, title=f"{predictor.kind} predictions")
        for r in results:
            table.add_row(r.source, r.label, *(f"{r.probabilities[k]:.3f}" for k in predictor.labels))
        table_console().print(table)
    return 1 if failed else 0


# -- index / store ---------------------------------------------------------------------------
def _with_store(settings, fn):
    from infra.services import open_store

    with open_store(settings) as store:
        return fn(store)


def cmd_index_export(args) -> int:
    from infra.index import read_merged_index, to_csv_bytes

    frame = _with_store(_settings(args), read_merged_index)
    data = to_csv_bytes(frame)
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
    summary = _with_store(_settings(args), lambda store: import_photos(
        store, manifest, args.slug, university=args.university))
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


# -- demo ------------------------------------------------------------------------------------
def cmd_demo(args) -> int:
    from flows.demo import run_demo

    return run_demo(people_per_department=args.people, port=args.port, data_dir=Path(args.data),
                    serve_only=args.serve_only, console=_console(), crawl_only=args.crawl_only)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="academic-faces", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("crawl", help="crawl department staff pages into the object store")
    p.add_argument("--departments", metavar="FILE", help="registry file replacing the built-in one")
    p.add_argument("--only", nargs="+", metavar="SLUG", help="crawl only these departments")
    p.add_argument("--parallel", type=int, default=4, help="departments crawled at once (default 4)")
    p.add_argument("--dry-run", action="store_true",
                   help="list the people that would be collected; download and store nothing")
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("preprocess", help="crop faces, group people, split train/test/validation")
    p.add_argument("--size", type=int, default=128, help="crop size in pixels (default 128)")
    p.add_argument("--workers", type=int, default=None, help="processes for cropping (default: all cores)")
    p.add_argument("--ratios", default="0.7,0.2,0.1", help="train,test,validation fractions")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split-by", choices=["person", "department"], default="person",
                   help="person: no person in two splits; department: every department in one split")
    p.set_defaults(func=cmd_preprocess)

    p = sub.add_parser("train", help="train a model on the preprocessed splits (a new run in models/)")
    p.add_argument("--model", choices=["cnn", "vggface", "probe"], default="probe")
    p.add_argument("--epochs", type=int, help="maximum epochs (cnn, vggface; default 100, early stopping)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--weights", help="vggface: path of rcmalli_vggface_tf_notop_vgg16.h5")
    p.add_argument("--mixed-precision", action="store_true", help="float16 compute (useful on GPUs)")
    p.add_argument("--reproduce", metavar="RUN", help="train again from RUN's config (same data required)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="metrics of a trained run on the test split (reports/<run>/metrics.json)")
    p.add_argument("--run", help="run id (default: the latest run of --model)")
    p.add_argument("--model", choices=["cnn", "vggface", "probe"], default="probe")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="crop the face in photos and print class probabilities")
    p.add_argument("photos", nargs="+", metavar="PHOTO")
    p.add_argument("--run", help="run id in models/ (default: the latest run of --model)")
    p.add_argument("--model", choices=["cnn", "vggface", "probe"], default="probe")
    p.add_argument("--model-dir", help="a local run folder (model file, labels.json, config.json)")
    p.add_argument("--json", action="store_true", help="JSON on standard output")
    p.set_defaults(func=cmd_predict)

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

    p = sub.add_parser("demo", help="build the local demo university from face photos, serve it, crawl it")
    p.add_argument("--people", type=int, default=12, help="people per department (default 12)")
    p.add_argument("--port", type=int, default=8765, help="0: any free port")
    p.add_argument("--data", default=str(Path(__file__).resolve().parent.parent.parent / "shared" / "data"),
                   help="folder with faces/lfw and nonface (default ../shared/data)")
    p.add_argument("--serve-only", action="store_true", help="only serve the site until Ctrl-C")
    p.add_argument("--crawl-only", action="store_true", help="stop after the crawl (no preprocess, no training)")
    p.set_defaults(func=cmd_demo)
    return parser


def _user_facing(exc: BaseException) -> bool:
    """Errors the project raises on purpose carry a message meant for the user."""
    own = type(exc).__module__.split(".")[0] in {"flows", "spiders", "ml", "infra"}
    return isinstance(exc, CliError) or (own and isinstance(exc, (ValueError, RuntimeError, KeyError)))


def main(argv: list[str] | None = None) -> int:
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

"""`academic-faces` commands of the ML stages: preprocess, train, evaluate, report, predict."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from flows.cli_common import CliError
from flows.cli_common import cli_settings as _settings
from flows.cli_common import err_console as _console
from flows.cli_common import with_store as _with_store


# -- preprocess ------------------------------------------------------------------------------
def _split_config(args):
    from ml.split import SplitConfig

    try:
        train, test, validation = (float(x) for x in args.ratios.split(","))
    except ValueError:
        raise CliError(f"--ratios wants three numbers like 0.7,0.2,0.1, got {args.ratios!r}") from None
    if abs(train + test + validation - 1) > 1e-6 or min(train, test, validation) < 0:
        raise CliError(f"--ratios must be non-negative and sum to 1, got {args.ratios}")
    from spiders.roles import resolve_roles

    try:
        roles = resolve_roles(args.roles)
    except ValueError as exc:
        raise CliError(f"--roles: {exc}") from None
    return SplitConfig(train=train, test=test, validation=validation, seed=args.seed, by=args.split_by, roles=roles)


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
    if args.tune < 0:
        raise CliError(f"--tune wants a number of search trials, 0 (no search) or more, got {args.tune}")
    if args.tune and args.reproduce:
        raise CliError("--tune and --reproduce do not go together: a reproduced run repeats its own search, if any")
    config = {k: v for k, v in {"epochs": args.epochs, "seed": args.seed, "batch_size": args.batch_size,
                                "weights_path": args.weights,
                                "mixed_precision": args.mixed_precision or None}.items() if v is not None}
    if args.model == "probe":
        config = {k: v for k, v in config.items() if k == "seed"}

    def on_epoch(epoch: int, logs: dict) -> None:
        console.log(f"epoch {epoch + 1}: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(logs.items())
                                                      if isinstance(v, (int, float))))

    def on_trial(number: int, params: dict, score: float) -> None:
        shown = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in params.items())
        console.log(f"trial {number + 1}/{args.tune}: inner score {score:.4f} ({shown})")
    with storage_settings(_settings(args)) as resolved:
        store = ObjectStore.from_settings(resolved)
        if args.reproduce:
            run = reproduce(store, resolved, args.reproduce, on_epoch=on_epoch, on_trial=on_trial)
        else:
            run = train(store, resolved, args.model, config=config, on_epoch=on_epoch, tune=args.tune,
                        on_trial=on_trial)
    print(json.dumps({"run": run.run_id, "kind": run.kind, "metrics": run.metrics}, indent=1, default=str))
    return 0


# -- evaluate / report ------------------------------------------------------------------------
def _number(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _interval(m: dict | None) -> str:
    if not m or m.get("status", "done") != "done":
        return "—" if not m else m["status"].replace("_", " ")
    return f"{m['accuracy']:.3f} ({m['ci_low']:.3f}-{m['ci_high']:.3f})"


def _excess(e: dict | None) -> str:
    return "—" if not e else f"{e['estimate']:+.3f} ({e['ci_low']:+.3f} to {e['ci_high']:+.3f})"


def cmd_evaluate(args) -> int:
    from infra.services import storage_settings
    from infra.store import ObjectStore
    from ml.evaluate import download_report, evaluate_run, parse_controls

    controls = parse_controls(args.controls)
    if not 0 < args.blur <= 0.5:
        raise CliError(f"--blur must be a fraction of the crop side in (0, 0.5], got {args.blur}")
    console = _console()
    with storage_settings(_settings(args)) as resolved:
        store = ObjectStore.from_settings(resolved)
        with console.status("evaluating") as status:
            metrics = evaluate_run(store, args.run, args.model, controls=controls, blur_sigma=args.blur,
                                   saliency={"auto": None, "on": True, "off": False}[args.saliency],
                                   on_step=lambda text: status.update(text))
        out = Path(args.out) if args.out else resolved.home / "reports" / metrics["run"]
        report = download_report(store, metrics["run"], out)
    if args.json:
        print(json.dumps({k: v for k, v in metrics.items() if k != "examples"}, indent=1))
    else:
        _print_evaluation(metrics)
    print(f"report: {report.absolute()}", file=sys.stderr)  # plain print: a path must not be wrapped
    return 0


def _print_evaluation(metrics: dict) -> None:
    from rich.table import Table

    from flows.summaries import table_console

    table = Table("run", "n_test", "accuracy", "95% CI", "balanced acc.", "macro-F1", "chance", "majority",
                  "p (vs chance)", title="evaluation on the test split")
    table.add_row(metrics["run"], str(metrics["n_test"]), f"{metrics['accuracy']:.3f}",
                  f"{metrics['ci_low']:.3f}-{metrics['ci_high']:.3f}", f"{metrics['balanced_accuracy']:.3f}",
                  f"{metrics['macro_f1']:.3f}", f"{metrics['chance']:.3f}", f"{metrics['majority_baseline']:.3f}",
                  f"{metrics['p_value']:.4f}")
    console = table_console()
    console.print(table)
    if metrics.get("excluded_trained_ids"):
        console.print(f"[yellow]left out: {metrics['excluded_trained_ids']} test photo(s) this run trained or "
                      "validated on (the splits changed since)[/yellow]")
    for name, control in metrics.get("controls", {}).items():
        console.print(f"[bold]{name.replace('_', ' ')}[/bold]: {control['finding']}")
    if metrics.get("tuning"):
        t = metrics["tuning"]
        console.print(f"[bold]tuning[/bold] ({t['n_trials']} trials): best inner score {t['best_inner_score']:.3f}, "
                      f"test accuracy {t['test_accuracy']:.3f}, gap {_number(t.get('gap'))}. {t['note']}")
    if metrics.get("verdict"):
        console.print(f"[bold]face or website?[/bold] {metrics['verdict']}: {metrics['verdict_reason']}")


COMPARE_ROWS = (("kind", lambda m: m["kind"]), ("data", lambda m: m["data_fingerprint"][:12]),
                ("n_test", lambda m: str(m["n_test"])), ("accuracy (95% CI)", _interval),
                ("balanced accuracy", lambda m: _number(m.get("balanced_accuracy"))),
                ("macro-F1", lambda m: _number(m.get("macro_f1"))), ("chance (1/K)", lambda m: _number(m["chance"])),
                ("majority class", lambda m: _number(m.get("majority_baseline"))),
                ("p (vs chance)", lambda m: _number(m["p_value"], 4)),
                ("face only", lambda m: _interval(m.get("controls", {}).get("face_only"))),
                ("context only", lambda m: _interval(m.get("controls", {}).get("context_only"))),
                ("photo style", lambda m: _interval(m.get("controls", {}).get("photo_style"))),
                ("blurred crops", lambda m: _interval(m.get("controls", {}).get("blur"))),
                ("leave-one-department-out",  # reports before the context controls named it in full
                 lambda m: _interval(m.get("controls", {}).get("lodo", m.get("controls", {}).get(
                     "leave_one_department_out")))),
                ("demographic baseline", lambda m: _interval(m.get("controls", {}).get("demographic"))),
                ("excess over demographic", lambda m: _excess(m.get("excess_over_demographic"))),
                ("face or website?", lambda m: m.get("verdict") or "-"))


def cmd_report_compare(args) -> int:
    from ml.evaluate import read_report_metrics

    reports = _with_store(_settings(args), lambda store: [read_report_metrics(store, r) for r in args.runs])
    if args.json:
        print(json.dumps([{k: v for k, v in m.items() if k != "examples"} for m in reports], indent=1))
        return 0
    from rich.table import Table

    from flows.summaries import table_console

    table = Table("", *(m["run"] for m in reports), title="runs side by side (test split)")
    for name, cell in COMPARE_ROWS:
        table.add_row(name, *(cell(m) for m in reports))
    table_console().print(table)
    if len({m["data_fingerprint"] for m in reports}) > 1:
        _console().print("[yellow]these runs were evaluated on different splits: compare with care")
    return 0


def cmd_report_get(args) -> int:
    from ml.evaluate import download_report
    from ml.runs import latest_run_id

    settings = _settings(args)

    def fetch(store):
        run = args.run or latest_run_id(store, args.model)
        return download_report(store, run, Path(args.out) if args.out else settings.home / "reports" / run)
    print(_with_store(settings, fetch).absolute())
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


def add_ml_commands(sub) -> None:
    p = sub.add_parser("preprocess", help="crop faces, group people, split train/test/validation")
    p.add_argument("--size", type=int, default=128, help="crop size in pixels (default 128)")
    p.add_argument("--workers", type=int, default=None, help="processes for cropping (default: all cores)")
    p.add_argument("--ratios", default="0.7,0.2,0.1", help="train,test,validation fractions")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--split-by", choices=["person", "department"], default="person",
                   help="person: no person in two splits; department: every department in one split")
    p.add_argument("--roles", default="all",
                   help="role classes kept in the splits: 'academic' (professor, researcher, doctoral, lecturer), "
                        "'all' (default), or a list like professor,lecturer (see spiders/roles.yaml)")
    p.set_defaults(func=cmd_preprocess)

    p = sub.add_parser("train", help="train a model on the preprocessed splits (a new run in models/)")
    p.add_argument("--model", choices=["cnn", "vggface", "probe"], default="probe")
    p.add_argument("--epochs", type=int, help="maximum epochs (cnn, vggface; default 100, early stopping)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--weights", help="vggface: path of rcmalli_vggface_tf_notop_vgg16.h5")
    p.add_argument("--mixed-precision", action="store_true", help="float16 compute (useful on GPUs)")
    p.add_argument("--reproduce", metavar="RUN", help="train again from RUN's config (same data required)")
    p.add_argument("--tune", type=int, default=0, metavar="N",
                   help="first search N hyper-parameter settings (seeded) with person-grouped validation on "
                        "train + validation only; the best trains the model (default 0: no search)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="metrics and report of a trained run on the test split (reports/<run>/)")
    p.add_argument("--run", help="run id (default: the latest run of --model)")
    p.add_argument("--model", choices=["cnn", "vggface", "probe"], default="probe")
    p.add_argument("--controls", default="none", metavar="LIST",
                   help="confound controls to run (they retrain the model): face_only, context_only, photo_style, "
                        "blur, lodo, demographic (perceived gender only), all or none (default)")
    p.add_argument("--blur", type=float, default=0.08, metavar="FRACTION",
                   help="blur control: Gaussian sigma as a fraction of the crop side (default 0.08)")
    p.add_argument("--saliency", choices=["auto", "on", "off"], default="auto",
                   help="where the model looks (occlusion maps; Grad-CAM for cnn/vggface) on a few test faces per "
                        "class; auto (default): with the controls")
    p.add_argument("--out", metavar="DIR", help="local copy of the report (default: <home>/reports/<run>)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(func=cmd_evaluate)

    report = sub.add_parser("report", help="evaluation reports").add_subparsers(dest="action", required=True)
    p = report.add_parser("compare", help="runs' reports side by side")
    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument("--json", action="store_true", help="print the runs' metrics as a JSON list")
    p.set_defaults(func=cmd_report_compare)
    p = report.add_parser("get", help="download a run's report (report.html, report.md, pictures)")
    p.add_argument("--run", help="run id (default: the latest run of --model)")
    p.add_argument("--model", choices=["cnn", "vggface", "probe"], default="probe")
    p.add_argument("--out", metavar="DIR", help="target folder (default: <home>/reports/<run>)")
    p.set_defaults(func=cmd_report_get)
    p = sub.add_parser("predict", help="crop the face in photos and print class probabilities")
    p.add_argument("photos", nargs="+", metavar="PHOTO")
    p.add_argument("--run", help="run id in models/ (default: the latest run of --model)")
    p.add_argument("--model", choices=["cnn", "vggface", "probe"], default="probe")
    p.add_argument("--model-dir", help="a local run folder (model file, labels.json, config.json)")
    p.add_argument("--json", action="store_true", help="JSON on standard output")
    p.set_defaults(func=cmd_predict)

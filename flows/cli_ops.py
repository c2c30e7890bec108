"""`academic-faces` commands that run the whole job: `run` (the pipeline flow) and the local
stack (`up`, `down`, `status`, `deploy`)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from flows.cli_common import CliError
from flows.cli_common import cli_settings as _settings
from flows.cli_common import err_console as _console
from flows.cli_common import with_store as _with_store

MODEL_KINDS = ("probe", "cnn", "vggface")


def parse_models(text: str) -> list[str]:
    models = [m.strip() for m in text.split(",") if m.strip()]
    unknown = sorted(set(models) - set(MODEL_KINDS))
    if not models or unknown:
        raise CliError(f"--models wants a comma-separated list of {', '.join(MODEL_KINDS)}; got {text!r}")
    return list(dict.fromkeys(models))


def stage_table(rows: list[dict]):
    from rich.table import Table

    table = Table("stage", "status", "seconds", "result", title="pipeline")
    for row in rows:
        out = row["outputs"]
        result = (f"accuracy {out['accuracy']:.3f} ({out['ci_low']:.3f}-{out['ci_high']:.3f}), chance "
                  f"{out['chance']:.3f}, p {out['p_value']:.3g}" if "accuracy" in out
                  else ", ".join(f"{k} {v}" for k, v in out.items()))
        table.add_row(row["stage"], row["status"], f"{row['seconds']:.1f}", result)
    return table


def use_fan_out_api(settings) -> str:
    """Fan-out needs a Prefect server with the deployments: PREFECT_API_URL, or the local stack's."""
    import os

    from infra.stack import LocalStack, api_healthy

    api_url = os.environ.get("PREFECT_API_URL") or LocalStack(settings).api_url
    if not api_url or not api_healthy(api_url):
        raise CliError("--fan-out runs departments on the work pool's workers: start them with `academic-faces up` "
                       "and `academic-faces deploy` (or set PREFECT_API_URL to a server with the deployments)")
    os.environ["PREFECT_API_URL"] = api_url  # before Prefect reads its settings
    return api_url


def cmd_run(args) -> int:
    settings = _settings(args)
    if args.fan_out:
        use_fan_out_api(settings)
    from flows.pipeline import pipeline
    from flows.summaries import table_console
    from ml.evaluate import download_report, parse_controls

    models = parse_models(args.models)
    parse_controls(args.controls)  # a clear error before anything runs
    from spiders.roles import resolve_roles

    try:
        resolve_roles(args.roles)
    except ValueError as exc:
        raise CliError(f"--roles: {exc}") from None
    departments_file = str(settings.departments_file) if args.departments else None
    result = pipeline(departments_file=departments_file, only=args.only, models=models, epochs=args.epochs,
                      controls=args.controls, fan_out=args.fan_out, recrawl_after_hours=args.recrawl_after,
                      force=args.force, roles=args.roles)
    table_console().print(stage_table(result["stages"]))
    reports = _with_store(settings, lambda store: [download_report(store, run, settings.home / "reports" / run)
                                                   for run in result["reports"]])
    for path in reports:
        print(f"report: {Path(path).absolute()}", file=sys.stderr)
    if args.json:
        print(json.dumps(result["stages"], indent=1, default=str))
    return 0


def cmd_up(args) -> int:
    from infra.stack import LocalStack

    stack = LocalStack(_settings(args))
    with _console().status("starting the object store, the Prefect server and workers"):
        state = stack.up(port=args.port, workers=args.workers, worker_limit=args.worker_limit)
    print(f"Prefect UI: {stack.ui_url()}")
    print(f"PREFECT_API_URL={state['prefect']['api_url']}")
    print(f"workers: {', '.join(w['name'] for w in state['workers'])} (pool academic-faces)")
    return 0


def cmd_down(args) -> int:
    from infra.stack import LocalStack

    stopped = LocalStack(_settings(args)).down()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def cmd_status(args) -> int:
    from rich.table import Table

    from flows.summaries import table_console
    from infra.stack import LocalStack

    rows = LocalStack(_settings(args)).status()
    table = Table("component", "pid", "state", "detail", title="local stack")
    for row in rows:
        table.add_row(row.name, str(row.pid or "—"), "running" if row.running else "stopped", row.detail)
    table_console().print(table)
    return 0 if all(r.running for r in rows) else 1


def cmd_deploy(args) -> int:
    import os

    from infra import prefect_api
    from infra.stack import LocalStack, prefect_env
    from spiders.registry import load_registry

    settings = _settings(args)
    api_url = os.environ.get("PREFECT_API_URL") or LocalStack(settings).api_url
    if not api_url:
        raise CliError("no Prefect server: run `academic-faces up`, or set PREFECT_API_URL")
    prefect_api.ensure_work_pool(api_url)
    prefect_api.ensure_zombie_automation(api_url)
    hosts = [h for d in load_registry(settings.departments_file) for h in d.allowed_domains]
    tags = prefect_api.ensure_site_limits(api_url, hosts)
    output = prefect_api.deploy(api_url, {**os.environ, **prefect_env(api_url)})
    names = sorted(set(re.findall(r"'([\w-]+/[\w-]+)'", output)))
    print(f"deployed to {api_url}: {', '.join(names) or output.strip()[-500:]}")
    print(f"concurrency limits (1 crawl per site): {', '.join(tags) or 'none'}")
    return 0


def add_recrawl_after(parser) -> None:
    parser.add_argument("--recrawl-after", type=float, default=12.0, metavar="HOURS",
                        help="skip the crawl when the same departments were crawled less than HOURS ago "
                             "(default 12; 0 always crawls)")


def add_ops_commands(sub) -> None:
    p = sub.add_parser("run", help="the whole job: crawl, preprocess, train, evaluate (unchanged stages skipped)")
    p.add_argument("--departments", metavar="FILE", help="registry file replacing the built-in one")
    p.add_argument("--only", nargs="+", metavar="SLUG", help="crawl only these departments")
    p.add_argument("--models", default="probe", help="comma-separated: probe, cnn, vggface (default probe)")
    p.add_argument("--epochs", type=int, help="maximum epochs for cnn/vggface")
    p.add_argument("--controls", default="none", help="confound controls: blur, lodo, all or none (default)")
    p.add_argument("--roles", default="all", help="role classes kept in the splits: academic, all (default) or a list")
    p.add_argument("--fan-out", action="store_true",
                   help="one crawl-department flow run per department on the work pool (needs `deploy`)")
    add_recrawl_after(p)
    p.add_argument("--force", action="store_true", help="run every stage even when its inputs did not change")
    p.add_argument("--json", action="store_true", help="print the stages as JSON")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("up", help="start the local stack: object store, Prefect server + UI, workers (127.0.0.1)")
    p.add_argument("--port", type=int, default=4200, help="Prefect API and UI port (default 4200; 0: any free)")
    p.add_argument("--workers", type=int, default=1, help="process workers on the academic-faces pool (default 1)")
    p.add_argument("--worker-limit", type=int, help="flow runs one worker runs at once (default: no limit)")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("down", help="stop the local stack started by `up`")
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("status", help="state of the local stack's components")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("deploy", help="apply prefect.yaml (deployments, schedules) to the stack's Prefect server")
    p.add_argument("--departments", metavar="FILE", help="registry whose sites get per-site crawl limits")
    p.set_defaults(func=cmd_deploy)

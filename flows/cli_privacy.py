"""`academic-faces forget` (removal requests) and `academic-faces audit` (what was removed, when)."""
from __future__ import annotations

import dataclasses
import json

from flows.cli_common import CliError
from flows.cli_common import cli_settings as _settings
from flows.cli_common import with_store as _with_store


def cmd_forget(args) -> int:
    from ml.forget import forget

    if sum(bool(v) for v in (args.id, args.name, args.url)) != 1:
        raise CliError("give exactly one of --id, --name or --url")
    if args.university and not args.name:
        raise CliError("--university narrows --name only")
    settings = _settings(args)
    result = _with_store(settings, lambda store: forget(
        store, image_id=args.id, name=args.name, university=args.university, url=args.url, dry_run=args.dry_run,
        reason=args.reason, pseudonym_key=settings.pseudonym_key if settings.pseudonymise_names else None))
    if args.json:
        print(json.dumps(dataclasses.asdict(result), indent=1))
        return 0
    verb = "would delete" if result.dry_run else "deleted"
    print(f"{len(result.ids)} photo(s) matched ({result.index_rows} index row(s)); {verb} "
          f"{len(result.objects)} object(s): " + (", ".join(f"{k} {n}" for k, n in sorted(result.counts().items()))
                                                 or "none"))
    if result.dry_run:
        for key in result.objects:
            print(f"  {key}")
    print("rows in " + ", ".join(f"{k.rsplit('/', 1)[-1]} {n}" for k, n in result.csv_rows.items()))
    if result.reports:
        print(f"report pictures {'to remove' if result.dry_run else 'removed'} (they showed the photos): "
              f"{', '.join(result.reports)}; `academic-faces evaluate --run RUN` makes new ones")
    if result.runs:
        kinds = sorted({r.split("-", 1)[0] for r in result.runs})
        print(f"models trained on the removed data (they cannot be untrained): {', '.join(result.runs)}")
        print("retrain without them: academic-faces preprocess && " +
              " && ".join(f"academic-faces train --model {k}" for k in kinds))
    if result.runs_unknown:
        print(f"runs without a list of their training photos (may include them): {', '.join(result.runs_unknown)}")
    if not result.dry_run:
        print(f"denylist: {result.denylist_added} new entr{'y' if result.denylist_added == 1 else 'ies'} "
              f"(never collected again); audit: {result.audit_key}")
    return 0


def cmd_audit(args) -> int:
    from infra.privacy import read_audit

    entries = _with_store(_settings(args), read_audit)
    print(json.dumps(entries, indent=1))
    return 0


def add_privacy_commands(sub) -> None:
    p = sub.add_parser("forget", help="remove a photo, a person or a URL everywhere and never collect it again")
    p.add_argument("--id", help="a photo id (raw/images/<id>.*)")
    p.add_argument("--name", help="a person's name (every photo of them)")
    p.add_argument("--university", help="with --name: only at this university")
    p.add_argument("--url", help="a photo or page URL")
    p.add_argument("--reason", default="removal request", help="recorded in the denylist and the audit log")
    p.add_argument("--dry-run", action="store_true", help="show what would be deleted; change nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_forget)
    p = sub.add_parser("audit", help="the audit log of removals (counts and hashes, no personal data)")
    p.set_defaults(func=cmd_audit)

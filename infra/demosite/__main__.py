"""Command line: ``python -m infra.demosite build OUT`` / ``serve OUT --port P``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# The shared test data lives beside the project: <project>/../shared/data
_DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.demosite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="generate the demo site and its ground truth")
    build.add_argument("out", type=Path)
    build.add_argument("--people-per-department", type=int, default=8)
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--data", type=Path, default=_DEFAULT_DATA, help="shared data folder (faces/, nonface/)")
    serve = sub.add_parser("serve", help="serve a built site until Ctrl-C")
    serve.add_argument("out", type=Path)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--registry", type=Path, help="also write the department registry YAML here")
    args = parser.parse_args(argv)

    from .generator import build_site
    from .server import DemoServer
    from .truth import GroundTruth

    if args.command == "build":
        truth = build_site(args.out, args.data / "faces", args.data / "nonface",
                           people_per_department=args.people_per_department, seed=args.seed)
        bad = sum(len(v) for v in truth.bad_inputs.values())
        print(f"built {args.out}: {len(truth.people)} people in {len(truth.departments)} departments, "
              f"{len(truth.disallowed_people)} disallowed, {len(truth.decoy_paths)} decoys, {bad} bad inputs")
        return 0

    server = DemoServer(args.out, host=args.host, port=args.port)
    if args.registry:
        args.registry.write_text(GroundTruth.load(args.out).departments_yaml(server.base_url), encoding="utf-8")
    print(f"serving {args.out} at {server.base_url}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

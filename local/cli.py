"""The `spapi-lake` command."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from deployment.errors import DeploymentError
from local.prerequisites import PrerequisiteError
from sandbox.faults import FAULTS, Faults, FaultSpecError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spapi-lake", description="SP-API data lake producer (offline runtime).")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="run the whole pipeline offline on small synthetic data")
    sandbox = commands.add_parser("sandbox", help="the offline SP-API")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser("serve", help="serve the sandbox in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8900)
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--scale", type=float, default=1.0)
    serve.add_argument("--time-scale", type=float, default=1.0, help="speed up the report lifecycle this many times")
    serve.add_argument("--token-lifetime", type=int, default=3600, help="LWA access-token lifetime in seconds")
    serve.add_argument(
        "--faults",
        default="",
        help=f"fault spec, e.g. server_error=0.05,truncated_document; known: {', '.join(sorted(FAULTS))}",
    )
    serve.add_argument("--no-rate-limits", action="store_true", help="serve every call (benchmarks)")
    check = commands.add_parser("curate-file", help="parse and validate one report file as the curation job would")
    check.add_argument("--report-type", required=True)
    check.add_argument("--marketplace", required=True, help="marketplace id, e.g. A1PA6795UKMFR9")
    check.add_argument("--charset", default="utf-8", help="the file's charset: utf-8, cp1252 (EU), cp932 (JP)")
    check.add_argument("file", type=Path)
    simulate = commands.add_parser("simulate", help="run the pipeline offline day after day, checking every day")
    simulate.add_argument("--days", type=int, default=7)
    simulate.add_argument("--faults", default="",
                          help="fault spec as for the sandbox, plus glue_crash, landing_crash, load_crash")  # fmt: skip
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--start", type=date.fromisoformat, help="first simulated day (default: 30 days ago)")
    simulate.add_argument("--out", type=Path, default=Path("out"), help="where spapi_lake.duckdb is left")
    simulate.add_argument("--json", type=Path, help="also write each day's results to this JSON file")
    query = commands.add_parser(
        "query", help="Athena SQL over the lake, as a Lake Formation role (offline: the demo's)"
    )
    query.add_argument("sql", nargs="?", help="one Athena SQL statement (tables and views by their names)")
    query.add_argument("--as", dest="role", default="analyst", help="analyst (default), admin or curation")
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")
    query.add_argument("--list", action="store_true", help="name the tables and views the role can read")
    query.add_argument("--lake", type=Path, default=Path("out/spapi_lake.duckdb"), help="the lake the demo left")
    query.add_argument("--athena", action="store_true", help="run on AWS through the analysts' Athena workgroup")
    query.add_argument("--prefix", default="spapi-lake", help="with --athena: the deployment's stack prefix")
    deploy = commands.add_parser("deploy", help="package and deploy the entry stack to AWS (your credentials, region)")
    deploy.add_argument("--artifacts-bucket", required=True, help="bucket for the code and templates (made if missing)")
    deploy.add_argument("--prefix", default="spapi-lake")
    deploy.add_argument("--accounts", type=Path, help="JSON account registry (see the README)")
    deploy.add_argument(
        "--warehouse",
        action="store_true",
        help="also Redshift Serverless and its loader (cloudformation/warehouse.yaml; costs, README)",
    )
    deploy.add_argument(
        "--bi",
        metavar="QUICKSIGHT_PRINCIPAL_ARN",
        help="also QuickSight (cloudformation/bi.yaml) shared with this user or group ARN",
    )
    deploy.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PARAMETER=VALUE",
        help="any other parameter of cloudformation/main.yaml, e.g. SubnetIds=subnet-1,subnet-2 (repeatable)",
    )
    destroy = commands.add_parser("destroy", help="delete the entry stack; says what it keeps and why")
    destroy.add_argument("--prefix", default="spapi-lake")
    destroy.add_argument("--artifacts-bucket", help="the bucket deploy used (named in what is kept)")
    destroy.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    status = commands.add_parser("status", help="ledger by state, last landing and curation per dataset, blocked "
                                 "datasets, dead-lettered notifications")  # fmt: skip
    status.add_argument("--prefix", default="spapi-lake")
    status.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    redrive = commands.add_parser("redrive", help="move dead-lettered notifications back to the notifications queue")
    redrive.add_argument("--prefix", default="spapi-lake")
    return parser


def _curate_file(args: argparse.Namespace) -> int:
    import json  # noqa: PLC0415

    from glue_jobs.errors import UnknownRawNameError, UnreadableObjectError  # noqa: PLC0415
    from local.curate_file import curate_file  # noqa: PLC0415
    from local.spark import local_spark  # noqa: PLC0415

    if not args.file.is_file():
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return 2
    try:
        result = curate_file(local_spark(), args.report_type, args.marketplace, args.file, args.charset)
    except UnknownRawNameError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except UnreadableObjectError as err:  # one line naming the file and what is wrong, no traceback
        print(f"error: {args.file}: unreadable ({err.kind}): {err}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


def _simulate(args: argparse.Namespace) -> int:
    import json  # noqa: PLC0415

    from local.simulate import as_json, simulate  # noqa: PLC0415

    run = simulate(args.days, args.faults, args.seed, args.start, out_dir=args.out)
    if args.json:
        document = {"days": [as_json(r) for r in run.days],
                    "log_scan": {"lines": run.log_lines, "secrets_found": run.leaked}}  # fmt: skip
        args.json.write_text(json.dumps(document, indent=1))
    database = args.out / "spapi_lake.duckdb"
    print(f"{len(run.days)} days simulated, {run.differences} differences from the ground truth, "
          f"secrets in the logs: {', '.join(run.leaked) or 'none'}; curated tables in {database}")  # fmt: skip
    return 1 if run.differences or run.leaked else 0


def _query(args: argparse.Namespace) -> int:
    import csv  # noqa: PLC0415
    import json  # noqa: PLC0415

    import duckdb  # noqa: PLC0415

    from local.governed import QueryError, listing, offline_session  # noqa: PLC0415

    if not args.list and not args.sql:
        print("error: give an SQL statement, or --list", file=sys.stderr)
        return 2
    try:
        if args.athena:
            from deployment.athena import AthenaQueryError, deployed_outputs, role_session, run  # noqa: PLC0415
            from ingestion_lambdas import aws  # noqa: PLC0415
            from lake_formation.governance import ROLE_OUTPUTS  # noqa: PLC0415

            if args.list or args.role not in ROLE_OUTPUTS:
                raise QueryError(f"--athena runs one statement as {', '.join(ROLE_OUTPUTS)}")
            try:
                found = deployed_outputs(aws.client("cloudformation"), args.prefix)
                role = role_session(aws.client("sts"), found[ROLE_OUTPUTS[args.role]])
                rows = run(role.client("athena"), args.sql, found["AthenaWorkgroup"], found["CatalogDatabaseName"])
            except (AthenaQueryError, KeyError) as err:
                raise QueryError(f"Athena: {err}") from None
            names = list(rows[0]) if rows else []
            values = [tuple(r.values()) for r in rows]
        else:
            session = offline_session(args.lake, args.role)
            if args.list:
                for kind, name, description in listing(session):
                    print(f"{kind:5}  {name:28}  {description}")
                return 0
            relation = session.query(args.sql)
            if args.format == "table":
                print(relation)
                return 0
            names, values = [d[0] for d in relation.description], relation.fetchall()
    except duckdb.Error as err:  # raised while the rows are read (a cast that fails on a value, say)
        print(f"error: {str(err).splitlines()[0]}", file=sys.stderr)
        return 1
    except QueryError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps([dict(zip(names, row, strict=True)) for row in values], default=str))
    else:
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows(values)
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox.app import SandboxConfig  # noqa: PLC0415 - the sandbox's imports only for its command
    from sandbox.server import PortInUseError, serve_forever  # noqa: PLC0415

    config = SandboxConfig(
        seed=args.seed,
        scale=args.scale,
        time_scale=args.time_scale,
        token_lifetime_s=args.token_lifetime,
        rate_limits=not args.no_rate_limits,
        faults=Faults.parse(args.faults, args.seed),
    )
    try:
        serve_forever(config, args.host, args.port)
    except PortInUseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _demo(args: argparse.Namespace) -> int:
    from local.demo import run_demo  # noqa: PLC0415 - heavy imports only for the command that needs them

    run_demo()
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from deployment.stacks import deploy  # noqa: PLC0415

    overrides = {"QuickSightPrincipalArn": args.bi} if args.bi else {}
    for setting in args.set:
        parameter, _, value = setting.partition("=")
        if not (parameter and value):
            print(f"error: --set {setting!r}: expected PARAMETER=VALUE", file=sys.stderr)
            return 2
        overrides[parameter.rpartition(".")[2]] = value  # STACK.PARAMETER (before the entry stack) still works
    optional = frozenset({"warehouse"} if args.warehouse else set()) | frozenset({"bi"} if args.bi else set())
    for key, value in sorted(deploy(args.prefix, args.artifacts_bucket, args.accounts, optional, overrides).items()):
        print(f"{key}: {value}")
    return 0


def _destroy(args: argparse.Namespace) -> int:
    from deployment.stacks import destroy  # noqa: PLC0415

    if not args.yes and input(f"delete the stack {args.prefix} and every part of it? [y/N] ").strip().lower() != "y":
        print("nothing deleted")
        return 1
    kept = destroy(args.prefix, args.artifacts_bucket)
    print(f"deleted {args.prefix}; kept:")
    for item in kept:
        print(f"  {item.kind} {item.name}: {item.reason}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from deployment.operations import status  # noqa: PLC0415
    from deployment.stacks import stack_outputs  # noqa: PLC0415
    from ingestion_lambdas import aws  # noqa: PLC0415

    found = status(stack_outputs(aws.client("cloudformation"), args.prefix))
    print(found.as_json() if args.json else "\n".join(found.lines()))
    return 0


def _redrive(args: argparse.Namespace) -> int:
    from deployment.operations import redrive  # noqa: PLC0415
    from deployment.stacks import stack_outputs  # noqa: PLC0415
    from ingestion_lambdas import aws  # noqa: PLC0415

    moved, refused = redrive(stack_outputs(aws.client("cloudformation"), args.prefix))
    print(f"moved {moved} notification{'s' * (moved != 1)} back to the notifications queue")
    if refused:
        print(f"error: the queue refused {refused}; they stay dead-lettered (run redrive again)", file=sys.stderr)
        return 1
    return 0


COMMANDS = {"demo": _demo, "sandbox": _sandbox, "curate-file": _curate_file, "simulate": _simulate, "query": _query,
            "deploy": _deploy, "destroy": _destroy, "status": _status, "redrive": _redrive}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (PrerequisiteError, FaultSpecError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except DeploymentError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as err:  # no credentials, no such stack or queue, access denied
        print(f"error: AWS: {err}", file=sys.stderr)
        return 2
    except (RuntimeError, TimeoutError) as err:  # a demo or simulated day that failed: its reason, not a traceback
        print(f"failed: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

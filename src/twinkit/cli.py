"""``twinkit …``: the command line. Each command lives with the code it drives; this is the index.

Every failure a user can cause ends with exit status 1 (or 2 for usage) and one
readable line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from twinkit.model.errors import TwinkitError

# command name -> "module:function"; each function takes the parsed args, returns an exit code
COMMANDS: dict[str, str] = {
    "serve": "twinkit.server:serve_command",
    "demo": "twinkit.server:demo_command",
    "simulate": "twinkit.simulation.devices:simulate_command",
    "models": "twinkit.dtdl.commands:models_command",
    "query": "twinkit.query.commands:query_command",
    "rules": "twinkit.rules.commands:rules_command",
    "auth": "twinkit.access.commands:auth_command",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="twinkit", description="A Python-native twin platform.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_server_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", default="twinkit.db", help="SQLite file (default ./twinkit.db)")
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
        mqtt = p.add_mutually_exclusive_group()
        mqtt.add_argument("--mqtt", metavar="URL", help="external broker, mqtt:// or mqtts://")
        mqtt.add_argument("--broker-port", type=int, default=1883, help="embedded broker port")
        mqtt.add_argument("--no-mqtt", action="store_true", help="turn MQTT off")
        p.add_argument("--auth", metavar="PATH", help="identities, policies and OIDC settings")
        p.add_argument("--rules", metavar="PATH", help="rules and anomaly detection (YAML/JSON)")
        p.add_argument(
            "--ingest", metavar="PATH", help="MQTT limits, auto-create rules, payload mappers"
        )

    add_server_flags(sub.add_parser("serve", help="run the platform"))
    demo = sub.add_parser("demo", help="run the platform with a simulated fleet")
    add_server_flags(demo)
    demo.set_defaults(db="twinkit-demo.db")

    simulate = sub.add_parser("simulate", help="simulated devices publishing over MQTT")
    simulate.add_argument("--mqtt", default="mqtt://127.0.0.1:1883")
    simulate.add_argument("--model", help="DTDL file of the devices' model")
    simulate.add_argument("--count", type=int, default=10)
    simulate.add_argument("--rate", type=float, default=1.0, help="messages per second per device")
    simulate.add_argument("--prefix", default="sim-")
    simulate.add_argument("--duration", type=float, default=0.0, help="seconds, 0 = forever")

    models = sub.add_parser("models", help="validate or import DTDL models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    validate = models_sub.add_parser("validate", help="check DTDL files or folders")
    validate.add_argument("paths", nargs="+")
    imp = models_sub.add_parser("import", help="import DTDL files or folders into a platform")
    imp.add_argument("paths", nargs="+")
    imp.add_argument("--db", default="twinkit.db")
    imp.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")

    query = sub.add_parser("query", help="run a query against a server or a db file")
    query.add_argument("text")
    query.add_argument("--db", default="twinkit.db")
    query.add_argument("--url", help="a running server, e.g. http://127.0.0.1:8000")
    query.add_argument("--json", action="store_true", help="print JSON instead of a table")

    from twinkit.access.commands import add_auth_parser
    from twinkit.rules.commands import add_rules_parser

    add_rules_parser(sub)
    add_auth_parser(sub)
    return parser


def _load(target: str) -> Callable[[argparse.Namespace], int]:
    module_name, function = target.split(":")
    module = importlib.import_module(module_name)
    command: Callable[[argparse.Namespace], int] = getattr(module, function)
    return command


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _load(COMMANDS[args.command])(args)
    except TwinkitError as exc:
        print(f"twinkit: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"twinkit: {exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

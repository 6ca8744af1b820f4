"""bin/stack up | down | status | logs NAME | restart NAME | env | kill NAME | rolling-restart"""

from __future__ import annotations

import argparse
import subprocess
import sys

from . import config, stack
from .service import StackError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/stack", description="The portal's local servers.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (("up", "install what is missing and start"), ("down", "stop what the stack started"),
                       ("restart", "stop, then start")):
        sub.add_parser(name, help=text).add_argument("names", nargs="*", metavar="NAME")
    sub.add_parser("status", help="a table: server, version, URL, up or down")
    logs = sub.add_parser("logs", help="the tail of one server's log")
    logs.add_argument("name")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=int, default=50)
    sub.add_parser("kill", help="SIGKILL one server, leaving its pid/lock files (crash drill)").add_argument("name")
    sub.add_parser("env", help="print the URLs as shell exports, for the portal's settings")
    sub.add_parser("rolling-restart", help="LB=1: restart web1 then web2, each back in the pool before the next")
    args = parser.parse_args(argv)

    try:
        if args.command == "up":
            stack.up(args.names or None)
        elif args.command == "down":
            stack.down(args.names or None)
        elif args.command == "restart":
            stack.restart(args.names or stack.default())
        elif args.command == "status":
            rows = [("SERVER", "VERSION", "URL", "STATE"), *stack.status()]
            widths = [max(len(row[i]) for row in rows) for i in range(4)]
            for row in rows:
                print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        elif args.command == "logs":
            server = stack.service(args.name)
            tail = ["tail", "-n", str(args.lines)] + (["-F"] if args.follow else [])
            return subprocess.call([*tail, str(server.log_file)])
        elif args.command == "kill":
            stack.service(args.name).kill()
        elif args.command == "rolling-restart":
            stack.rolling_restart()
        elif args.command == "env":
            for key, value in config.URLS.items():
                print(f"export {key}={value}")
    except StackError as error:
        print(f"[stack] error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The `minigan` command line: `minigan list | gradcheck | bench`."""
import argparse
import sys

from minigan import backend


def _cmd_list(args):
    import minigan as mg
    from minigan.gradcheck import registry
    print("devices:  cpu" + ("  cuda" if mg.cuda.is_available() else "  (cuda: not available)"))
    print(f"ops with gradient checks ({len(registry.registered_ops())}): " + ", ".join(registry.registered_ops()))
    return 0


def _cmd_gradcheck(args):
    from tqdm import tqdm

    from minigan.gradcheck import checks, run_registry_check
    device = backend.check_device(args.device)
    selected = checks(args.op) if args.op else checks()
    rows, failures = [], 0
    for check in tqdm(selected, desc="gradcheck", unit="case", disable=not sys.stderr.isatty()):
        first, second = run_registry_check(check, device=device, second_order=args.second_order)
        passed = first.passed and (second is None or second.passed)
        failures += not passed
        rows.append((check.op, check.case, first, second, passed))
        if not passed and args.verbose:
            print((first.message if not first.passed else second.message), file=sys.stderr)
    _print_gradcheck_table(rows, args.second_order)
    print(f"\n{len(rows) - failures} passed, {failures} failed ({device}, float64"
          f"{', first and second order' if args.second_order else ', first order'})")
    return 1 if failures else 0


def _print_gradcheck_table(rows, second_order):
    def err(result, field):
        return "-" if result is None else f"{getattr(result, field):.1e}"
    header = f"{'op':<34} {'case':<42} {'abs err':>8} {'rel err':>8}"
    if second_order:
        header += f" {'2nd abs':>8} {'2nd rel':>8}"
    print(header + "  pass")
    for op, case, first, second, passed in rows:
        line = f"{op:<34} {case[:42]:<42} {err(first, 'max_abs_error'):>8} {err(first, 'max_rel_error'):>8}"
        if second_order:
            line += f" {err(second, 'max_abs_error'):>8} {err(second, 'max_rel_error'):>8}"
        print(line + ("  ok" if passed else "  FAIL"))


def _cmd_bench(args):
    from minigan import bench
    bench.run(device=args.device, compare=args.compare, json_path=args.json, repeats=args.repeats,
              quick=args.quick)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="minigan", description="minigan: autograd, layers and GANs on NumPy/CuPy")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="devices and the ops with gradient checks").set_defaults(run=_cmd_list)

    check = commands.add_parser("gradcheck", help="run the finite-difference checks of every op")
    check.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    check.add_argument("--op", help="check one op only, e.g. conv2d")
    check.add_argument("--second-order", action="store_true", help="also check second derivatives")
    check.add_argument("-v", "--verbose", action="store_true", help="print the report of each failure")
    check.set_defaults(run=_cmd_gradcheck)

    bench = commands.add_parser("bench", help="time the DCGAN conv layers, against PyTorch if installed")
    bench.add_argument("--device", default="cpu")
    bench.add_argument("--compare", default="torch", choices=["torch", "none"])
    bench.add_argument("--json", help="also write the results to this JSON file")
    bench.add_argument("--repeats", type=int, default=20)
    bench.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    bench.set_defaults(run=_cmd_bench)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, RuntimeError, KeyError) as error:
        print(f"minigan {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

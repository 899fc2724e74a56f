"""The `minigan` command line: `minigan list | train | sample | eval | gradcheck | bench`."""
import argparse
import sys

from minigan import backend


def _cmd_list(args):
    import minigan as mg
    from minigan import gans
    from minigan.gradcheck import registry
    print("devices:  cpu" + ("  cuda" if mg.cuda.is_available() else "  (cuda: not available)"))
    print("variants:")
    width = max(len(name) for name in gans.names())
    for name in gans.names():
        print(f"  {name:<{width}}  {gans.summary(name)}")
    print("datasets: " + ", ".join(mg.data.DATASETS))
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


def _cmd_train(args):
    from minigan import train
    settings = dict(batch_size=args.batch_size or 0, seed=args.seed, device=backend.check_device(args.device),
                    data_dir=args.data_dir, sample_every=args.sample_every,
                    checkpoint_every=args.checkpoint_every, options=_parse_options(args.set))
    out = args.out or f"runs/{args.variant}-{args.dataset}"
    if args.resume:
        run = train.Run(out, train.RunConfig(args.variant, args.dataset, args.steps, **settings), resume=True)
    else:
        run = train.Run(out, train.RunConfig(args.variant, args.dataset, args.steps, **settings))
    try:
        run.train(progress=not args.quiet)
    except KeyboardInterrupt:
        return 130
    print(f"done: {run.step} steps in {out} (samples/, metrics.jsonl, losses.png, checkpoint.npz)")
    return 0


def _parse_options(pairs):
    """--set lr=1e-4 --set betas=0.5,0.9 -> {"lr": 0.0001, "betas": (0.5, 0.9)}."""
    options = {}
    for pair in pairs or ():
        if "=" not in pair:
            raise ValueError(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        parts = [_number(v) for v in value.split(",")]
        options[key] = tuple(parts) if len(parts) > 1 else parts[0]
    return options


def _number(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _positive_int(text):
    """argparse type for sample counts: the message names the bad value."""
    value = _number(text)
    if not isinstance(value, int) or value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _batch_sizes(text):
    """argparse type for --batch: "64,256" -> (64, 256)."""
    return tuple(_positive_int(part) for part in text.split(","))


def _cmd_sample(args):
    import numpy as np

    import minigan as mg
    from minigan import train, viz
    run = train.load_run(args.run_dir, device=args.device)
    mg.manual_seed(args.seed)
    samples = backend.as_numpy(run.variant.generate(run.variant.sample_noise(args.n)).data).astype(np.float32)
    if run.spec.is_image:
        samples = (samples + 1.0) / 2.0  # [-1, 1] -> [0, 1]
    if args.npy:
        np.save(args.npy, samples)
    if args.png:
        if run.spec.is_image:
            viz.save_image_grid(samples, args.png, value_range=(0, 1))
        else:
            viz.save_toy_scatter(samples, args.png, centers=mg.data.toy(run.config.dataset).centers)
    print(f"{args.n} samples from {args.run_dir} (step {run.step})"
          + (f" -> {args.npy}" if args.npy else "") + (f" -> {args.png}" if args.png else ""))
    return 0


def _cmd_eval(args):
    import json

    from minigan import evaluate
    results = evaluate.evaluate_run(args.run_dir, n=args.n, device=args.device)
    print(evaluate.format_results(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


def _cmd_bench(args):
    from minigan import bench
    bench.run(device=args.device, compare=args.compare, sections=args.sections.split(","), batches=args.batch,
              repeats=args.repeats, json_path=args.json, png_path=args.png, quick=args.quick)
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

    train = commands.add_parser("train", help="train a GAN variant (see `minigan list`)")
    train.add_argument("variant", help="gan, dcgan, wgan-gp, ... (`minigan list` shows them all)")
    train.add_argument("--dataset", default="mnist",
                       help="mnist (default), fashion-mnist, stacked-mnist, or a 2-D toy: ring8, grid25, spiral")
    train.add_argument("--steps", type=int, default=2000,
                       help="generator steps to train (default 2000); with --resume, the total to reach")
    train.add_argument("--batch-size", type=int, default=0, help="default: the variant's")
    train.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    train.add_argument("--seed", type=int, default=0, help="seeds the weights, noise and data order (default 0)")
    train.add_argument("--out", help="run directory (default runs/VARIANT-DATASET)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --out from its checkpoint, with its saved settings (only --steps may change)")
    train.add_argument("--data-dir", help="folder with MNIST IDX files (default: $MINIGAN_DATA or the embedded subset)")
    train.add_argument("--sample-every", type=int, default=500,
                       help="write samples/step_XXXXXX.png every N steps and at the end (default 500; 0: at the end only)")
    train.add_argument("--checkpoint-every", type=int, default=500,
                       help="write checkpoint.npz every N steps, at the end and on Ctrl-C (default 500; 0: not every N)")
    train.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override a hyperparameter, repeatable: --set lr=1e-4 --set betas=0.5,0.9; "
                            "--set ema=0.999 (sample from a weight average), --set lr_schedule=linear")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_cmd_train)

    sample = commands.add_parser("sample", help="draw samples from a trained run")
    sample.add_argument("run_dir", help="a folder written by `minigan train`")
    sample.add_argument("-n", type=_positive_int, default=64, help="how many samples (default 64)")
    sample.add_argument("--png", help="write a grid (images) or a scatter plot (2-D toys)")
    sample.add_argument("--npy", help="write float32 samples: images (N, C, H, W) in [0, 1], toys (N, 2)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    sample.add_argument("--device", default=None, help="cpu or cuda (default: the run's)")
    sample.set_defaults(run=_cmd_sample)

    evaluate = commands.add_parser("eval", help="the run's metrics, as a table (and JSON)")
    evaluate.add_argument("run_dir", help="a folder written by `minigan train`")
    evaluate.add_argument("-n", type=_positive_int, default=None, help="samples to evaluate (default per dataset)")
    evaluate.add_argument("--json", help="also write the results to this file")
    evaluate.add_argument("--device", default=None, help="cpu or cuda (default: the run's)")
    evaluate.set_defaults(run=_cmd_eval)

    bench = commands.add_parser("bench", help="time ops, training steps and memory against PyTorch")
    bench.add_argument("--device", default="cpu", help="cpu, or cuda (times our kernels, the im2col path and torch)")
    bench.add_argument("--compare", default="torch", choices=["torch", "none"], help="the peer (default torch)")
    bench.add_argument("--sections", default="ops,steps,memory", help="any of ops,steps,memory (default all)")
    bench.add_argument("--batch", type=_batch_sizes, help="batch sizes of the conv cases, e.g. 64,256 (default 64; cuda 64,256); "
                                       "the training steps use the first")
    bench.add_argument("--repeats", type=int, default=15, help="timed calls per engine (median reported)")
    bench.add_argument("--json", help="also write the results to this JSON file")
    bench.add_argument("--png", help="also draw the ratios as a bar chart PNG")
    bench.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
    bench.set_defaults(run=_cmd_bench)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, RuntimeError, KeyError, FileNotFoundError, NotADirectoryError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error   # no repr quotes
        print(f"minigan {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

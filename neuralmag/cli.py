"""The ``neuralmag`` command line.

.. code-block:: text

    neuralmag --help
    neuralmag kernels exchange --dim 3 --backend torch     # print the generated kernels of a term
    neuralmag kernels mypackage.terms:MyExchange --dim 2    # a user-defined term, as module:ClassName
    neuralmag demo sp4 --backend jax --out results          # µMAG SP4 (demos/sp4.py)
    neuralmag demo relax --backend jax --out results        # run demos/relax_field_demo.py
    neuralmag demo sp3 --quick                              # any validation demo: sp3, sp5, dmi, ...
    neuralmag bench --quick                                 # LLG RHS benchmark vs peers (benchmarks/bench_rhs.py)

``python -m neuralmag`` is the same command.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path

from neuralmag.backends import AVAILABLE_BACKENDS

__all__ = ["main", "builtin_terms"]

DEMOS = {"relax": "relax_field_demo.py", "sp4": "sp4.py", "sp3": "sp3.py", "sp5": "sp5.py", "dmi": "dmi.py",
         "stoner_wohlfarth": "stoner_wohlfarth.py", "dw_pinning": "dw_pinning.py", "magnonic_demultiplexer": "magnonic_demultiplexer.py"}
DEMO_DIR = Path(__file__).resolve().parent.parent / "demos"


def builtin_terms() -> dict:
    """Built-in field terms by name: every class name, and every default name that only one class uses."""
    from neuralmag import field_terms
    from neuralmag.field_terms import FieldTerm

    classes = [getattr(field_terms, n) for n in field_terms.__all__]
    classes = [c for c in classes if isinstance(c, type) and issubclass(c, FieldTerm) and c.default_name]
    by_default = {}
    for c in classes:
        by_default.setdefault(c.default_name, []).append(c)
    names = {d: cs[0] for d, cs in by_default.items() if len(cs) == 1}
    names.update({c.__name__: c for c in classes})
    return names


def _term_class(parser: argparse.ArgumentParser, name: str):
    """The field-term class named ``name`` (a built-in name or ``module:ClassName``); exits 2 if unknown."""
    from neuralmag.field_terms import FieldTerm

    if ":" in name:
        module_name, _, class_name = name.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as err:
            parser.error(f"cannot load term {name!r}: {err}")
        if not (isinstance(cls, type) and issubclass(cls, FieldTerm)):
            parser.error(f"{name!r} is not a subclass of nm.FieldTerm.")
        return cls
    terms = builtin_terms()
    if name not in terms:
        ambiguous = sorted(c.__name__ for c in terms.values() if c.default_name == name)
        hint = f" {name!r} is the default name of several terms; use one of {', '.join(ambiguous)}." if ambiguous else ""
        parser.error(f"unknown term {name!r}.{hint} Available terms: {', '.join(sorted(terms, key=str.lower))}; "
                     "or give a user-defined term as module:ClassName.")
    return terms[name]


def _kernels(parser, args) -> int:
    from neuralmag.forms import kernel_source

    cls = _term_class(parser, args.term)
    try:
        term = cls()
    except TypeError as err:
        parser.error(f"{cls.__name__} cannot be built without arguments ({err}); print its kernels from Python "
                     "with nm.kernel_source(term_instance, ...).")
    pbc = tuple(axis in args.pbc for axis in "xyz")
    print(kernel_source(term, dim=args.dim, backend=args.backend, pbc=pbc))
    return 0


def _demo(parser, args) -> int:
    path = DEMO_DIR / DEMOS[args.name]
    if not path.is_file():
        parser.error(f"demo file {path} not found; the demos ship with the source repository, run this from a "
                     "checkout (pip install -e .).")
    if str(DEMO_DIR) not in sys.path:  # the validation demos share demos/validation_common.py
        sys.path.insert(0, str(DEMO_DIR))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(args.args)
    return 0


BENCH_SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_rhs.py"


def _bench(argv) -> int:
    """``neuralmag bench ...``: every argument goes to benchmarks/bench_rhs.py (``--help`` included)."""
    if not BENCH_SCRIPT.is_file():
        print(f"neuralmag bench: {BENCH_SCRIPT} not found; the benchmarks ship with the source repository, run this "
              "from a checkout (pip install -e .).", file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location("bench_rhs", BENCH_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(list(argv))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuralmag",
        description="NeuralMag: differentiable nodal finite-difference micromagnetics for JAX and PyTorch.")
    from neuralmag import __version__

    parser.add_argument("--version", action="version", version=f"neuralmag {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    kernels = sub.add_parser("kernels", help="print the generated kernel source of a field term",
                             description="Print the Python source that the form compiler generates for a field "
                                         "term (field h, energy E, energy density e).")
    kernels.add_argument("term", help="a built-in term (e.g. 'exchange' or 'ExchangeField') or module:ClassName")
    kernels.add_argument("--dim", type=int, choices=(1, 2, 3), default=3, help="mesh dimension (default 3)")
    kernels.add_argument("--backend", choices=AVAILABLE_BACKENDS, default=None,
                         help="backend to print for (default: nm.config.backend, i.e. NM_BACKEND or jax)")
    kernels.add_argument("--pbc", default="", metavar="AXES", help="periodic axes, e.g. 'x' or 'xy' (default none)")
    kernels.set_defaults(handler=_kernels, subparser=kernels)

    demo = sub.add_parser("demo", help="run a demo from demos/",
                          description="Run a demo: 'sp4' is demos/sp4.py (µMAG standard problem 4), 'relax' is "
                                      "demos/relax_field_demo.py (an exchange field demo); sp3, sp5, dmi, "
                                      "stoner_wohlfarth and dw_pinning are the validation demos (docs: Validation). "
                                      "Arguments after the name go to the demo.")
    demo.add_argument("name", choices=sorted(DEMOS))
    demo.add_argument("args", nargs=argparse.REMAINDER, help="arguments of the demo, e.g. --backend torch --out results")
    demo.set_defaults(handler=_demo, subparser=demo)

    bench = sub.add_parser("bench", add_help=False, help="LLG right-hand-side benchmark against the peer codes",
                           description="Run benchmarks/bench_rhs.py; 'neuralmag bench --help' shows its options.")
    bench.add_argument("args", nargs=argparse.REMAINDER, help="options of benchmarks/bench_rhs.py")
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # its options (--help too) belong to benchmarks/bench_rhs.py
        return _bench(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "backend", "unset") is None:
        from neuralmag.config import config

        args.backend = config.backend
    if getattr(args, "pbc", "") and set(args.pbc) - set("xyz"):
        args.subparser.error(f"--pbc takes axis letters from 'xyz', got {args.pbc!r}.")
    return args.handler(args.subparser, args)


if __name__ == "__main__":
    sys.exit(main())

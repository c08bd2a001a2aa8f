"""Small helpers shared by the core modules."""

from __future__ import annotations

import linecache
from itertools import count

__all__ = ["named_function", "sum_of"]

_ids = count()


def named_function(name: str, params, body):
    """A function ``name(*params)`` returning ``body(*params)``.

    Dynamic attributes are matched to state attributes by their parameter *names*, so terms that combine
    attributes chosen at run time (``TotalField("exchange", "demag")`` needs ``h_exchange, h_demag``) build
    their callables with this helper. The wrapper is generated source (visible in tracebacks).
    """
    params = list(params)
    for p in params:
        if not p.isidentifier():
            raise ValueError(f"{p!r} is not a valid attribute name.")
    source = f"def {name}({', '.join(params)}):\n    return _body({', '.join(params)})\n"
    filename = f"<neuralmag-named-{next(_ids)}:{name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"_body": body}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


def sum_of(*values):
    """``values[0] + values[1] + ...`` (fields, energies or torques of registered terms)."""
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total

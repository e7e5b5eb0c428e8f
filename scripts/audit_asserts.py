"""List every check in the book's notebooks and flag candidates for a reader's audit.

A reading aid, not a test: it parses every code cell of ``book/*.ipynb`` with :mod:`ast`, lists
each ``assert`` statement and each numpy-style check (``np.testing.assert_*``, ``np.allclose``,
``np.isclose``, ``math.isclose``, ``glue_below``), and flags candidates by kind:

``a`` (bound)
    a probability/cosine-like quantity compared with a *computed* bound (``p <= bound``,
    ``(x <= b).mean() >= g``, ``>= guarantee``): the bound may exceed 1 (or the guarantee may
    be <= 0), making the check vacuous. Read the cell to judge.
``b`` (tolerance)
    a literal tolerance (``atol=``/``rtol=``/``tol=``, ``<= 1e-k``, ``< 0.1``): compare it with
    the size of the effect being checked.
``c`` (tautology)
    both sides of a comparison are built from the same names or the same call (e.g. ``f(x) ==
    f(x)``, ``a.shape == a.shape``), or an upper-case/implementation constant is compared with a
    literal (``DEFAULT_X == 40``): may assert the implementation against itself.
``d`` (hard-coded)
    a comparison with a literal number of four or more significant digits (``x == 0.4213``,
    ``abs(x - 1.2345) < ...``): possibly copied from an output.
``e`` (float equality)
    ``==``/``!=`` with a float literal or between computed arrays/floats (not ``len``/``shape``/
    integer-looking names): needs an "exact by construction" justification.

Usage::

    python scripts/audit_asserts.py                      # all notebooks, counts only
    python scripts/audit_asserts.py -v book/11_*.ipynb   # list every check with its flags
    python scripts/audit_asserts.py -f                   # list only flagged checks

The flags are heuristics: they over-flag on purpose; a human decides.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

KINDS = {
    "a": "bound may exceed 1 / guarantee may be vacuous",
    "b": "literal tolerance (compare with effect size)",
    "c": "possible tautology / implementation constant",
    "d": "hard-coded number (copied from output?)",
    "e": "exact float equality",
}

CHECK_CALLS = {
    "allclose", "isclose", "array_equal", "array_almost_equal", "assert_allclose",
    "assert_array_almost_equal", "assert_almost_equal", "assert_array_equal", "assert_equal",
    "assert_array_less", "assert_approx_equal", "glue_below",
}
TOL_KW = {"atol", "rtol", "tol", "rel_tol", "abs_tol", "decimal", "significant", "bound"}
PROB_WORDS = re.compile(
    r"(prob|frac|rate|cos|guarantee|bound|coverage|share|mean\(\)|p_|pval|power|viol)",
    re.IGNORECASE,
)
INTLIKE = re.compile(r"(^|_)(n|k|m|L|len|size|shape|count|num|idx|index|rank|dim|iter|it|steps|"
                     r"depth|dtype|ndim|kind|name|key|status|sign)(_|$|s$)|^n[a-z_]*$|^i$|^j$",
                     re.IGNORECASE)


@dataclass
class Check:
    """One check found in a notebook cell."""

    notebook: str
    cell: int
    line: int
    source: str
    flags: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)

    def flag(self, kind: str, why: str) -> None:
        if kind not in self.flags:
            self.flags.append(kind)
        self.why.append(f"{kind}: {why}")


def _call_name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _literal_number(node: ast.AST) -> float | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(
        node.value, bool
    ):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _literal_number(node.operand)
        return None if v is None else -v
    return None


def _sig_digits(node: ast.AST, src: str) -> int:
    text = ast.get_source_segment(src, node) or ""
    text = text.lstrip("-").lower()
    if "e" in text:
        text = text.split("e")[0]
    digits = text.replace(".", "").lstrip("0")
    return len(digits.rstrip("0")) if "." not in text else len(digits)


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_floaty(node: ast.AST, src: str) -> bool:
    """Guess whether an expression is a float (not an int count, shape, string, bool)."""
    lit = _literal_number(node)
    if lit is not None:
        return isinstance(getattr(node, "value", None), float) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.operand.value, float)  # type: ignore[attr-defined]
        )
    if isinstance(node, (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.JoinedStr)):
        return False
    text = ast.get_source_segment(src, node) or ""
    if re.search(r"\b(len|int|round|shape|size|sum|count_nonzero|argmax|argmin|argsort|"
                 r"dtype|type|str|bool|isinstance|sorted|set|list|tuple|ndim|rank|matrix_rank|"
                 r"nonzero|where|any|all|floor|ceil|sign)\b", text):
        return False
    if isinstance(node, ast.Name) and INTLIKE.search(node.id):
        return False
    if isinstance(node, ast.Attribute) and INTLIKE.search(node.attr):
        return False
    if isinstance(node, ast.Subscript):
        base = ast.get_source_segment(src, node.value) or ""
        if INTLIKE.search(base.split(".")[-1]):
            return False
    return True


def _analyse_compare(chk: Check, node: ast.Compare, src: str) -> None:
    operands = [node.left, *node.comparators]
    for op, left, right in zip(node.ops, operands[:-1], operands[1:]):
        ltxt = ast.get_source_segment(src, left) or ""
        rtxt = ast.get_source_segment(src, right) or ""
        # (e) exact float equality
        if isinstance(op, (ast.Eq, ast.NotEq)) and _is_floaty(left, src) and _is_floaty(right, src):
            chk.flag("e", f"`{ltxt} {'==' if isinstance(op, ast.Eq) else '!='} {rtxt}`")
        # (b) literal tolerance on the small side of a comparison
        for side, other in ((right, left), (left, right)):
            v = _literal_number(side)
            if v is not None and 0 < abs(v) < 1 and isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
                # '< 1e-8' style: a tolerance; '>= 0.9' style: a threshold, still worth reading
                chk.flag("b", f"literal {ast.get_source_segment(src, side)} vs `{ast.get_source_segment(src, other)}`")
        # (d) hard-coded many-digit number
        for side in (left, right):
            v = _literal_number(side)
            if v is not None and v not in (0.0, 1.0) and _sig_digits(side, src) >= 4:
                chk.flag("d", f"literal {ast.get_source_segment(src, side)}")
        # (c) tautology: same expression on both sides, or same call with same args
        if ast.dump(left) == ast.dump(right):
            chk.flag("c", f"identical sides `{ltxt}`")
        elif (isinstance(left, ast.Call) and isinstance(right, ast.Call)
              and _call_name(left) == _call_name(right)
              and ast.dump(left.args[0] if left.args else left) == ast.dump(right.args[0] if right.args else right)
              and _call_name(left) not in {"abs", "float", "len", "max", "min"}):
            chk.flag("c", f"same call on both sides `{_call_name(left)}`")
        # implementation constant vs a literal (e.g. DEFAULT_MAX_ITER == 40)
        for side, other in ((left, right), (right, left)):
            nm = side.id if isinstance(side, ast.Name) else (side.attr if isinstance(side, ast.Attribute) else "")
            if nm and nm.isupper() and len(nm) > 2 and _literal_number(other) is not None and isinstance(op, ast.Eq):
                chk.flag("c", f"constant `{nm}` == literal")
            if (isinstance(side, ast.Attribute) and isinstance(side.value, ast.Name)
                    and side.value.id in {"homtrap", "ht"} and _literal_number(other) is not None):
                chk.flag("c", f"homtrap attribute `{ltxt}` vs literal")
        # (a) probability/cosine-like comparisons against a computed bound
        if isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)):
            whole = ltxt + " " + rtxt
            lit_l, lit_r = _literal_number(left), _literal_number(right)
            if (lit_l is None and lit_r is None and PROB_WORDS.search(whole)
                    and not re.search(r"\bnp\.(abs|max)\(.*-", whole)):
                chk.flag("a", f"`{ltxt}` vs computed `{rtxt}`: is the bound < 1 (> 0)?")


def _analyse_call(chk: Check, node: ast.Call, src: str) -> None:
    for kw in node.keywords:
        if kw.arg in TOL_KW:
            v = _literal_number(kw.value)
            if v is not None:
                chk.flag("b", f"{kw.arg}={ast.get_source_segment(src, kw.value)}")
            elif kw.value is not None:
                # computed tolerance: fine, but record literal factors like 0.1 * x
                lits = [n for n in ast.walk(kw.value) if _literal_number(n) is not None
                        and 0 < abs(_literal_number(n) or 0) < 1]
                if lits:
                    chk.flag("b", f"{kw.arg}={ast.get_source_segment(src, kw.value)}")
    name = _call_name(node)
    if name in {"array_equal", "assert_array_equal", "assert_equal"} and len(node.args) >= 2:
        if _is_floaty(node.args[0], src) and _is_floaty(node.args[1], src):
            chk.flag("e", f"{name} on computed values")
    if name == "glue_below" and len(node.args) >= 3 and _literal_number(node.args[2]) is not None:
        chk.flag("b", f"glue_below bound {ast.get_source_segment(src, node.args[2])}")
    if len(node.args) >= 2 and ast.dump(node.args[0]) == ast.dump(node.args[1]):
        chk.flag("c", f"{name} with identical arguments")
    if name in {"allclose", "isclose", "assert_allclose"} and len(node.args) >= 2:
        a0, a1 = node.args[0], node.args[1]
        if (isinstance(a0, ast.Call) and isinstance(a1, ast.Call) and _call_name(a0) == _call_name(a1)
                and ast.dump(a0.args[0] if a0.args else a0) == ast.dump(a1.args[0] if a1.args else a1)):
            chk.flag("c", f"{name}({_call_name(a0)}(x), {_call_name(a1)}(x))")
        for a in (a0, a1):
            v = _literal_number(a)
            if v is not None and v not in (0.0, 1.0) and _sig_digits(a, src) >= 4:
                chk.flag("d", f"literal {ast.get_source_segment(src, a)}")


class _Finder(ast.NodeVisitor):
    def __init__(self, notebook: str, cell: int, src: str) -> None:
        self.nb, self.cell, self.src = notebook, cell, src
        self.checks: list[Check] = []

    def _new(self, node: ast.AST) -> Check:
        text = (ast.get_source_segment(self.src, node) or "").splitlines()
        first = text[0] if text else ""
        if len(text) > 1:
            first += " ..."
        chk = Check(self.nb, self.cell, node.lineno, first.strip())
        self.checks.append(chk)
        return chk

    def visit_Assert(self, node: ast.Assert) -> None:
        chk = self._new(node)
        for sub in ast.walk(node.test):
            if isinstance(sub, ast.Compare):
                _analyse_compare(chk, sub, self.src)
            elif isinstance(sub, ast.Call):
                _analyse_call(chk, sub, self.src)
        # do not descend: nested calls were handled above

    def visit_Call(self, node: ast.Call) -> None:
        if _call_name(node) in CHECK_CALLS and (
            _call_name(node).startswith("assert") or _call_name(node) == "glue_below"
        ):
            chk = self._new(node)
            _analyse_call(chk, node, self.src)
            for sub in ast.walk(node):
                if isinstance(sub, ast.Compare):
                    _analyse_compare(chk, sub, self.src)
        self.generic_visit(node)


def _cell_source(cell: dict) -> str:
    src = cell["source"]
    src = "".join(src) if isinstance(src, list) else src
    # IPython magics/shell lines are not Python
    return "\n".join(
        ln[: len(ln) - len(ln.lstrip())] + "pass" if ln.lstrip().startswith(("%", "!")) else ln
        for ln in src.splitlines()
    )


def audit_notebook(path: Path) -> list[Check]:
    """Return every check of one notebook, with its heuristic flags.

    Parameters
    ----------
    path : Path
        An ``.ipynb`` file.

    Returns
    -------
    list of Check
        One entry per ``assert`` statement or numpy-style assertion call, in cell order.
    """
    nb = json.loads(path.read_text())
    out: list[Check] = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        src = _cell_source(cell)
        try:
            tree = ast.parse(src)
        except SyntaxError as exc:  # pragma: no cover - reading aid
            print(f"{path.name} cell {i}: cannot parse ({exc})", file=sys.stderr)
            continue
        finder = _Finder(path.name, i, src)
        finder.visit(tree)
        out.extend(finder.checks)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every check")
    parser.add_argument("-f", "--flagged", action="store_true", help="list flagged checks")
    parser.add_argument("-k", "--kind", default="", help="list only these kinds, e.g. 'ae'")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    paths = args.notebooks or sorted((root / "book").glob("*.ipynb"))
    total: Counter[str] = Counter()
    rows = []
    for p in paths:
        checks = audit_notebook(p)
        kinds: Counter[str] = Counter(k for c in checks for k in c.flags)
        total.update(kinds)
        total["checks"] += len(checks)
        rows.append((p.name, len(checks), kinds))
        for c in checks:
            show = args.verbose or (args.flagged and c.flags)
            if args.kind:
                show = show and any(k in args.kind for k in c.flags)
            if show:
                print(f"{c.notebook} cell {c.cell} line {c.line} [{''.join(c.flags) or '-'}] {c.source}")
                for w in c.why:
                    print(f"      {w}")
    print(f"\n{'notebook':40s} {'checks':>6s} " + " ".join(f"{k:>3s}" for k in KINDS))
    for name, n, kinds in rows:
        print(f"{name:40s} {n:6d} " + " ".join(f"{kinds[k]:3d}" for k in KINDS))
    print(f"{'TOTAL':40s} {total['checks']:6d} " + " ".join(f"{total[k]:3d}" for k in KINDS))
    for k, v in KINDS.items():
        print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

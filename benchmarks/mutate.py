"""Mutation testing for tinygrad_scalar, by hand: how many single-point bugs do the tests catch?

Each mutant is tinygrad_scalar.py with ONE small change made through its syntax
tree (+ for -, < for <=, a constant nudged, += made =, a `not` dropped...).
The test suite runs against each mutant in a scratch copy of the repo (every
file the tests may read: pyproject.toml, CHANGELOG.md, README.md, demo.ipynb,
docs/...; not .git, virtual environments or caches). A mutant is "killed" when
some test fails, "survived" when all pass, "timeout" when the run takes too
long (an infinite loop counts as caught). The report ends with the kill rate
over the mutants run, (killed + timeouts) / (killed + timeouts + survived), so
a sample's figure can be quoted. A survivor is either a gap in the tests or an
equivalent mutant (one that changes no behaviour): the script lists every
survivor with its line so a human can tell which. The goal: at least 95% of the
behaviour-changing mutants killed.

    python benchmarks/mutate.py                    # every mutant (long: ~20 s each)
    python benchmarks/mutate.py --sample 150       # a random sample of 150, seed 0
    python benchmarks/mutate.py --list             # only list the mutants
    python benchmarks/mutate.py --lines 400-520    # only mutants on those lines
    python benchmarks/mutate.py --ids 12,40        # these mutants again, e.g. survivors after new tests

Standard library only; run it with the python that has the test dependencies
(pytest, hypothesis) installed, e.g. .venv/bin/python. Not part of CI.
"""

import argparse
import ast
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "tinygrad_scalar.py"

SWAPS = {                                    # each operator and what it becomes
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult,
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.And: ast.Or, ast.Or: ast.And,
}


def _skipped(node, parents):
    """Whether node sits where a mutant teaches nothing: docstrings, the demo, __all__."""
    for p in parents:
        if isinstance(p, ast.FunctionDef) and p.name in ("train_moons", "_progress", "main"):
            return True
        if isinstance(p, ast.If) and "__name__" in ast.dump(p.test):
            return True
        if isinstance(p, ast.Assign) and any(getattr(t, "id", "") in ("__all__", "__version__") for t in p.targets):
            return True
    return False


def _new_constants(value):
    """The nudged versions of a numeric constant: 0 <-> 1, 1 -> 2, c -> c + 1."""
    if isinstance(value, bool):
        return [not value]
    if not isinstance(value, (int, float)):
        return []
    if value == 0:
        return [type(value)(1)]
    if value == 1:
        return [type(value)(0), type(value)(2)]
    return [value + 1]


def find_mutants(tree):
    """Return (node path, description, how) for every single-point change to tree."""
    found = []
    stack = [(tree, ())]
    while stack:
        node, parents = stack.pop()
        if not _skipped(node, parents):
            line = getattr(node, "lineno", 0)
            if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in SWAPS:
                new = SWAPS[type(node.op)]
                found.append((line, f"{type(node.op).__name__} -> {new.__name__}", node, ("op", new)))
            if isinstance(node, ast.AugAssign):
                found.append((line, f"{type(node.op).__name__}= -> =", node, ("augassign", None)))
            if isinstance(node, ast.Compare):
                for i, op in enumerate(node.ops):
                    if type(op) in SWAPS:
                        new = SWAPS[type(op)]
                        found.append((line, f"{type(op).__name__} -> {new.__name__}", node, ("cmp", (i, new))))
            if isinstance(node, ast.BoolOp) and type(node.op) in SWAPS:
                new = SWAPS[type(node.op)]
                found.append((line, f"{type(node.op).__name__} -> {new.__name__}", node, ("op", new)))
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
                found.append((line, f"drop {type(node.op).__name__}", node, ("unary", None)))
            if isinstance(node, ast.Constant) and not _is_docstring(node, parents):
                for v in _new_constants(node.value):
                    found.append((line, f"{node.value!r} -> {v!r}", node, ("const", v)))
        for child in ast.iter_child_nodes(node):
            stack.append((child, parents + (node,)))
    found.sort(key=lambda m: (m[0], m[1]))
    return found


def _is_docstring(node, parents):
    return bool(parents) and isinstance(parents[-1], ast.Expr) and isinstance(node.value, str)


class _Apply(ast.NodeTransformer):
    """Make the one change `how` at `target`, leave every other node as it is."""

    def __init__(self, target, how):
        self.target, self.how = target, how

    def generic_visit(self, node):
        node = super().generic_visit(node)
        if node is not self.target:
            return node
        kind, arg = self.how
        if kind == "op":
            node.op = arg()
        elif kind == "cmp":
            node.ops[arg[0]] = arg[1]()
        elif kind == "augassign":
            return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)
        elif kind == "unary":
            return node.operand
        elif kind == "const":
            node.value = arg
        return node


def mutant_source(source, index):
    """The library's source with mutant number index applied (parsed afresh each time).

    Only the changed node's text is rewritten (the whole f-string around it, if any, since
    positions inside f-strings are unreliable before Python 3.12); every other character,
    comments and banners included, stays as written: the tests read the library's source."""
    tree = ast.parse(source)
    line, what, target, how = find_mutants(tree)[index]
    where = target
    for node in ast.walk(tree):                      # the outermost f-string holding target, if any
        if isinstance(node, ast.JoinedStr) and any(n is target for n in ast.walk(node)):
            where = node
            break
    start, end = _offset(source, where.lineno, where.col_offset), _offset(source, where.end_lineno, where.end_col_offset)
    is_expr = isinstance(where, ast.expr)
    text = ast.unparse(ast.fix_missing_locations(_Apply(target, how).visit(where)))
    if is_expr:                                      # parenthesized: the text keeps its precedence anywhere
        text = f"({text})"
    data = source.encode("utf-8")
    return (data[:start] + text.encode("utf-8") + data[end:]).decode("utf-8")


def _offset(source, line, col):
    """The byte offset of (line, col) as ast counts them (lines from 1, columns in UTF-8 bytes)."""
    lines = source.encode("utf-8").splitlines(keepends=True)
    return sum(len(x) for x in lines[:line - 1]) + col


def _same(a, b):
    """Whether two sources parse to the same tree (comments and layout aside)."""
    return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))


# Not copied into the scratch directory: version control, virtual environments (the repo's
# .venv, benchmarks/.venv, any other), caches and build output. Everything else is, because
# the tests read more than the library: pyproject.toml, CHANGELOG.md, README.md, demo.ipynb, docs/.
SKIP_NAMES = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints",
              ".mypy_cache", ".ruff_cache", "build", "dist"}


def _not_copied(folder, names):
    skip = {n for n in names if n in SKIP_NAMES or n.endswith((".egg-info", ".pyc"))}
    skip |= {n for n in names if (Path(folder) / n / "pyvenv.cfg").exists()}   # a venv by any name
    return skip


def copy_repo(tmp):
    """Copy the repo tree into tmp, minus what _not_copied names."""
    shutil.copytree(ROOT, tmp, ignore=_not_copied, dirs_exist_ok=True, symlinks=True)


def run_tests(source, timeout, pytest_args, check_import=False, show_failure=False):
    """Run the suite against source in a scratch copy of the repo; return 'killed', 'survived' or 'timeout'."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        copy_repo(tmp)
        Path(tmp, "tinygrad_scalar.py").write_text(source, encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=tmp, PYTHONDONTWRITEBYTECODE="1")
        if check_import:      # an installed copy of the library (pip install -e) must not shadow the mutant
            where = subprocess.run([sys.executable, "-c", "import tinygrad_scalar; print(tinygrad_scalar.__file__)"],
                                   cwd=tmp, env=env, capture_output=True, text=True).stdout.strip()
            if Path(where).resolve() != Path(tmp, "tinygrad_scalar.py").resolve():
                sys.exit(f"the tests would import tinygrad_scalar from {where!r}, not the scratch copy in {tmp}")
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
               "test_tinygrad_scalar.py", *pytest_args]
        log = Path(tmp, ".pytest-output.txt")
        with open(log, "wb") as out:
            run = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)   # its own process group: a timeout ends all of it
            try:
                returncode = run.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
                returncode = None
        if returncode is not None and returncode != 0 and show_failure:
            print("\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]), file=sys.stderr)
        if returncode is None:
            return "timeout"
        return "survived" if returncode == 0 else "killed"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, help="test only this many mutants, drawn at random")
    parser.add_argument("--seed", type=int, default=0, help="random seed for --sample (default 0)")
    parser.add_argument("--lines", help="only mutants on lines A-B of tinygrad_scalar.py")
    parser.add_argument("--ids", help="only these mutants, by number: 12,40,41 (as --list shows them)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per mutant (default 300)")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument("--pytest-args", default="", help="extra pytest arguments, e.g. \"-k 'not notebook'\"")
    args = parser.parse_args()

    source = LIBRARY.read_text(encoding="utf-8")
    mutants = [(i, line, what) for i, (line, what, _, _) in enumerate(find_mutants(ast.parse(source)))]
    where = ""
    if args.lines:
        low, high = (int(x) for x in args.lines.split("-"))
        mutants = [m for m in mutants if low <= m[1] <= high]
        where = f" on lines {low}-{high}"
    if args.ids:
        wanted = {int(i) for i in args.ids.split(",")}
        mutants = [m for m in mutants if m[0] in wanted]
        where += f" numbered {args.ids}"
    selection = f"the {len(mutants)} mutants{where}"
    if args.sample is not None and args.sample < len(mutants):
        selection = f"a random sample of {args.sample} of {selection} (seed {args.seed})"
        mutants = sorted(random.Random(args.seed).sample(mutants, args.sample))
    if args.list:
        for i, line, what in mutants:
            print(f"#{i:4d}  line {line:5d}  {what}")
        print(f"{len(mutants)} mutants: {selection}")
        return 0

    extra = shlex.split(args.pytest_args)
    print("baseline: the unmutated library must pass", flush=True)
    baseline = run_tests(source, args.timeout, extra,
                         check_import=True, show_failure=True)
    if baseline != "survived":
        print(f"the unmutated library: {'tests fail' if baseline == 'killed' else 'timeout'}; fix that first "
              f"(or raise --timeout)", file=sys.stderr)
        return 1
    print("baseline: passes", flush=True)
    counts = {"killed": 0, "survived": 0, "timeout": 0, "unchanged": 0}
    survivors = []
    start = time.time()
    try:
        for n, (i, line, what) in enumerate(mutants, 1):
            changed = mutant_source(source, i)
            if _same(changed, source):               # e.g. 1 -> 1.0 parsed the same way: not a mutant
                outcome = "unchanged"
            else:
                outcome = run_tests(changed, args.timeout, extra)
            counts[outcome] += 1
            if outcome == "survived":
                survivors.append((i, line, what))
            print(f"[{n}/{len(mutants)}] #{i} line {line} {what}: {outcome}  ({time.time() - start:.0f} s)",
                  flush=True)
    except KeyboardInterrupt:                        # still report the mutants run so far
        print("\ninterrupted: the counts below cover the mutants run so far")
    report(counts, survivors, selection, source)
    return 0


def report(counts, survivors, selection, source):
    """Print the counts and the kill rate over the mutants run, then every survivor with its line."""
    run = counts["killed"] + counts["survived"] + counts["timeout"]
    print(f"\n{selection}: {run} run, {counts['unchanged']} skipped as unchanged (they parse "
          f"as the original)")
    print(f"killed {counts['killed']}, timeouts {counts['timeout']} (counted as killed), "
          f"survived {counts['survived']}")
    if run:
        caught = counts["killed"] + counts["timeout"]
        print(f"kill rate: {caught / run:.1%} ({caught} / {run} = (killed + timeouts) / (killed + timeouts "
              f"+ survived)) over the mutants run")
        print("Each survivor below is a gap in the tests or an equivalent mutant (no behaviour changes);")
        print("judge each one. The goal: >= 95% of the behaviour-changing mutants killed, i.e.")
        print("caught / (run - equivalent survivors).")
    lines = source.splitlines()
    for i, line, what in survivors:
        print(f"  survived #{i} line {line}: {what}")
        print("    " + lines[line - 1].strip())

if __name__ == "__main__":
    sys.exit(main())

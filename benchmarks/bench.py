"""Benchmark tinygrad_scalar against the reference, micrograd 0.1.0 (PyPI).

Both libraries run side by side in one process and the results are printed as
RATIOS, because the machine is shared and absolute times are noisy.

Cases:
  engine    forward, backward and both of sum(a*b for a, b in zip(A, B)) over
            100,000 pairs of leaves (leaf creation not timed). Gradients of a
            few leaves are checked to agree between the two libraries.
  memory    bytes allocated (tracemalloc, still alive after the build) by
            building that same graph, leaves included, divided by the number
            of Value objects each library created (leaves + interior nodes).
  training  one step of micrograd's demo: MLP(2, [16, 16, 1]) on 100 two-moons
            points, hinge loss + 1e-4 * sum(p*p), forward + backward + SGD.
  jit       the same step by tinygrad_scalar.jit_loss: the step traced once
            (not timed; its trace-and-compile time is printed), then run as
            generated code, + SGD. Compared with micrograd and with the same
            library without jit, all in one run.

The garbage collector stays at its default settings while timing; gc.collect()
runs before every timed run, and the two libraries alternate run by run.
Each timed run happens in a thread with a big stack and a high recursion
limit, because micrograd's backward() is recursive (graph ~200,000 deep).

Run:   python benchmarks/bench.py [--quick] [--repeat N]
The first run creates benchmarks/.venv, installs micrograd==0.1.0 into it and
re-runs itself with that venv's python. tinygrad_scalar is imported from the
repo root. Exit code is 0 even when a goal is missed; non-zero only on error.
"""
import argparse, gc, math, os, platform, random, statistics, subprocess, sys
import threading, time, tracemalloc, types
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv"
INNER = "TINYGRAD_SCALAR_BENCH_INNER"   # set in the re-executed (inner) run
STACK_BYTES = 512 * 1024 * 1024
CHECK_AT = (0, 1, 2, -1)                # leaves whose gradients are compared


def ensure_venv():
    """Create benchmarks/.venv with micrograd and re-run this script in it."""
    if os.environ.get(INNER) == "1":
        return
    bindir = "Scripts" if os.name == "nt" else "bin"
    py = str(VENV / bindir / ("python.exe" if os.name == "nt" else "python"))
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = "import importlib.metadata as m; assert m.version('micrograd') == '0.1.0'"
    if subprocess.run([py, "-c", probe], capture_output=True).returncode != 0:
        print("installing micrograd==0.1.0 into", VENV, flush=True)
        r = subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            "micrograd==0.1.0"], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("pip install micrograd failed:\n" + r.stdout + r.stderr)
    env = dict(os.environ, **{INNER: "1"})
    sys.exit(subprocess.run([py, str(Path(__file__).resolve()), *sys.argv[1:]], env=env).returncode)


def in_big_thread(fn, *args):
    """Run fn(*args) in a thread with a 512 MiB stack and recursion limit 10**7."""
    result = {}

    def target():
        try:
            result["value"] = fn(*args)
        except BaseException as e:  # re-raised in the caller's thread
            result["error"] = e

    old_limit, old_size = sys.getrecursionlimit(), threading.stack_size(STACK_BYTES)
    sys.setrecursionlimit(10**7)
    try:
        t = threading.Thread(target=target)
        t.start()
        t.join()
    finally:
        sys.setrecursionlimit(old_limit)
        threading.stack_size(old_size)
    if "error" in result:
        raise result["error"]
    return result["value"]


# ---------------------------------------------------------------- (a) engine
def engine_run(Value, xs, ys):
    A = [Value(x) for x in xs]
    B = [Value(y) for y in ys]
    gc.collect()
    t0 = time.perf_counter()
    out = sum(a * b for a, b in zip(A, B))
    t1 = time.perf_counter()
    out.backward()
    t2 = time.perf_counter()
    grads = [(A[i].grad, B[i].grad) for i in CHECK_AT]
    return t1 - t0, t2 - t1, grads, out.data


def case_engine(libs, n_pairs, repeat):
    rng = random.Random(42)
    xs = [rng.uniform(-1, 1) for _ in range(n_pairs)]
    ys = [rng.uniform(-1, 1) for _ in range(n_pairs)]
    fwd = {name: [] for name in libs}
    bwd = {name: [] for name in libs}
    last = {}
    for r in range(repeat):
        order = list(libs) if r % 2 == 0 else list(libs)[::-1]
        for name in order:
            f, b, grads, value = in_big_thread(engine_run, libs[name].Value, xs, ys)
            fwd[name].append(f)
            bwd[name].append(b)
            last[name] = (grads, value)
    (g_mg, v_mg), (g_ts, v_ts) = last["micrograd"], last["tinygrad_scalar"]
    assert math.isclose(v_mg, v_ts, rel_tol=1e-9), (v_mg, v_ts)
    for (ma, mb), (ta, tb), i in zip(g_mg, g_ts, CHECK_AT):
        assert math.isclose(ma, ta) and math.isclose(mb, tb), (i, ma, ta, mb, tb)
        assert math.isclose(ma, ys[i]) and math.isclose(mb, xs[i]), (i, ma, mb)
    med = lambda d, k: statistics.median(d[k]) * 1e3
    tot = {k: [f + b for f, b in zip(fwd[k], bwd[k])] for k in libs}
    return [(f"engine forward, {n_pairs:,} pairs (ms)", med(fwd, "micrograd"), med(fwd, "tinygrad_scalar")),
            ("engine backward (ms)", med(bwd, "micrograd"), med(bwd, "tinygrad_scalar")),
            ("engine forward+backward (ms)", med(tot, "micrograd"), med(tot, "tinygrad_scalar"))]


# ---------------------------------------------------------------- (b) memory
def count_instances(cls):
    return sum(1 for o in gc.get_objects() if isinstance(o, cls))


def graph_memory(Value, xs, ys):
    """Bytes still allocated after building the graph, and the Values created."""
    A, B = [None] * len(xs), [None] * len(ys)  # list storage itself not traced
    gc.collect()
    before = count_instances(Value)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for i in range(len(xs)):
        A[i], B[i] = Value(xs[i]), Value(ys[i])
    leaves_bytes = tracemalloc.get_traced_memory()[0] - base
    out = sum(a * b for a, b in zip(A, B))
    total_bytes = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    nodes = count_instances(Value) - before
    del out
    return total_bytes, leaves_bytes, nodes


def case_memory(libs, n_pairs):
    rng = random.Random(42)
    xs = [rng.uniform(-1, 1) for _ in range(n_pairs)]
    ys = [rng.uniform(-1, 1) for _ in range(n_pairs)]
    per_node = {}
    for name, lib in libs.items():
        total, leaves, nodes = graph_memory(lib.Value, xs, ys)
        per_node[name] = total / nodes
        print(f"  memory {name:16s} {total / 2**20:7.1f} MiB total for {nodes:,} nodes "
              f"(leaves {leaves / (2 * n_pairs):.0f} B each, interior "
              f"{(total - leaves) / max(1, nodes - 2 * n_pairs):.0f} B each)")
        gc.collect()
    return [("memory per node (bytes)", per_node["micrograd"], per_node["tinygrad_scalar"])]


# -------------------------------------------------------------- (c) training
def make_moons(n=100, noise=0.1, seed=0):
    """Two interleaving half circles with gaussian noise; labels -1 / +1."""
    rng = random.Random(seed)
    X, y = [], []
    for i in range(n // 2):
        t = math.pi * i / (n // 2 - 1)
        X.append([math.cos(t) + rng.gauss(0, noise), math.sin(t) + rng.gauss(0, noise)])
        y.append(-1)
        X.append([1 - math.cos(t) + rng.gauss(0, noise), 0.5 - math.sin(t) + rng.gauss(0, noise)])
        y.append(1)
    return X, y


def micrograd_step(model, Value, X, y):
    """micrograd's own demo step, verbatim."""
    gc.collect()
    t0 = time.perf_counter()
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum((p*p for p in model.parameters()))
    total_loss = data_loss + reg_loss
    model.zero_grad(); total_loss.backward()
    for p in model.parameters(): p.data -= 0.1 * p.grad
    return time.perf_counter() - t0, total_loss.data


def ours_step(ts, model, opt, X, y):
    vsum = getattr(ts, "vsum", sum)
    gc.collect()
    t0 = time.perf_counter()
    scores = [model(x) for x in X]
    loss = ts.hinge_loss(scores, y) + 1e-4 * vsum(p * p for p in model.parameters())
    opt.zero_grad()
    loss.backward()
    opt.step()
    return time.perf_counter() - t0, loss.data


def jit_step(step, opt):
    """The demo step by jitted code: loss and gradients, then SGD."""
    gc.collect()
    t0 = time.perf_counter()
    loss = step()
    opt.step()
    return time.perf_counter() - t0, loss


def case_training(libs, warm, steps):
    X, y = make_moons()
    mg, ts = libs["micrograd"], libs["tinygrad_scalar"]
    random.seed(1337)  # micrograd's MLP draws weights from the global random
    mg_model = mg.MLP(2, [16, 16, 1])
    ts_model = ts.MLP(2, [16, 16, 1], activation="relu", seed=1)
    opt = ts.SGD(ts_model.parameters(), lr=0.1)
    jit_model = ts.MLP(2, [16, 16, 1], activation="relu", seed=1)
    params = jit_model.parameters()
    jit_opt = ts.SGD(params, lr=0.1)
    step = ts.jit_loss(lambda: ts.hinge_loss([jit_model(x) for x in X], y)
                       + 1e-4 * ts.vsum(p * p for p in params), params)
    t0 = time.perf_counter()
    step()                                  # the trace: generate and compile the code once
    print(f"  jit trace + code generation + compile: {time.perf_counter() - t0:.2f} s, "
          f"{len(step.source.splitlines()):,} lines of generated Python")
    run = {"micrograd": lambda: in_big_thread(micrograd_step, mg_model, mg.Value, X, y),
           "tinygrad_scalar": lambda: in_big_thread(ours_step, ts, ts_model, opt, X, y),
           "jit": lambda: in_big_thread(jit_step, step, jit_opt)}
    times, losses = {k: [] for k in run}, {k: [] for k in run}
    for i in range(warm + steps):
        for name in (list(run) if i % 2 == 0 else list(run)[::-1]):
            t, loss = run[name]()
            losses[name].append(loss)
            if i >= warm:
                times[name].append(t)
    for name in run:
        assert all(math.isfinite(v) for v in losses[name]), (name, losses[name])
        print(f"  training {name:16s} loss {losses[name][0]:.4f} -> {losses[name][-1]:.4f}")
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    return [("training step (ms)", med["micrograd"], med["tinygrad_scalar"]),
            ("training step, jit (ms)", med["micrograd"], med["jit"]),
            ("jit vs no jit: step (ms) [1st col: no jit]", med["tinygrad_scalar"], med["jit"])]


# ------------------------------------------------------------------- report
GOALS = {"engine forward+backward (ms)": (">=", 4.0), "memory per node (bytes)": ("<=", 0.4),
         "training step (ms)": (">=", 30.0), "training step, jit (ms)": (">=", 200.0),
         "jit vs no jit: step (ms) [1st col: no jit]": (">=", 5.0)}


def print_table(rows):
    print()
    print(f"{'case':44s} {'micrograd':>11s} {'tinygrad_scalar':>16s} {'ratio':>8s} {'goal':>8s}  met?")
    for case, mg_val, ts_val in rows:
        op, goal = GOALS.get(case, (None, None))
        ratio = ts_val / mg_val if case.startswith("memory") else mg_val / ts_val
        met = "-" if op is None else ("yes" if (ratio >= goal if op == ">=" else ratio <= goal) else "NO")
        goal_s = "-" if op is None else f"{op}{goal:.3g}"
        print(f"{case:44s} {mg_val:11.1f} {ts_val:16.1f} {ratio:8.2f} {goal_s:>8s}  {met}")
    print("ratio = micrograd/ours for times (higher is better), ours/micrograd for memory (lower is better)")


def main():
    ensure_venv()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per library and case")
    args = ap.parse_args()
    n_pairs = 20_000 if args.quick else 100_000
    repeat = args.repeat or (2 if args.quick else 5)
    warm, steps = (2, repeat) if args.quick else (10, 2 * repeat)

    sys.path.insert(0, str(HERE.parent))
    import micrograd.engine, micrograd.nn
    import tinygrad_scalar
    mg = types.SimpleNamespace(Value=micrograd.engine.Value, MLP=micrograd.nn.MLP)
    libs = {"micrograd": mg, "tinygrad_scalar": tinygrad_scalar}

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores | Python {platform.python_version()} | "
          f"micrograd {metadata.version('micrograd')} | "
          f"tinygrad_scalar {getattr(tinygrad_scalar, '__version__', '?')}")
    print(f"pairs {n_pairs:,}, repeat {repeat}, training warm-up {warm} + {steps} timed steps; "
          f"gc at defaults, collected before each timed run")
    rows, failed = [], False
    for name, case in (("engine", lambda: case_engine(libs, n_pairs, repeat)),
                       ("memory", lambda: case_memory(libs, n_pairs)),
                       ("training", lambda: case_training(libs, warm, steps))):
        try:
            rows += case()
        except Exception as e:
            failed = True
            print(f"  {name} case FAILED: {type(e).__name__}: {e}")
    print_table(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

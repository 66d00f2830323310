"""tinygrad_scalar: automatic differentiation for scalars, in one readable file.

Each operation on Values returns a new Value that keeps its parents and a small
function, its _backward closure, that applies the chain rule at that one node;
backward() calls those closures from the output back to the inputs.

    >>> from tinygrad_scalar import Value
    >>> x, y = Value(2.0, label="x"), Value(3.0, label="y")
    >>> f = x * x * y + 2 * y          # f(x, y) = x²y + 2y
    >>> f.backward()
    >>> f.data, x.grad, y.grad         # ∇f = (2xy, x² + 2)
    (18.0, 12.0, 6.0)

A book in four parts, each using only what is above it: I, the engine (it runs alone);
II, tools (grad, jvp, hessian, drawing...); III, training (MLP, SGD...); Appendix: jit, main.
"""

import math
import numbers


################ Part I — the engine
# A Value holds a number, the gradient backward() finds for it, and how it was made: its
# parents (_prev) and a closure (_backward) that turns the gradient of the result into one
# gradient per parent. The rest is the ops, a few lines each, and the loop that calls them.

class Value:
    """A scalar that records the operations applied to it, for backpropagation."""

    __slots__ = (
        "data",        # the number itself, a float
        "grad",        # d(output)/d(this) after output.backward(); 0.0 before
        "label",       # an optional name, shown by repr and the drawings
        "_prev",       # the parents it was made from, in argument order: (a*a)._prev == (a, a)
        "_backward",   # the chain rule here: g = d(output)/d(this) in, one gradient per parent out
        "__dict__",    # room for attributes of your own (v.m = 0), made only when first used
    )

    def __init__(self, data, label="", requires_grad=True, *, name=None):
        label = label if name is None else name     # minitorch's Scalar(x, name="x")
        if isinstance(data, Value) or not isinstance(label, str):
            raise TypeError(f"Value: expected a number and a str label, got {data!r} and {label!r}")
        if data.__class__ is not float:
            data = _value(data, "Value").data
        self.data, self.grad, self.label, self._prev = data, 0.0, label, ()
        self.requires_grad = requires_grad

    @property
    def requires_grad(self):
        """False for a constant: no gradient flows into it."""
        return self._backward is not _constant

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag not in (True, False):
            raise TypeError(f"Value: requires_grad must be True or False, got {flag!r}")
        if not self._prev:
            self._backward = _leaf if flag else _constant
        elif not flag:
            raise RuntimeError(f"requires_grad_(False): only a leaf can stop requiring grad; "
                               f"{self!r} was made by an op: v.detach() is a constant copy")

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # ---------------- the primitive ops: compute the number, write the closure, return
    # The closure takes g = d(output)/d(result) and returns g times the local
    # derivative for each parent: the chain rule. It keeps the numbers it needs
    # as default arguments, never the result itself, so no node is in a
    # reference cycle, and a caller may pass other numbers in their place.

    def _operators(fn, symbol):
        """Make a <symbol> b and b <symbol> a from fn(a, b) on two Values, fractions.py style."""
        def forward(a, b):
            if b.__class__ is not Value:
                b = _value(b, symbol, strict=False)
                if b is NotImplemented:
                    return b
            return fn(a, b)

        def reverse(b, a):
            a = _value(a, symbol, strict=False)
            return a if a is NotImplemented else fn(a, b)
        for f, name in ((forward, f"__{fn.__name__[1:]}__"), (reverse, f"__r{fn.__name__[1:]}__")):
            f.__name__, f.__qualname__, f.__doc__ = name, "Value." + name, fn.__doc__   # for help()
        return forward, reverse

    def _add(a, b):
        """a + b"""
        def _backward(g, *_):
            return g, g                                 # d(x+y)/dx = 1, d(x+y)/dy = 1
        return _node(a.data + b.data, (a, b), _backward)

    def _sub(a, b):
        """a - b"""
        def _backward(g, *_):
            return g, -g                                # d(x-y)/dx = 1, d(x-y)/dy = -1
        return _node(a.data - b.data, (a, b), _backward)

    def _mul(a, b):
        """a * b"""
        def _backward(g, x=a.data, y=b.data, *_):
            return g * y, g * x                         # d(xy)/dx = y, d(xy)/dy = x
        return _node(a.data * b.data, (a, b), _backward)

    def _truediv(a, b):
        """a / b"""
        if b.data == 0.0:
            raise ZeroDivisionError(f"/: division by zero: {a.data!r} / {b.data!r}")
        def _backward(g, x=a.data, y=b.data, *_):
            return g / y, -g * x / (y * y)              # d(x/y)/dx = 1/y, d(x/y)/dy = -x/y²
        return _node(a.data / b.data, (a, b), _backward)

    def _pow(a, b):
        """a ** b"""
        z = _power(a.data, b.data)
        def _backward(g, x=a.data, y=b.data, z=z, exponent=b):
            dy = g * z * _ln(x) if exponent.requires_grad else 0.0   # d(x^y)/dy = x^y·ln x
            return _pow_dx(g, x, y), dy                              # d(x^y)/dx = y·x^(y-1)
        return _node(z, (a, b), _backward)

    __add__, __radd__ = _operators(_add, "+")
    __sub__, __rsub__ = _operators(_sub, "-")
    __mul__, __rmul__ = _operators(_mul, "*")
    __truediv__, __rtruediv__ = _operators(_truediv, "/")
    __pow__, __rpow__ = _operators(_pow, "**")
    del _operators, _add, _sub, _mul, _truediv, _pow

    def __neg__(a):
        """-x = x·(-1)"""
        return a * -1.0

    def relu(a):
        """max(x, 0); nan stays nan"""
        def _backward(g, x=a.data, *_):
            return (_mask(x <= 0.0, g),)                # d relu/dx = 0 if x <= 0 else 1
        return _node(_mask(a.data <= 0.0, a.data), (a,), _backward)

    def exp(a):
        """e^x"""
        e = _math(math.exp, a.data, "exp")
        def _backward(g, x=a.data, e=e):
            return (g * e,)                             # d e^x/dx = e^x, the result itself
        return _node(e, (a,), _backward)

    def tanh(a):
        """tanh x"""
        t = _math(math.tanh, a.data, "tanh")
        def _backward(g, x=a.data, t=t):
            return (g * (1.0 - t * t),)                 # d tanh x/dx = 1 - tanh²x
        return _node(t, (a,), _backward)

    # ---------------- backward: the chain rule over the whole graph

    def backward(self, gradient=None, *, create_graph=False):
        """Set .grad of all that self depends on to d(self)/d(it), seeding d(self)/d(self) = 1 (or
        gradient). Leaves accumulate over calls; create_graph=True makes each .grad a Value."""
        if self._backward is _constant:
            raise RuntimeError(f"backward: {self!r} is a constant (requires_grad=False); "
                               f"no gradient can flow from it")
        seed = 1.0 if gradient is None else _value(gradient, "backward").data
        order = _order(self)                        # self first, each node before its parents
        for v in order:                             # recomputed from 0 on every call
            v.grad = 0.0
        if self.grad is None:                       # PyTorch's "no gradient yet" is 0
            self.grad = 0.0
        self.grad += _node(seed, (), None) if create_graph else seed
        for v in order:                             # all that uses v came first: v.grad is complete
            g = v.grad
            if g == 0.0:                            # 0 passes nothing, even through infinite slopes
                continue
            # create_graph: the closure is given the parents and result as Values, to record graph
            ds = v._backward(g, *v._prev, v) if create_graph else v._backward(g)
            for parent, d in zip(v._prev, ds):
                if parent._backward is not _constant:   # constants take no gradient
                    parent.grad += d


def _order(root):
    """Return root and all it depends on but leaves, each before its parents (DFS, no recursion)."""
    order, opened, done, stack = [], set(), set(), [root]
    while stack:
        v = stack.pop()
        if v in opened:
            if v not in done:                       # back after all its parents: list it
                done.add(v)
                order.append(v)
        elif v._prev:
            opened.add(v)
            stack.append(v)
            for p in v._prev:
                if p._prev:
                    if p not in opened:
                        stack.append(p)
                elif p.grad is None:                # a leaf's grad set to None, as in PyTorch: 0
                    p.grad = 0.0
    order.reverse()
    return order


# ---------------- making nodes: one constructor, one coercion

# The hook for later parts: while no_grad or jit is on, _node hands it each node it records.
_hook = None


def _node(data, parents, backward):
    """Return the Value an op made; record its parents and closure if any parent learns."""
    out = Value.__new__(Value)                      # one store per field: this runs for every op
    out.data = data
    out.grad = 0.0
    out.label = ""
    for p in parents:
        if p._backward is not _constant:
            out._prev = parents
            out._backward = backward
            if _hook is not None:
                _hook(out)
            return out
    out._prev = ()                                  # nothing upstream learns: a constant
    out._backward = _constant
    return out


def _leaf(g, *_):                                   # the _backward of a leaf that learns
    return ()


def _constant(g, *_):                               # the _backward of a constant: nothing flows in
    return ()


def _value(x, op, strict=True):
    """Return x as a Value for op: a real number becomes a constant; else TypeError naming op
    and x (strict=False: NotImplemented for an unknown type, so Python asks the other operand)."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) or type(x).__name__ in ("bool_", "bool"):   # numpy's bool too
        try:
            return _node(float(x), (), None)        # a constant
        except OverflowError:
            raise OverflowError(f"{op}: {x!r} is too large for a float") from None
    if strict or x is None or isinstance(x, (str, bytes, complex, list, tuple, dict)):
        raise TypeError(f"{op}: expected a real number or a Value, got {x!r} ({type(x).__name__})")
    return NotImplemented


# ---------------- the numbers in the closures
# backward() gives the closures floats, create_graph=True Values, jit its symbols. Arithmetic
# works on all three; each helper computes on plain numbers and passes the rest on: a Value to
# its ops, a symbol to its call(), which writes a call of that same helper as code.

def _real(x):                                       # a plain number: not a Value, not a jit symbol
    return x.__class__ is float or isinstance(x, numbers.Real)


def _symbol(*xs):                                   # the first jit symbol among xs (it has call())
    return next((x for x in xs if x.__class__ is not float and hasattr(x, "call")), None)


def _num(x):                                        # the number behind x, for a comparison
    return x.data if isinstance(x, Value) else x


def _mask(off, x):
    """0 where off is true, else x: a zero slope passes nothing, not even an infinite g."""
    if off.__class__ is bool or not hasattr(off, "call"):
        return 0.0 if off else x
    return off.call(_mask, off, x)


def _math(fn, x, op, domain=""):
    """Return fn(x), turning math's bare errors into ones that name op, x and the domain."""
    if not _real(x):
        return x.call(_math, fn, x, op, domain)
    try:
        return fn(x)
    except OverflowError:
        raise OverflowError(f"{op}: the result for x = {x!r} is too large for a float") from None
    except ValueError:
        raise ValueError(f"{op}: defined for {domain}, got x = {x!r}" if domain else
                         f"{op}: not defined for x = {x!r}") from None


def _power(x, y):
    """x ** y, never complex; ±inf beyond the float range, as x * x gives it."""
    if not (_real(x) and _real(y)):
        s = _symbol(x, y)
        return x ** y if s is None else s.call(_power, x, y)    # on Values: the ** op
    if x < 0.0 and math.isfinite(x) and math.isfinite(y) and not float(y).is_integer():
        raise ValueError(f"**: a negative base to a non-integer power is not real: {x!r} ** {y!r}")
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError(f"**: 0.0 cannot be raised to the negative power {y!r}")
    try:
        return float(x) ** y
    except OverflowError:
        return -math.inf if x < 0.0 and y % 2.0 == 1.0 else math.inf


def _over(g, d):
    """g / d in a derivative, where d = ±0 is an infinite slope: ±inf, or 0 if g is 0."""
    if _real(g) and _real(d):
        return g / d if d != 0.0 else 0.0 if g == 0.0 else g * math.copysign(math.inf, d)
    if _symbol(g, d) is not None:
        return _symbol(g, d).call(_over, g, d)
    g, d = _value(g, "/"), _value(d, "/")          # on Values: an op, for higher derivatives
    def _backward(G, x=g.data, y=d.data, *_):
        return _over(G, y), -_over(G * x, y * y)    # d(x/y)/dx = 1/y, d(x/y)/dy = -x/y²
    return _node(_over(g.data, d.data), (g, d), _backward)


def _pow_dx(g, x, y):
    """g·y·x^(y-1), as PyTorch: 0 for y = 0 (x^0 is 1), an infinite slope at x = 0 for y < 1."""
    if _symbol(g, x, y) is not None:
        return _symbol(g, x, y).call(_pow_dx, g, x, y)
    if _num(y) == 0.0:
        return 0.0
    if _num(x) == 0.0 and _num(y) < 1.0:
        return _over(g * y, _power(x, 1.0 - y))      # y / x^(1-y): ±inf, as IEEE gives it
    return g * (y * _power(x, y - 1.0))


def _ln(x):
    """ln x for d(x^y)/dy: 0 at x = 0 (as PyTorch); ValueError for x < 0."""
    if _num(x) < 0.0:
        raise ValueError(f"**: the exponent's slope x^y·ln x needs x >= 0, got x = {_num(x)!r}")
    return 0.0 if _num(x) == 0.0 else x.log() if isinstance(x, Value) else _math(math.log, x, "log")


################ Part II — tools
# Everything from here on is built on Part I: more ops written the same way,
# and tools that call backward() or the closures.

import functools
import inspect
import operator
import threading

# ---------------- the other math functions, as one table
# Each row: the name (a Value method), the function on floats, the chain rule
# g -> g·f'(x) written with x and y = f(x) (any kind of number), and the domain
# named in errors. _fn(name, x) computes a row's function on any kind of number.

def _sigmoid(x):
    """σ(x) = 1 / (1 + e^-x) on a float, without overflow."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus(x):
    """ln(1 + e^x) on a float, without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


MATH = [  # name    on floats    d/dx as a function of g, x and y = f(x)          domain
    ("log",     math.log,    lambda g, x, y: g / x,                               "x > 0"),
    ("sqrt",    math.sqrt,   lambda g, x, y: _over(g, 2.0 * y),                   "x >= 0"),
    ("abs",     abs,         lambda g, x, y: g * ((x > 0.0) - (x < 0.0)),         ""),
    ("sigmoid", _sigmoid,    lambda g, x, y: g * y * (1.0 - y),                   ""),
    ("softplus", _softplus,  lambda g, x, y: g * _fn("sigmoid", x),               ""),
    ("sin",     math.sin,    lambda g, x, y: g * _fn("cos", x),                   "finite x"),
    ("cos",     math.cos,    lambda g, x, y: -g * _fn("sin", x),                  "finite x"),
    ("tan",     math.tan,    lambda g, x, y: g * (1.0 + y * y),                   "finite x"),
    ("sinh",    math.sinh,   lambda g, x, y: g * _fn("cosh", x),                  ""),
    ("cosh",    math.cosh,   lambda g, x, y: g * _fn("sinh", x),                  ""),
    ("asin",    math.asin,   lambda g, x, y: _over(g, _fn("sqrt", 1.0 - x * x)),   "-1 <= x <= 1"),
    ("acos",    math.acos,   lambda g, x, y: _over(-g, _fn("sqrt", 1.0 - x * x)),  "-1 <= x <= 1"),
    ("atan",    math.atan,   lambda g, x, y: g / (1.0 + x * x),                   ""),
    ("asinh",   math.asinh,  lambda g, x, y: g / _fn("sqrt", x * x + 1.0),        ""),
    ("acosh",   math.acosh,  lambda g, x, y: _over(g, _fn("sqrt", x * x - 1.0)),   "x >= 1"),
    ("atanh",   math.atanh,  lambda g, x, y: g / ((1 - x) * (1 + x)),             "-1 < x < 1"),
    ("log2",    math.log2,   lambda g, x, y: g / (x * math.log(2.0)),             "x > 0"),
    ("log10",   math.log10,  lambda g, x, y: g / (x * math.log(10.0)),            "x > 0"),
    ("log1p",   math.log1p,  lambda g, x, y: g / (1.0 + x),                       "x > -1"),
    ("expm1",   math.expm1,  lambda g, x, y: g * (y + 1.0),                       ""),
]
_ON_FLOATS = {name: fn for name, fn, _, _ in MATH}
_ON_FLOATS["exp"] = math.exp


def _fn(name, x):
    """The table's function name at x: on a number, as a Value's op, or as a call in jit's code."""
    if _real(x):
        return _ON_FLOATS[name](x)
    return getattr(x, name)() if isinstance(x, Value) else x.call(_ON_FLOATS[name], x)


def _math_op(name, fn, df, domain):
    """Make the Value method for one row of MATH: compute y, write the closure, return."""
    def op(a):
        y = _math(fn, a.data, name, domain)
        def _backward(g, x=a.data, y=y):
            return (df(g, x, y),)                       # the row's chain rule
        _backward.__qualname__ = f"Value.{name}.<locals>._backward"   # for drawings: the op's name
        return _node(y, (a,), _backward)
    op.__name__, op.__qualname__ = name, f"Value.{name}"
    op.__doc__ = f"{name}(x)" + (f", for {domain}" if domain else "")
    return op


for _row in MATH:
    setattr(Value, _row[0], _math_op(*_row))
del _row
Value.__abs__ = Value.abs


def _leaky_relu(a, slope=0.01):
    """x if x > 0 else slope·x; the slope may be a Value that learns"""
    s = _value(slope, "leaky_relu")
    def _backward(g, x=a.data, k=s.data, *_):
        return g * ((x > 0.0) + k * (x <= 0.0)), g * x * (x <= 0.0)    # d/dx = 1 or k, d/dk = x or 0
    x, k = a.data, s.data
    return _node(_mask(x <= 0.0, x) + _mask(x > 0.0, k * x), (a, s), _backward)


# ---------------- plain-number behaviour, and PyTorch's names
# Comparisons look at the numbers; == and hash stay identity, so that Values
# can be dict keys and set members, as the graph walks need. Inside jit the
# numbers are symbols: a comparison becomes a guard, and int(), round(),
# format() and float() refuse, rather than bake a number into the code.

class _Habits:
    """Value methods beyond the engine: comparisons, conversions, PyTorch's and micrograd's names."""

    def __lt__(a, b): return a.data < _num(b)
    def __le__(a, b): return a.data <= _num(b)
    def __gt__(a, b): return a.data > _num(b)
    def __ge__(a, b): return a.data >= _num(b)

    def __bool__(self):
        return bool(self.data != 0.0)

    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __round__(self, ndigits=None):
        """round(v) is an int and round(v, n) a float, as for the number itself (no graph)."""
        return round(self.data, ndigits)

    def __format__(self, spec):
        return format(self.data, spec)

    def __pos__(a):
        """+x: x itself"""
        return a

    def square(a):
        """x²"""
        return a * a

    def item(self):
        """The number, as a Python float (PyTorch's name for .data)."""
        return float(self.data)

    @property
    def is_leaf(self):
        """True unless an op that something learns from made this Value (PyTorch's meaning)."""
        return not self._prev

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place and return self (PyTorch's name)."""
        self.requires_grad = requires_grad
        return self

    def detach(self):
        """Return a constant with the same number, cut off from the graph."""
        v = _node(self.data, (), None)
        v.label = self.label
        return v

    def zero_grad(self):
        """Set to 0 the gradient of this Value and of every Value it depends on."""
        for v in _all_nodes([self]):
            v.grad = 0.0

    def __reduce__(self):
        """pickle and copy save the number, grad, requires_grad and label, as a leaf (as PyTorch)."""
        return _leaf_again, (self.data, self.grad, self.requires_grad, self.label)

    def __deepcopy__(self, memo):
        if self._prev:
            raise RuntimeError(f"deepcopy: {self!r} was made by an op; only leaves can be deep-copied "
                               f"(as in PyTorch): use v.detach() for a copy of its number")
        return _leaf_again(self.data, self.grad, self.requires_grad, self.label)


def _leaf_again(data, grad, requires_grad, label):
    """Make a leaf from what __reduce__ saved."""
    v = Value(data, label, requires_grad=requires_grad)
    v.grad = grad
    return v


for _name, _attr in vars(_Habits).items():           # each becomes a Value method
    if _name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"):
        setattr(Value, _name, _attr)
del _name, _attr
Value.leaky_relu = _leaky_relu


# ---------------- no_grad and enable_grad: a flag per thread

_local = threading.local()      # per thread: .enabled (recording on?) and .tracer (jit's, if tracing)
_users = [0]                    # blocks open and traces running, over all threads
_users_lock = threading.Lock()


def _watch(out):
    """The hook _node calls while some thread is in no_grad or jit: apply this thread's mode to out."""
    if not getattr(_local, "enabled", True):
        out._prev = ()
        out._backward = _constant
    tracer = getattr(_local, "tracer", None)
    if tracer is not None:
        tracer(out)


def _use_hook(n):
    """Count a user of the hook in (n = 1) or out (n = -1); _node calls _watch while there are any."""
    global _hook
    with _users_lock:
        _users[0] += n
        _hook = _watch if _users[0] else None


class no_grad:
    """Record no graph inside `with no_grad():` on this thread: results are constants.

    Also a decorator, @no_grad or @no_grad(); on a generator function, each
    resume of its body runs under the mode, as in PyTorch.
    """

    enabled = False                 # the mode inside the block

    def __new__(cls, fn=None):
        return cls()(fn) if fn is not None else super().__new__(cls)

    def __init__(self, fn=None):
        pass

    def __enter__(self):
        _local.__dict__.setdefault("saved", []).append(getattr(_local, "enabled", True))
        _local.enabled = self.enabled
        _use_hook(1)
        return self

    def __exit__(self, *exc):
        saved = _local.__dict__.setdefault("saved", [])    # (empty: a generator finished elsewhere)
        _local.enabled = saved.pop() if saved else True
        _use_hook(-1)
        return False

    def __call__(self, fn):
        mode = type(self)
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def resumed_under_mode(*args, **kwargs):
                gen, sent, resume = fn(*args, **kwargs), None, None
                while True:
                    try:
                        with mode():
                            out = gen.send(sent) if resume is None else resume()
                    except StopIteration as stop:
                        return stop.value
                    resume = None
                    try:
                        sent = yield out
                    except GeneratorExit:
                        with mode():
                            gen.close()
                        raise
                    except BaseException as e:
                        resume = functools.partial(gen.throw, e)
            return resumed_under_mode

        @functools.wraps(fn)
        def under_mode(*args, **kwargs):
            with mode():
                return fn(*args, **kwargs)
        return under_mode


class enable_grad(no_grad):
    """Record the graph inside `with enable_grad():`, even within no_grad (on this thread)."""

    enabled = True


_engine_backward = Value.backward


@functools.wraps(_engine_backward)
def _backward(self, gradient=None, *, create_graph=False):
    if not create_graph:
        return _engine_backward(self, gradient)
    with enable_grad():                     # create_graph records its graph even inside no_grad
        return _engine_backward(self, gradient, create_graph=True)


Value.backward = _backward
del _backward


# ---------------- fused ops: one node for a whole sum, dot product or log-sum-exp
# Their numbers go through helpers like Part I's, so that jit can write each
# as one call.

def _values(xs, op):
    """Return xs as a tuple of Values for op (numbers become constants)."""
    if isinstance(xs, (str, bytes)):
        raise TypeError(f"{op}: expected numbers or Values, got {xs!r}")
    return tuple([x if x.__class__ is Value else _value(x, op) for x in xs])


def _sum(numbers):
    """Σ numbers, as sum() adds floats; a jit symbol among them writes it as one call of sum."""
    s = _symbol(*numbers)
    return sum(numbers, 0.0) if s is None else s.call(sum, list(numbers), 0.0)


def _dot(numbers, n):
    """Σ wi·xi + b over numbers = (w1..wn, x1..xn, b); a jit symbol writes it as one line."""
    ws, xs, b = numbers[:n], numbers[n:2 * n], numbers[-1]
    s = _symbol(*numbers)
    return _dot_of(ws, xs, b) if s is None else s.call(_dot_of, list(ws), list(xs), b)


def _dot_of(ws, xs, b):
    """Σ wi·xi + b on floats."""
    return sum(map(operator.mul, ws, xs), 0.0) + b


def vsum(values):
    """Return the sum of many Values as a single node (faster than a chain of +)."""
    xs = _values(values, "vsum")
    def _backward(g, *_, n=len(xs)):
        return (g,) * n                                  # d(Σxi)/dxi = 1
    return _node(_sum([x.data for x in xs]), xs, _backward)


def dot(w, x, bias=0.0):
    """Return Σ wi·xi + bias as a single node: a neuron's w·x + b."""
    w, x = list(w), list(x)
    if len(w) != len(x):
        raise ValueError(f"dot: the two sequences differ in length ({len(w)} and {len(x)})")
    return _dot_node(_values(w + x + [bias], "dot"), len(w))


def _dot_node(parents, n):
    """dot() on parents = (w1..wn, x1..xn, b), all Values already."""
    numbers = [p.data for p in parents]
    def _backward(g, *wxb, n=n, numbers=numbers):    # (wxb: the parents and the result, if given)
        wxb = wxb or numbers                             # d(w·x + b)/dwi = xi, /dxi = wi, /db = 1
        return [g * xi for xi in wxb[n:2 * n]] + [g * wi for wi in wxb[:n]] + [g]
    return _node(_dot(numbers, n), parents, _backward)


def logsumexp(values):
    """Return ln Σ e^xi as a single node, computed without overflow."""
    xs = _values(values, "logsumexp")
    if not xs:
        raise ValueError("logsumexp: needs at least one value")
    numbers = [x.data for x in xs]
    z = _lse(numbers)
    def _backward(g, *xs, numbers=numbers, z=z):
        xs, z = (xs[:-1], xs[-1]) if xs else (numbers, z)
        return [g * _fn("exp", x - z) for x in xs]      # d lse/dxi = e^(xi - lse), the softmax
    return _node(z, xs, _backward)


def _lse(xs):
    """ln Σ e^xi on floats, without overflow; a jit symbol among them writes it as one call."""
    s = _symbol(*xs)
    if s is not None:
        return s.call(_lse, list(xs))
    if any(map(math.isnan, xs)):
        return math.nan
    m = max(xs)
    return m if math.isinf(m) else m + math.log(sum([math.exp(x - m) for x in xs], 0.0))


# ---------------- calculus: numerical checks, grad, forward mode, Jacobians, Hessians
# Called with floats, these tools return floats. Called with Values (inside
# another grad's function), they return Values that the outer grad can
# differentiate again, as JAX's transforms nest.

def _all_nodes(roots):
    """Return every Value the roots depend on, leaves included, each after its parents."""
    order, seen = [], set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root._prev))]
        while stack:
            v, parents = stack[-1]
            p = next((p for p in parents if p not in seen), None)
            if p is None:
                stack.pop()
                order.append(v)
            else:
                seen.add(p)
                stack.append((p, iter(p._prev)))
    return order


def _check(v, op):
    """Return v if it is a Value, else raise TypeError naming op."""
    if not isinstance(v, Value):
        raise TypeError(f"{op}: expected a Value, got {v!r} ({type(v).__name__})")
    return v


def _nested():
    """Whether a tool runs inside another transform's function: then its results are Values, for
    the outer one to differentiate (as JAX's transforms nest)."""
    return getattr(_local, "depth", 0) > 0


def _inside(f, *args):
    """Call f(*args) as a transform's function, so that transforms f calls know they are nested."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        with enable_grad():        # a transform records its graph even inside no_grad
            return f(*args)
    finally:
        _local.depth -= 1


def _scalar(out, op):
    """Return f's output as a Value (a number becomes a constant), or raise TypeError naming op."""
    if isinstance(out, bool) or not isinstance(out, (Value, numbers.Real)):
        raise TypeError(f"{op}: f must return a single Value or number (a scalar), got {out!r}")
    return _value(out, op)


def _step_size(eps, op, name):
    """Return eps as a positive finite float, or raise ValueError naming op and the argument."""
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0.0 < eps < math.inf:
        raise ValueError(f"{op}: {name} (the step) must be a number > 0, got {eps!r}")
    return float(eps)


def central_difference(f, *args, arg=0, epsilon=1e-6):
    """Return ∂f/∂args[arg] ≈ (f(x + ε) − f(x − ε)) / 2ε, leaving every .grad as it was."""
    if isinstance(arg, bool) or not isinstance(arg, int) or not 0 <= arg < len(args):
        raise IndexError(f"central_difference: arg={arg!r} is out of range for {len(args)} argument(s)")
    eps = _step_size(epsilon, "central_difference", "epsilon")
    xs = [a if isinstance(a, Value) else _value(a, "central_difference") for a in args]
    up, down = xs[:], xs[:]
    up[arg], down[arg] = xs[arg] + eps, xs[arg] - eps
    if _nested():                                   # on Values: differentiable, as in JAX
        return (_scalar(f(*up), "central_difference") - _scalar(f(*down), "central_difference")) / (2 * eps)
    with no_grad():
        ups, downs = (_scalar(f(*[_value(x.data, "central_difference") for x in p]), "central_difference")
                      for p in (up, down))
        return (ups.data - downs.data) / (2.0 * eps)


def _gradients(out, wrt, create_graph=False):
    """Return d(out)/dw for each w in wrt, leaving every .grad in the graph as it was."""
    nodes = _all_nodes([out])
    saved = [v.grad for v in nodes]
    try:
        for v in nodes:
            v.grad = 0.0
        if out.requires_grad:
            out.backward(create_graph=create_graph)
        inside = set(nodes)
        return [w.grad if w in inside else 0.0 for w in wrt]
    finally:
        for v, g in zip(nodes, saved):
            v.grad = g


def _argnums(argnums, n, op):
    """Return argnums as a tuple of positions in 0..n-1, or raise naming op."""
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"{op}: argnums must be an int or a tuple of ints, got {argnums!r}")
        if not -n <= i < n:
            raise IndexError(f"{op}: argnums={argnums!r} is out of range for {n} argument(s)")
    return tuple(i % n for i in nums)


def _input(a, op):
    """A fresh variable for a: connected to a's graph when a is a Value that learns."""
    if not (isinstance(a, Value) and a.requires_grad):
        return Value(_value(a, op).data)
    def _backward(g, *_):
        return (g,)                                      # dx/dx = 1
    return _node(a.data, (a,), _backward)


def value_and_grad(f, argnums=0):
    """Return a function computing (f(*args), ∂f/∂args[argnums]), as jax.value_and_grad does.

    The other arguments reach f as they were passed. Plain numbers in, floats
    out; inside another grad's function (on Values) it returns Values.
    """
    if isinstance(argnums, bool):
        raise TypeError(f"grad: argnums must be an int or a tuple of ints, got {argnums!r}")

    def value_and_grad_f(*args):
        nums = _argnums(argnums, len(args), "grad")
        nested = _nested()
        inputs = [_input(a, "grad") if i in nums else a for i, a in enumerate(args)]
        out = _scalar(_inside(f, *inputs), "grad")
        with enable_grad():
            grads = _gradients(out, [inputs[i] for i in nums], create_graph=nested)
        if nested:
            grads = [_value(g, "grad") for g in grads]
        else:
            out, grads = out.data, [float(g) for g in grads]
        return out, grads[0] if isinstance(argnums, int) else tuple(grads)
    value_and_grad_f.__name__ = f"value_and_grad_{getattr(f, '__name__', 'f')}"
    value_and_grad_f._transform = (f, argnums, "value_and_grad")   # what jit traces
    return value_and_grad_f


def grad(f, argnums=0):
    """Return a function computing ∂f/∂args[argnums] (an int or a tuple), as jax.grad does."""
    vg = value_and_grad(f, argnums)

    def grad_f(*args):
        return vg(*args)[1]
    grad_f.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    grad_f._transform = (f, argnums, "grad")
    return grad_f


def derivative(f):
    """Return f′, the derivative of a function of one number, as a function float → float."""
    return grad(f, 0)


def gradients_by_label(out):
    """Return {label: d(out)/d(leaf)} for every labelled leaf out depends on (the notes' named partials)."""
    leaves = [v for v in _all_nodes([_check(out, "gradients_by_label")])
              if not v._prev and v.label and v.requires_grad]
    result = {}
    for v, g in zip(leaves, _gradients(out, leaves)):
        if v.label in result:
            raise ValueError(f"gradients_by_label: two different leaves are labelled {v.label!r}")
        result[v.label] = float(g)
    return dict(sorted(result.items()))


class GradcheckError(RuntimeError):
    """Autodiff and central differences disagree (raised by gradcheck)."""


def gradcheck(f, *args, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compare every autodiff partial of f with a central difference; return True or raise.

    The test, as PyTorch's: |autodiff − numerical| ≤ atol + rtol·|numerical|.
    Raises GradcheckError with a table of every partial when any disagree.
    """
    _step_size(eps, "gradcheck", "eps")
    floats = [_value(a, "gradcheck").data for a in args]
    auto = grad(f, tuple(range(len(floats))))(*floats) if floats else ()
    rows, ok = [], True
    for i, a in enumerate(auto):
        n = central_difference(f, *floats, arg=i, epsilon=eps)
        bad = not abs(a - n) <= atol + rtol * abs(n)
        ok = ok and not bad
        rows.append(f"{f'x{i}':>9} {a:>14.6g} {n:>14.6g} {a - n:>14.3g}" + ("  <- mismatch" if bad else ""))
    if ok:
        return True
    raise GradcheckError("\n".join(
        [f"gradcheck: {getattr(f, '__name__', 'f')} at {tuple(floats)}: autodiff and numerical "
         f"gradients differ (atol={atol}, rtol={rtol}, eps={eps})",
         f"{'argument':>9} {'autodiff':>14} {'numerical':>14} {'difference':>14}"] + rows))


def _record(f, primals, op):
    """Run f on fresh inputs for primals: return the inputs, the outputs, single?, and the order."""
    inputs = [_input(p, op) for p in primals]
    out = _inside(f, *inputs)
    single = isinstance(out, Value)
    outs = [out] if single else list(out) if isinstance(out, (list, tuple)) else None
    if not outs or not all(isinstance(o, Value) for o in outs):
        raise TypeError(f"{op}: f must return a Value or a non-empty list of Values, got {out!r}")
    order = []
    for v in _all_nodes(outs):                          # parents first
        if v._prev:
            order.append(v)
    return inputs, outs, single, order


def _push_tangents(order, tangent, recorded):
    """Forward mode: carry d(node)/dt from the inputs through order (parents first).

    The same closures serve: called with g = 1, a node's closure returns its
    local derivatives (Values when recorded, for an outer grad). On floats a
    zero derivative passes nothing on, not even an infinite tangent: the mirror
    of backward(), where a zero gradient passes nothing through an infinite
    slope, so that both modes give the same Jacobian.
    """
    for v in order:
        if not any(p in tangent for p in v._prev):
            continue
        terms = [d * tangent[p] if recorded else 0.0 if d == 0.0 else d * tangent[p]
                 for p, d in zip(v._prev, v._backward(1.0, *v._prev, v) if recorded else v._backward(1.0))
                 if p in tangent and d is not _NONE]
        if terms:
            tangent[v] = terms[0] if len(terms) == 1 else sum(terms[1:], terms[0])
    return tangent


def _out(x, nested):
    """A result of a tool: a Value when nested, else a float."""
    return _value(x, "jvp") if nested else float(x)


def jvp(f, primals, tangents):
    """Return (f(primals), J·tangents) by forward mode, as jax.jvp does."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primal(s) but {len(tangents)} tangent(s); "
                         f"there must be one tangent per primal")
    nested = _nested()
    tangents = [t if isinstance(t, Value) else _value(t, "jvp").data for t in tangents]
    inputs, outs, single, order = _record(f, primals, "jvp")
    with enable_grad():
        t = _push_tangents(order, dict(zip(inputs, tangents)), nested)
    values = [_out(o if nested else o.data, nested) for o in outs]
    dots = [_out(t.get(o, 0.0), nested) for o in outs]
    return (values[0], dots[0]) if single else (values, dots)


def jacobian(f, mode="rev"):
    """Return a function computing f's m×n Jacobian (a list of m rows), for f: Rⁿ → Rᵐ.

    mode="rev": one backward pass per output (m passes), like jax.jacrev.
    mode="fwd": one forward-mode pass per input (n passes), like jax.jacfwd.
    """
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', got {mode!r}")

    def jacobian_f(*args):
        nested = _nested()
        inputs, outs, single, order = _record(f, args, "jacobian")
        if mode == "rev":
            return [[_out(g, nested) for g in _gradients(o, inputs, nested)] for o in outs]
        columns = []
        for x in inputs:
            with enable_grad():
                t = _push_tangents(order, {x: 1.0}, nested)    # only x moves
            columns.append([_out(t.get(o, 0.0), nested) for o in outs])
        return [list(row) for row in zip(*columns)] if columns else [[] for _ in outs]
    return jacobian_f


def hessian(f):
    """Return a function computing the n×n matrix of second derivatives of f at its n arguments.

    Raises ValueError on a kink (relu or abs at 0), where there is no second derivative.
    """
    def hessian_f(*args):
        nested = _nested()
        inputs = [_input(a, "hessian") for a in args]
        out = _scalar(_inside(f, *inputs), "hessian")
        for v in _all_nodes([out]):
            if v._prev and _op_name(v) in ("relu", "abs", "leaky_relu") and v._prev[0].data == 0.0:
                raise ValueError(f"hessian: {_op_name(v)} is not twice differentiable at its kink "
                                 f"x = {v._prev[0].data!r}")
        with enable_grad():
            first = _gradients(out, inputs, create_graph=True)
            return [[_out(h, nested) for h in _gradients(g, inputs, nested)]
                    if isinstance(g, Value) and g.requires_grad else [_out(0.0, nested)] * len(inputs)
                    for g in first]
    return hessian_f


def _op_name(v):
    """The name of the op that made v, read from its closure's name: "mul", "tanh", "Square"."""
    name = v._backward.__qualname__.split(".<locals>")[0].split(".")[-1].strip("_")
    return {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**"}.get(name, name)


# ---------------- custom functions: forward and backward by hand, as in the lectures

class _Saved(float):
    """One saved number: a float (x = ctx.saved_values) that also unpacks as a tuple of one
    ((x,) = ctx.saved_values, ctx.saved_values[0]), so both idioms of the course notes work."""

    def __iter__(self):
        return iter((float(self),))

    def __len__(self):
        return 1

    def __getitem__(self, i):
        return (float(self),)[i]


class Context:
    """What a ScalarFunction's forward keeps for its backward."""

    def __init__(self):
        self._saved = ()               # the values given to save_for_backward

    def save_for_backward(self, *values):
        """Keep values for backward."""
        self._saved = values

    @property
    def saved_values(self):
        """The saved values: one comes back as itself (a float that also unpacks), several as a tuple."""
        if len(self._saved) == 1:
            x = self._saved[0]
            return _Saved(x) if isinstance(x, numbers.Real) and not isinstance(x, bool) else x
        return self._saved

    @property
    def saved_tensors(self):
        """The saved values, always as a tuple (PyTorch's name)."""
        return tuple(self._saved)

    def __repr__(self):
        return f"Context(saved_values={self._saved!r})"


class ScalarFunction:
    """A new op written by hand: subclass, define forward and backward, call .apply.

        class Square(ScalarFunction):
            @staticmethod
            def forward(ctx, x):               # floats in, a float out
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, d_out):          # d(out)/d(result) in; one gradient per input out
                x = ctx.saved_values
                return 2 * x * d_out

        y = Square.apply(Value(3.0))
    """

    @staticmethod
    def forward(ctx, *values):
        raise NotImplementedError("a ScalarFunction subclass must define forward(ctx, *values)")

    @staticmethod
    def backward(ctx, d_out):
        raise NotImplementedError("a ScalarFunction subclass must define backward(ctx, d_out)")

    @classmethod
    def apply(cls, *args):
        """Run forward on the numbers inside args; record the result, with backward as its closure."""
        inputs = _values(args, cls.__name__)
        numbers_in = [x.data for x in inputs]
        s = _symbol(*numbers_in)
        if s is None:
            out, ctx = _custom_forward(cls, *numbers_in)
        else:                           # jit: both halves become calls, with a fresh Context per run
            pair = s.call(_custom_forward, cls, *numbers_in)
            out, ctx = pair[0], pair[1]

        def _backward(g, *_, cls=cls, ctx=ctx, n=len(inputs)):   # the chain rule, as the class wrote it
            if isinstance(g, Value):
                raise RuntimeError(f"{cls.__name__}: a ScalarFunction's backward works on numbers, so "
                                   f"create_graph=True (higher derivatives) cannot pass through it")
            s = _symbol(g, ctx)
            if s is None:
                return _custom_backward(cls, ctx, g, n)
            grads = s.call(_custom_backward, cls, ctx, g, n)
            return [grads[i] for i in range(n)]
        _backward.__qualname__ = f"{cls.__name__}.<locals>._backward"    # for drawings: the op's name
        return _node(out, inputs, _backward)


def _custom_forward(cls, *xs):
    """A ScalarFunction's forward on numbers: its result as a float, and the Context it filled."""
    ctx = Context()
    out = cls.forward(ctx, *xs)
    if isinstance(out, (Value, bool)) or not isinstance(out, numbers.Real):
        raise TypeError(f"{cls.__name__}.forward must return a real number, got {out!r}")
    return float(out), ctx


def _custom_backward(cls, ctx, g, n):
    """A ScalarFunction's backward on numbers: n floats, one per input, or an error naming cls."""
    grads = cls.backward(ctx, g)
    if n == 1 and not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if not isinstance(grads, (tuple, list)) or len(grads) != n:
        raise ValueError(f"{cls.__name__}.backward returned {grads!r}: expected {n} gradient(s), "
                         f"one per input")
    for d in grads:
        if d is not None and (isinstance(d, Value) or not isinstance(d, numbers.Real)):
            raise TypeError(f"{cls.__name__}.backward returned {d!r} as a gradient: expected a real number")
    return tuple(_NONE if d is None else float(d) for d in grads)  # None: no gradient, as in PyTorch


class _Unconnected(float):
    """The 0 that a backward's None stands for: forward mode passes nothing through it."""


_NONE = _Unconnected(0.0)


# ---------------- drawing: the graph as a picture or as text, and backprop step by step

def backward_steps(root):
    """Return the Values in the order backward() processes them: step k handles the k-th."""
    return _order(root) if _check(root, "backward_steps").requires_grad else []


def _grads_after(root, step):
    """Replay the first step steps of root.backward() on the side: return ({node: grad}, node at step)."""
    if step is None:
        return {v: v.grad for v in _all_nodes([root])}, None
    order = backward_steps(root)
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= len(order):
        raise ValueError(f"step must be an int from 0 to {len(order)} (the backward pass has "
                         f"{len(order)} steps), got {step!r}")
    grads = {root: 1.0} if root.requires_grad else {}
    for v in order[:step]:
        for p, d in zip(v._prev, v._backward(grads.get(v, 0.0))):
            if p.requires_grad:
                grads[p] = grads.get(p, 0.0) + d
    return grads, order[step - 1] if step else root


def _num_text(x):
    """A number in a compact form for drawings."""
    return "—" if x is None else f"{float(x):.4g}"


def _names(nodes):
    """Name each node: its label (control characters escaped), else its op and a number."""
    return {v: (v.label if v.label.isprintable() else repr(v.label)[1:-1]) if v.label else
            f"{_op_name(v) if v._prev else 'leaf' if v.requires_grad else 'const'}#{i}"
            for i, v in enumerate(nodes)}


def graph_text(root, step=None):
    """Return the graph as text, parents indented under each Value, with op, data and grad.

    A Value used twice gets its full line once and "(shown above)" after that;
    past depth 20 the indentation stops growing and the depth is written out.
    """
    nodes = _all_nodes([_check(root, "graph_text")])
    grads, current = _grads_after(root, step)
    names = _names(nodes)
    lines, shown, stack = [], set(), [(root, 0)]
    while stack:
        v, depth = stack.pop()
        indent = "  " * depth if depth <= 20 else "  " * 20 + f"[depth {depth}] "
        mark = "  <- step" if v is current and step is not None else ""
        if v in shown:
            lines.append(f"{indent}{names[v]} (shown above)")
            continue
        shown.add(v)
        kind = f"= {_op_name(v)}(" + ", ".join(names[p] for p in v._prev) + ")" if v._prev else \
            ("constant" if not v.requires_grad else "leaf")
        lines.append(f"{indent}{names[v]} {kind}  data {_num_text(v.data)}  grad {_num_text(grads.get(v))}{mark}")
        stack.extend((p, depth + 1) for p in reversed(v._prev))
    return "\n".join(lines)


def _record_text(text):
    """Escape text for a Graphviz record label."""
    return "".join("\\" + c if c in "{}|<>\\\"" else c for c in str(text))


def draw_dot(root, rankdir="LR", format="svg", step=None, max_nodes=10_000):
    """Return a graphviz.Digraph of everything root depends on, drawn from inputs to root.

    Each Value is a record (label | data | grad); each op is a small node of its own.
    Leaves that learn are blue, constants grey and dashed. With step=k, the graph
    shows the gradients after the first k steps of the backward pass, the node
    being processed in red. Raises ImportError without the graphviz package, and
    ValueError for a graph of more than max_nodes Values.
    """
    _check(root, "draw_dot")
    try:
        import graphviz
    except ImportError:
        raise ImportError('draw_dot needs the graphviz Python package: pip install "tinygrad_scalar[viz]" '
                          '(and the Graphviz program itself, e.g. apt-get install graphviz)') from None
    nodes = _all_nodes([root])
    if len(nodes) > max_nodes:
        raise ValueError(f"draw_dot: the graph has {len(nodes)} Values, more than max_nodes={max_nodes}: "
                         f"too big to draw usefully; draw a smaller expression or raise max_nodes")
    grads, current = _grads_after(root, step)
    dot = _drawing_class(graphviz)(format=format, graph_attr={"rankdir": rankdir})
    dot._root, dot._step, dot._size = root, step, len(nodes)
    uids = {v: f"v{i}" for i, v in enumerate(nodes)}   # stable names: the same drawing every run
    for v in nodes:
        uid = uids[v]
        style = {"shape": "record", "fontsize": "11"}
        if not v.requires_grad:
            style.update(style="dashed,filled", fillcolor="#eeeeee", color="#888888")
        elif not v._prev:
            style.update(style="filled", fillcolor="#dbeafe")
        if step is not None and v is current:
            style.update(color="red", penwidth="2.5")
        fields = ([_record_text(v.label)] if v.label else []) + \
            [f"data {_num_text(v.data)}", f"grad {_num_text(grads.get(v))}"]
        dot.node(uid, "{ " + " | ".join(fields) + " }", **style)
        if v._prev:
            dot.node(uid + "op", _record_text(_op_name(v)), shape="circle", fontsize="10",
                     width="0.3", margin="0.02")
            dot.edge(uid + "op", uid)
            for p in v._prev:
                dot.edge(uids[p], uid + "op")
    return dot


_GRAPHVIZ_HINT = ("the drawing needs the Graphviz program `dot`: install it with your system's "
                  "package manager (apt-get install graphviz, brew install graphviz, conda install graphviz)")
_drawing_classes = {}


def _drawing_class(graphviz):
    """A graphviz.Digraph that shows the text view, not a traceback, when `dot` is missing."""
    if "cls" not in _drawing_classes:
        class Drawing(graphviz.Digraph):
            def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
                try:
                    return super()._repr_mimebundle_(include, exclude, **kwargs)
                except graphviz.ExecutableNotFound:
                    return {"text/plain": f"{graph_text(self._root, self._step)}\n({_GRAPHVIZ_HINT})"}

            def __repr__(self):
                return f"<draw_dot drawing of {self._size} Values>"
        _drawing_classes["cls"] = Drawing
    return _drawing_classes["cls"]


################ Part III — training
# A neuron is one dot node and an activation; a layer is neurons side by
# side; an MLP is layers in a row. The optimizers and losses follow PyTorch's
# names and formulas; the data sets are plain Python.

import random


def _rng(seed):
    """Return what to draw from: a Random as given, or a new Random(seed)."""
    if seed is None or seed is random:
        return random                                # so random.seed(1337) repeats the draws
    return seed if isinstance(seed, random.Random) else random.Random(seed)


def _count(n, what, where):
    """Return n if it is a positive int, else raise ValueError naming where."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{where}: {what} must be a positive int, got {n!r}")
    return n


_ACTIVATIONS = {"relu": Value.relu, "tanh": Value.tanh, "sigmoid": Value.sigmoid, "none": None}


def _activation(activation, nonlin, where):
    """Return the activation's name, reading micrograd's nonlin=True/False as "relu"/"none"."""
    if nonlin is not None:
        if not isinstance(nonlin, bool):
            raise TypeError(f"{where}: nonlin must be True (ReLU) or False (linear), "
                            f"got {nonlin!r}")
        if activation != "relu":
            raise ValueError(f"{where}: give activation={activation!r} or nonlin={nonlin!r}, "
                             "not both")
        activation = "relu" if nonlin else "none"
    activation = "none" if activation in (None, "linear") else activation
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{where}: activation must be one of 'relu', 'tanh', 'sigmoid', 'none'; "
                         f"got {activation!r}")
    return activation


class _Inputs(tuple):
    """A tuple of Values already checked, which a layer hands the next one."""


def _inputs_of(x, nin, where):
    """Return x as _Inputs of nin Values (numbers become constants), or raise naming where."""
    if isinstance(x, (Value, numbers.Real)):
        x = [x]
    try:
        x = list(x)
    except TypeError:
        raise TypeError(f"{where}: expected a list of {nin} numbers or Values, got {x!r}") from None
    if len(x) != nin:
        raise ValueError(f"{where}: expected {nin} input(s), got {len(x)}: {x!r}")
    return _Inputs(_values(x, where))


def _data(tree):
    """Return a tree of dicts and lists of Values with each Value replaced by its .data."""
    if isinstance(tree, dict):
        return {k: _data(v) for k, v in tree.items()}
    return [_data(v) for v in tree] if isinstance(tree, list) else tree.data


def _walk(tree, state, where, name=""):
    """Yield (name, Value, number) for each Value in tree and its number in state, or raise naming
    where state differs in shape: name "layers.0.weight[3][1]" is state["layers.0.weight"][3][1]."""
    if isinstance(tree, dict):
        if not isinstance(state, dict) or set(state) != set(tree):
            got = sorted(state) if isinstance(state, dict) else state
            raise ValueError(f"load_state_dict: {where} expects keys {sorted(tree)}, got {got!r}")
        for k in tree:
            yield from _walk(tree[k], state[k], f"{where}.{k}", k)
    elif isinstance(tree, list):
        if not isinstance(state, (list, tuple)) or len(state) != len(tree):
            n = len(state) if isinstance(state, (list, tuple)) else state
            raise ValueError(f"load_state_dict: {where} expects a list of {len(tree)}, got {n!r}")
        for i, (t, s) in enumerate(zip(tree, state)):
            yield from _walk(t, s, f"{where}[{i}]", f"{name}[{i}]")
    elif isinstance(state, bool) or not isinstance(state, numbers.Real):
        raise TypeError(f"load_state_dict: {where} expects a number, got {state!r}")
    else:
        yield name, tree, state


class Module:
    """A model part with parameters: the base of Neuron, Layer and MLP."""

    def parameters(self):
        """Return the list of Values this module learns."""
        return []

    def zero_grad(self):
        """Set every parameter's gradient to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def __call__(self, x):
        return self.forward(x)

    def _named(self):                                # state_dict()'s shape, with the Values in it
        return {"parameters": self.parameters()}

    def named_parameters(self):
        """Yield (name, Value) in parameters() order, named by the Value's place in state_dict()."""
        walk = _walk(self._named(), self.state_dict(), type(self).__name__)
        names = {id(p): name for name, p, _ in walk}
        for p in self.parameters():
            yield names[id(p)], p

    def state_dict(self):
        """Return the parameters as plain, JSON-serialisable data, named as in PyTorch."""
        return _data(self._named())

    def load_state_dict(self, state):
        """Set the parameters from state_dict() data; a wrong shape changes nothing and raises."""
        leaves = list(_walk(self._named(), state, type(self).__name__))   # all checked first
        new = [_value(x, "load_state_dict").data for _, _, x in leaves]
        for (_, p, _), x in zip(leaves, new):
            p.data = x


class Neuron(Module):
    """act(w·x + b), with w from uniform(-1, 1) and b = 0 as in micrograd (init="micrograd"),
    or w and b from uniform(±1/√nin) as in nn.Linear (init="pytorch")."""

    def __init__(self, nin, activation="relu", seed=None, *, nonlin=None, init="micrograd"):
        _count(nin, "nin", "Neuron")
        self.activation = _activation(activation, nonlin, "Neuron")
        if init not in ("pytorch", "micrograd"):
            raise ValueError(f"Neuron: init must be 'micrograd' or 'pytorch', got {init!r}")
        rng = _rng(seed)
        bound = 1.0 if init == "micrograd" else 1.0 / math.sqrt(nin)
        self.w = [Value(rng.uniform(-bound, bound)) for _ in range(nin)]
        self.b = Value(0.0 if init == "micrograd" else rng.uniform(-bound, bound))
        self._act = _ACTIVATIONS[self.activation]

    @property
    def nonlin(self):
        """micrograd's name: whether an activation follows w·x + b."""
        return self.activation != "none"

    def forward(self, x):
        xs = x if x.__class__ is _Inputs and len(x) == len(self.w) else \
            _inputs_of(x, len(self.w), "Neuron")
        out = _dot_node((*self.w, *xs, self.b), len(self.w))
        return self._act(out) if self._act else out

    def parameters(self):
        return self.w + [self.b]

    def _named(self):
        return {"weight": self.w, "bias": self.b}

    def __repr__(self):
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """nout neurons side by side, all reading the same nin inputs."""

    def __init__(self, nin, nout, activation="relu", seed=None, *, nonlin=None, init="micrograd"):
        _count(nout, "nout", "Layer")
        activation = _activation(activation, nonlin, "Layer")
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, rng, init=init) for _ in range(nout)]

    def forward(self, x):
        xs = _inputs_of(x, len(self.neurons[0].w), "Layer")
        out = [n.forward(xs) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def _named(self):
        return {"weight": [n.w for n in self.neurons], "bias": [n.b for n in self.neurons]}

    def __repr__(self):
        return (f"Layer({len(self.neurons[0].w)}, {len(self.neurons)}, "
                f"activation={self.neurons[0].activation!r})")


class MLP(Module):
    """Layers in a row: MLP(2, [16, 16, 1]) maps 2 inputs through two hidden layers to 1 output."""

    def __init__(self, nin, nouts, activation="relu", seed=None, *, nonlin=None, init="micrograd"):
        if not isinstance(nouts, (list, tuple)) or not nouts:
            raise TypeError(f"MLP: nouts must be a list of layer widths such as [16, 16, 1], "
                            f"got {nouts!r}")
        activation = _activation(activation, nonlin, "MLP")
        rng = _rng(seed)
        sizes = [nin] + list(nouts)
        acts = [activation] * (len(nouts) - 1) + ["none"]   # the last is linear, as in micrograd
        self.layers = [Layer(a, b, act, rng, init=init)
                       for a, b, act in zip(sizes, sizes[1:], acts)]

    def forward(self, x):
        xs = _inputs_of(x, len(self.layers[0].neurons[0].w), "MLP")
        for layer in self.layers:
            xs = _Inputs([n.forward(xs) for n in layer.neurons])
        return xs[0] if len(xs) == 1 else list(xs)

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def _named(self):
        return {f"layers.{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer._named().items()}

    def __repr__(self):
        widths = [len(layer.neurons) for layer in self.layers]
        return f"MLP({len(self.layers[0].neurons[0].w)}, {widths})"


# ---------------- optimizers: SGD and Adam, with PyTorch's update rules

class _Optimizer:
    """Holds a list of parameters; step() updates them from their gradients."""

    def __init__(self, params, lr):
        name = type(self).__name__
        if isinstance(params, Module):
            raise TypeError(f"{name}: got the model {params!r}; pass model.parameters()")
        try:
            self.params = list(params) if not isinstance(params, Value) else [params]
        except TypeError:
            raise TypeError(f"{name}: expected a list of Values to optimize, "
                            f"got {params!r}") from None
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list")
        seen = set()
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{name}: parameter {i} is {p!r}, expected a Value")
            if p in seen:                            # it would be stepped twice per step()
                raise ValueError(f"{name}: parameter {i} ({p!r}) is listed more than once")
            seen.add(p)
        self.lr = _hyper(lr, name, "lr")

    def zero_grad(self):
        """Set every parameter's gradient to 0."""
        for p in self.params:
            p.grad = 0.0


def _hyper(x, name, what, high=math.inf, positive=False):
    """Return x as a float in [0, high) (above 0 if positive), or raise ValueError naming it."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not 0.0 <= x < high \
            or (positive and x == 0.0):
        bound = f"in [0, {high:g})" if high < math.inf else "> 0" if positive else ">= 0"
        raise ValueError(f"{name}: {what} must be a number {bound}, got {x!r}")
    return float(x)


class SGD(_Optimizer):
    """p ← p − lr·(g + wd·p), with optional momentum, as torch.optim.SGD."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum = _hyper(momentum, "SGD", "momentum")
        self.weight_decay = _hyper(weight_decay, "SGD", "weight_decay")
        self.velocity = [None] * len(self.params)   # momentum buffers, made on the first step

    def step(self):
        """Update every parameter once, skipping one whose grad is None (as PyTorch does)."""
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = float(p.grad) + self.weight_decay * p.data
            if self.momentum:
                b = self.velocity[i]
                g = self.velocity[i] = g if b is None else self.momentum * b + g
            p.data -= self.lr * g


class Adam(_Optimizer):
    """Steps by bias-corrected running means of g and g², as torch.optim.Adam."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1, self.beta2 = (_hyper(b, "Adam", "betas", high=1.0) for b in betas)
        self.eps = _hyper(eps, "Adam", "eps", positive=True)    # 0 would make 0/0 at g = 0
        self.weight_decay = _hyper(weight_decay, "Adam", "weight_decay")
        self.m = [0.0] * len(self.params)            # running mean of g
        self.v = [0.0] * len(self.params)            # running mean of g²
        self.t = 0                                   # steps taken

    def step(self):
        """Update every parameter once, skipping a grad of None; compute all, then set all."""
        t = self.t + 1
        c1, c2 = 1.0 - self.beta1 ** t, 1.0 - self.beta2 ** t
        new = []
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = float(p.grad) + self.weight_decay * p.data
            m = self.beta1 * self.m[i] + (1.0 - self.beta1) * g
            v = self.beta2 * self.v[i] + (1.0 - self.beta2) * g * g
            new.append((i, m, v, p.data - self.lr * (m / c1) / (math.sqrt(v / c2) + self.eps)))
        for i, m, v, data in new:
            self.m[i], self.v[i], self.params[i].data = m, v, data
        self.t = t


# ---------------- losses, with PyTorch's names and meanings

def _pairs(preds, targets, op):
    """Return preds and targets as two equal-length lists of Values (a single pair too)."""
    if isinstance(preds, (Value, numbers.Real)):
        preds, targets = [preds], [targets]
    if not isinstance(targets, (list, tuple)) or not isinstance(preds, (list, tuple)):
        raise TypeError(f"{op}: expected predictions and targets as two lists (or one of each), "
                        f"got {preds!r} and {targets!r}")
    if len(preds) != len(targets) or not preds:
        raise ValueError(f"{op}: {len(preds)} prediction(s) but {len(targets)} target(s)")
    return list(_values(preds, op)), list(_values(targets, op))


def _mean(values):
    return vsum(values) * (1.0 / len(values))


def mse_loss(preds, targets):
    """Return the mean of (pred − target)²."""
    preds, targets = _pairs(preds, targets, "mse_loss")
    return _mean([(p - t) * (p - t) for p, t in zip(preds, targets)])


def hinge_loss(scores, labels):
    """Return the mean of max(0, 1 − label·score), labels ±1: micrograd's max-margin loss."""
    scores, labels = _pairs(scores, labels, "hinge_loss")
    for y in labels:
        if y.data not in (-1.0, 1.0):
            raise ValueError(f"hinge_loss: labels must be -1 or +1, got {y!r}")
    return _mean([(1 - y * s).relu() for s, y in zip(scores, labels)])


def binary_cross_entropy_with_logits(logits, targets):
    """Return the mean of softplus(x) − x·t, the stable −t·ln σ(x) − (1 − t)·ln(1 − σ(x))."""
    logits, targets = _pairs(logits, targets, "binary_cross_entropy_with_logits")
    return _mean([x.softplus() - x * t for x, t in zip(logits, targets)])


def cross_entropy(logits, target):
    """Return −log softmax(logits)[target]; for a batch of rows and targets, the mean."""
    if not isinstance(logits, (list, tuple)) or not logits:
        raise TypeError(f"cross_entropy: expected a non-empty list of logits, got {logits!r}")
    if isinstance(logits[0], (list, tuple)):
        if not isinstance(target, (list, tuple)) or len(logits) != len(target):
            raise ValueError(f"cross_entropy: {len(logits)} examples need a list of "
                             f"{len(logits)} class indices, got {target!r}")
        return _mean([cross_entropy(row, t) for row, t in zip(logits, target)])
    if isinstance(target, bool) or not hasattr(type(target), "__index__"):   # int, numpy's ints
        raise TypeError(f"cross_entropy: target must be an int class index, got {target!r}")
    target = operator.index(target)
    if not 0 <= target < len(logits):
        raise ValueError(f"cross_entropy: target must be a class index in [0, {len(logits)}), "
                         f"got {target!r}")
    x = _value(logits[target], "cross_entropy")
    return logsumexp(logits) - x


# ---------------- data for demos and tests, in pure Python

def make_moons(n=None, noise=0.1, seed=None, *, n_samples=None):
    """Return (X, y): n points on two interleaving half circles, labels 0 and 1 (as sklearn)."""
    if n_samples is not None:
        if n is not None and n != n_samples:
            raise ValueError(f"make_moons: give n={n!r} or n_samples={n_samples!r}, not both")
        n = n_samples
    n = 100 if n is None else _count(n, "n", "make_moons")
    rng = _rng(seed)
    n_out = n // 2
    X, y = [], []
    for i in range(n):
        outer = i < n_out
        k, m = (i, n_out) if outer else (i - n_out, n - n_out)
        t = math.pi * k / max(m - 1, 1)
        x1, x2 = (math.cos(t), math.sin(t)) if outer else (1 - math.cos(t), 0.5 - math.sin(t))
        X.append([x1 + rng.gauss(0, noise), x2 + rng.gauss(0, noise)])
        y.append(0 if outer else 1)
    return X, y


def make_linear(n=50, weight=5.0, bias=10.0, noise=3.0, x_range=(-10.0, 10.0), seed=None):
    """Return (xs, ys) with y = bias + weight·x + gaussian noise: the notes' regression."""
    rng = _rng(seed)
    xs = [rng.uniform(*x_range) for _ in range(n)]
    return xs, [bias + weight * x + rng.gauss(0, noise) for x in xs]


################ Appendix — jit: trace once, then run straight-line Python
# jit(f) runs f once on Values whose numbers are symbols: each operation on a
# symbol computes its number, as a float would, and writes one line of Python
# that computes it again. The ops, their closures and Part I's helpers run
# unchanged: a helper hands a symbol its call(), which writes a call of that
# helper. Reading a symbol as a plain number (if, int(), format) either
# becomes a guard, a line that sends a call down another branch back to f, or
# raises. The backward pass is the engine's loop, run on symbols. The lines
# are compiled once; later calls run them on floats alone.

import sys
from keyword import iskeyword


class _Retrace(Exception):
    """Raised by generated code when a guard fails: this call takes another branch than the trace."""


class _Code:
    """The code being written: its lines, in the order they ran, and the namespace they will run in."""

    def __init__(self):
        self.lines = []                # (target symbol or None for a guard, template, operands, comment)
        self.namespace = {"Retrace": _Retrace, "inf": math.inf, "nan": math.nan, "mul": operator.mul}
        self.count = 0
        self.open = True               # False once written out: a symbol kept after that is stale
        self.failed = None             # an error an op raised while f was being traced

    def bind(self, obj):
        """Give obj a name in the namespace (its own name where free) and return that name."""
        base = str(getattr(obj, "__name__", "fn")).strip("_")
        base = base if base.isidentifier() and base.isascii() and not iskeyword(base) else "fn"
        name, k = base, 1
        while self.namespace.setdefault(name, obj) is not obj:
            name, k = f"{base}_{k}", k + 1
        return name


class _Symbol:
    """A number in the code being written: it holds its value in the trace and the code that made it."""

    __slots__ = ("name", "value", "code")

    def __init__(self, code, value, name=None):
        code.count += 1
        self.name, self.value, self.code = name or f"t{code.count}", value, code

    def __repr__(self):                              # errors name the number, as the engine's do
        return repr(self.value)

    def write(self, fn, template, *operands):
        """Compute fn on the operands' values, and write name = template filled with the operands."""
        values = [_traced_value(x, self.code) for x in operands]
        try:
            value = fn(*values)
        except Exception as e:
            self.code.failed = self.code.failed or e     # f may catch it: then the trace is refused
            raise
        out = _Symbol(self.code, value)
        self.code.lines.append((out, template, operands, ""))
        return out

    def call(self, fn, *args):
        """Write a call of fn (a helper, or a float function) on args: the protocol Part I uses."""
        if fn is _math:                              # _math(exp, x, ...) is written exp(x): an error
            f, x, op, domain = args                  # there retraces, and the trace raises _math's own
            return self.write(lambda v: _math(f, v, op, domain), self.code.bind(f) + "({})", x)
        template = _INLINE.get(fn) or self.code.bind(fn) + "(" + ", ".join(["{}"] * len(args)) + ")"
        return self.write(fn, template, *args)

    def __bool__(self):                                  # if x > 0: a guard on the branch taken
        outcome = bool(self.value)
        self.code.lines.append((None, "if not {}: raise Retrace" if outcome else "if {}: raise Retrace",
                                (self,), f"guard: {outcome} in the trace"))
        return outcome

    def _refuse(how):
        def read(self, *_):
            raise TypeError(f"jit: {how}(v) reads the traced number {self!r} as a plain number (as "
                            f"float, int, round, format and v.item() do), which would bake it into the "
                            f"generated code; compare Values instead (v > 0 is a guard), or do not jit f")
        return read
    __float__, __int__, __index__, __round__ = _refuse("float"), _refuse("int"), _refuse("index"), _refuse("round")
    __format__, __trunc__, __floor__, __ceil__ = _refuse("format"), _refuse("trunc"), _refuse("floor"), _refuse("ceil")
    __hash__ = object.__hash__

    def __neg__(a): return a.write(operator.neg, "-{}", a)
    def __pos__(a): return a
    def __abs__(a): return a.write(abs, "abs({})", a)
    def __getitem__(a, i): return a.write(operator.getitem, "{}[{}]", a, i)


def _symbol_pair(template, fn):
    """Make a <op> b and b <op> a for symbols, each writing one line (1.0 * x is x itself)."""
    def forward(a, b):
        return a if fn is operator.mul and b.__class__ is float and b == 1.0 else a.write(fn, template, a, b)

    def reverse(b, a):
        return b if fn is operator.mul and a.__class__ is float and a == 1.0 else b.write(fn, template, a, b)
    return forward, reverse


for _op, _fn_of in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                    ("truediv", operator.truediv), ("lt", operator.lt), ("le", operator.le),
                    ("gt", operator.gt), ("ge", operator.ge), ("eq", operator.eq), ("ne", operator.ne)):
    _template = {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "lt": "<", "le": "<=", "gt": ">",
                 "ge": ">=", "eq": "==", "ne": "!="}[_op]
    _forward, _reverse = _symbol_pair("{} " + _template + " {}", _fn_of)
    setattr(_Symbol, f"__{_op}__", _forward)
    if _op in ("add", "sub", "mul", "truediv"):
        setattr(_Symbol, f"__r{_op}__", _reverse)
del _op, _fn_of, _template, _forward, _reverse
_Symbol.__pow__, _Symbol.__rpow__ = (lambda a, b: a.call(_power, a, b)), (lambda b, a: b.call(_power, a, b))

# Helpers written inline rather than called, for speed where they run once per op.
_INLINE = {_mask: "0.0 if {} else {}", _dot_of: "sum(map(mul, {}, {}), 0.0) + {}"}


def _traced_value(x, code):
    """The value of an operand in the trace, checking it belongs to the code being written."""
    if isinstance(x, _Symbol):
        if x.code is not code or not code.open:
            raise RuntimeError(f"jit: {x!r} comes from another trace, or was kept after the function "
                               f"returned: a jitted function may keep no traced Value")
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(_traced_value(y, code) for y in x)
    if isinstance(x, Value):
        raise TypeError(f"jit: a traced number met the Value {x!r} as a plain operand")
    return x


def _literal(x, code=None):
    """Python source for an operand: a symbol's name, a number that reads back exactly, a tuple."""
    if isinstance(x, _Symbol):
        return x.name
    if isinstance(x, (list, tuple)):
        return "(" + "".join(_literal(y, code) + ", " for y in x) + ")"
    if isinstance(x, float):
        text = "nan" if x != x else repr(x)
        return f"({text})" if text.startswith("-") else text
    if isinstance(x, (bool, int, str)) or x is None:
        return repr(x)
    return code.bind(x)


def _comment(text):
    """A user's string (a label, a class name) made safe for a comment: printable characters only."""
    return "".join(c for c in str(text) if c.isprintable())[:60]


def _write(code, returns, inputs, title):
    """Return the source of run(inputs) for the trace: unused lines dropped, one-use temporaries
    written into the line that reads them, and a long body cut into parts (see _parts)."""
    needed, kept = {r for r in returns if isinstance(r, _Symbol)}, []    # (sets: symbols' == writes code)
    for line in reversed(code.lines):
        target, _, operands, _ = line
        if target is None or target in needed:       # guards always stay
            kept.append(line)
            needed.update(x for x in _flat(operands) if isinstance(x, _Symbol))
    kept.reverse()
    reads = {}
    for _, _, operands, _ in kept:
        for x in _flat(operands):
            if isinstance(x, _Symbol):
                reads[x] = reads.get(x, 0) + 1
    inline, body = {}, []                  # inline: temporary -> (its expression, the names it reads)
    needed_out = {r for r in returns if isinstance(r, _Symbol)}
    for target, template, operands, comment in kept:
        uses, bare = set(), template in ("{}", "if {}: raise Retrace", "if not {}: raise Retrace")
        text = template.format(*[_source(x, inline, code, uses, bare) for x in operands])
        if target is None:
            body.append((None, f"{text:<40s}  # {comment}", uses))
        elif target.name[0] == "t" and reads.get(target) == 1 and target not in needed_out and len(text) < 70:
            inline[target] = (text, uses, template[0].isalpha() and template.endswith(")"))   # f(...)
        else:
            body.append((target.name, f"{target.name} = {text}" + (f"  # {comment}" if comment else ""), uses))
    return _parts(body, [_literal(r, code) for r in returns], inputs, title)


def _source(x, inline, code, uses, bare=False):
    """The source for an operand, with a temporary's expression written in (in parentheses
    unless bare or a call); adds the names it reads to uses."""
    if isinstance(x, (list, tuple)):
        return "(" + "".join(_source(y, inline, code, uses) + ", " for y in x) + ")"
    if isinstance(x, _Symbol) and x in inline:
        text, names, atomic = inline.pop(x)
        uses |= names
        return text if bare or atomic else f"({text})"
    if isinstance(x, _Symbol):
        uses.add(x.name)
    return _literal(x, code)


def _flat(operands):
    """The operands, with those inside lists and tuples."""
    for x in operands:
        if isinstance(x, (list, tuple)):
            yield from x
        else:
            yield x


def _parts(body, returns, inputs, title, size=2000):
    """The source of run(inputs): one function, or for a long body a chain of parts sharing a list M.

    Compiling one huge function takes time and memory that grow faster than its
    length, so each part of at most size lines is compiled on its own.
    """
    head = f"# generated by tinygrad_scalar.jit from {_comment(title)}\n"
    ret = "    return " + ", ".join(returns) + ",\n"
    if len(body) <= size:
        return [head + f"def run({', '.join(inputs)}):\n" + "".join(f"    {t}\n" for _, t, _ in body) + ret]
    chunks = [body[k:k + size] for k in range(0, len(body), size)]
    made = {name: c for c, chunk in enumerate(chunks) for name, _, _ in chunk if name}
    slot, loads = {n: k for k, n in enumerate(inputs)}, []
    for c, chunk in enumerate(chunks):
        used = set().union(*[u for _, _, u in chunk]) | (set(returns) if c == len(chunks) - 1 else set())
        loads.append(sorted(n for n in used if n in inputs or made.get(n, c) < c))
        for n in loads[-1]:
            slot.setdefault(n, len(slot))
    parts = []
    for c, chunk in enumerate(chunks):
        later = set().union(*loads[c + 1:])
        parts.append((head if c == 0 else "") + f"def part{c}(M):\n" +
                     "".join(f"    {n} = M[{slot[n]}]\n" for n in loads[c]) +
                     "".join(f"    {t}\n" for _, t, _ in chunk) +
                     "".join(f"    M[{slot[n]}] = {n}\n" for n in sorted(later) if made.get(n) == c) +
                     (ret if c == len(chunks) - 1 else ""))
    parts.append(f"def run({', '.join(inputs)}):\n    M = [{''.join(n + ', ' for n in inputs)}"
                 f"*[None] * {len(slot) - len(inputs)}]\n" +
                 "".join(f"    part{c}(M)\n" for c in range(len(chunks) - 1)) +
                 f"    return part{len(chunks) - 1}(M)\n")
    return parts


def _write_backward(root, wrt):
    """Run the engine's backward loop on symbols; return d(root)/dw for each w in wrt."""
    grads = {root: 1.0}
    for v in _order(root):
        g = grads.pop(v, None)
        if g is None:
            continue
        if isinstance(g, _Symbol) and g.name[0] == "t" and isinstance(v.data, _Symbol):
            g.name = "d" + v.data.name               # v's gradient, complete: dv7 is d(root)/d(v7)
        for p, d in zip(v._prev, v._backward(g)):
            if p._backward is not _constant:
                grads[p] = d if p not in grads else grads[p] + d
    return [grads.get(w, 0.0) for w in wrt]


class _Tracer:
    """What _node's hook reports while jit traces f: names the nodes, and notes outside Values."""

    def __init__(self, code):
        self.code, self.outside, self.nodes = code, {}, 0

    def __call__(self, out):
        if isinstance(out.data, _Symbol) and out.data.code is self.code and out.data.name[0] == "t":
            self.nodes += 1
            out.data.name = f"v{self.nodes}"
            target, template, operands, _ = self.code.lines[-1]
            if target is out.data:                   # its line: a comment with the op and the label
                note = _op_name(out) + (f" {_comment(out.label)!r}" if out.label else "")
                self.code.lines[-1] = (target, template, operands, note)
        for p in out._prev:                          # a leaf from outside that learns: its number is
            if not p._prev and p.requires_grad and not isinstance(p.data, _Symbol):    # baked in,
                self.outside.setdefault(p, p.data)   # so a call after it changed traces f again


class _Trace:
    """One compiled trace: its source, the function it defines, and what it was traced for."""

    def __init__(self, parts, namespace, static, outside, shape):
        self.source = "".join(parts)
        for part in parts:                           # compiled part by part: see _parts
            exec(compile(part, "<jit>", "exec"), namespace)
        self.run, self.static, self.outside, self.shape = namespace["run"], static, outside, shape

    def fits(self, static):
        """Whether this trace serves a call with these untraced arguments and outside numbers."""
        return self.static == static and all(p.data == x or (p.data != p.data and x != x)
                                             for p, x in self.outside.items())


class _Jitted:
    """The function jit returns: code generated for f, written on the first call."""

    MAX_TRACES = 8                                   # traces kept, one per branch taken

    def __init__(self, f, argnums, mode, params=None):
        self.f, self.argnums, self.mode, self.params = f, argnums, mode, params
        self.traces = []                             # newest first
        self.lock = threading.RLock()                # reentrant: f may call itself
        self.__name__ = f"jit_{getattr(f, '__name__', 'f')}"
        self.__doc__ = getattr(f, "__doc__", None)

    @property
    def source(self):
        """The generated Python source of the newest trace."""
        if not self.traces:
            raise RuntimeError(f"jit: {self.__name__} has not been called yet; the code is written "
                               f"on the first call")
        return self.traces[0].source

    def __repr__(self):
        return f"<jit of {getattr(self.f, '__name__', self.f)!r}, {len(self.traces)} trace(s)>"

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError(f"jit: pass the arguments of {self.__name__} by position, got {sorted(kwargs)!r}")
        if self.params is None and any(isinstance(a, Value) for a in args):
            return self._eager(*args)                # called on Values (inside grad, say): f itself
        xs, static, traced = self._split(args)
        for trace in list(self.traces):
            if trace.fits(static):
                try:
                    return self._shaped(trace, trace.run(*xs))
                except _Retrace:
                    continue
                except (ArithmeticError, ValueError):
                    break                            # trace again: f raises the engine's own error
        with self.lock:                              # one thread traces; the others then use its trace
            for trace in self.traces:
                if trace.fits(static):
                    try:
                        return self._shaped(trace, trace.run(*xs))
                    except (_Retrace, ArithmeticError, ValueError):
                        pass
            trace = self._trace(args, xs, static, traced)
            self.traces = [trace] + self.traces[:self.MAX_TRACES - 1]
        try:
            return self._shaped(trace, trace.run(*xs))
        except _Retrace:
            raise RuntimeError(f"jit: {self.__name__} took another branch when run again on the same "
                               f"numbers; f must be a function of its arguments alone") from None

    def _eager(self, *args):
        if self.mode == "f":
            return self.f(*args)
        return (value_and_grad if self.mode == "value_and_grad" else grad)(self.f, self.argnums)(*args)

    def _split(self, args):
        """Return the traced arguments' numbers, the others as (position, type, value), and the
        traced positions: for grad, the argnums ones; else the floats (see jit)."""
        if self.params is not None:
            if args:
                raise TypeError(f"jit_loss: the step takes no arguments (it reads the parameters), got {args!r}")
            return [p.data for p in self.params], [], []
        if self.mode == "f":
            traced = [i for i, a in enumerate(args) if isinstance(a, float)]
        else:
            traced = list(dict.fromkeys(_argnums(self.argnums, len(args), "grad")))   # once each
        xs = [_value(args[i], "jit").data for i in traced]
        return xs, [len(args)] + [(i, type(a), a) for i, a in enumerate(args) if i not in traced], traced

    def _trace(self, args, xs, static, traced):
        """Run f on Values holding symbols, write the code for what it did, compile it."""
        code = _Code()
        leaves = list(self.params) if self.params is not None else []
        saved = [p.data for p in leaves]
        names = [f"x{i}" for i in range(len(xs))]
        symbols = [_Symbol(code, x, name) for x, name in zip(xs, names)]
        tracer, previous = _Tracer(code), getattr(_local, "tracer", None)
        _local.tracer = tracer
        _use_hook(1)
        try:
            if self.params is not None:
                for p, s in zip(leaves, symbols):
                    p.data = s
                call_args = []
            else:
                leaves = [_symbolic_leaf(s) for s in symbols]
                call_args = list(args)
                for i, leaf in zip(traced, leaves):
                    call_args[i] = leaf
            result = _inside(self.f, *call_args)
            if code.failed is not None:
                raise RuntimeError(f"jit: {self.__name__} caught the error {code.failed!r}, raised by an "
                                   f"op while being traced; jit cannot follow a try/except around a traced "
                                   f"op: do not jit this function") from code.failed
            outs, shape = self._outputs(result)
            returns = [o.data for o in outs]
            if self.mode != "f":                     # the gradients, for argnums in their order
                wrt = leaves if self.params is not None else \
                    [leaves[traced.index(i)] for i in _argnums(self.argnums, len(args), "grad")]
                for w, g in zip(wrt, _write_backward(outs[0], wrt)):
                    if isinstance(g, _Symbol):           # each under its own name, added to 0.0 as
                        g = g.write(lambda x: 0.0 + x, "0.0 + {}", g)     # backward() adds it
                        g.name = "d" + w.data.name
                    returns.append(g if isinstance(g, _Symbol) else 0.0 + g)
            parts = _write(code, returns, names, self.__name__)
        finally:
            _local.tracer = previous
            _use_hook(-1)
            code.open = False
            for p, x in zip(self.params or [], saved):
                p.data = x
        return _Trace(parts, code.namespace, static, tracer.outside, shape)

    def _outputs(self, result):
        """Check what f returned; return its Values and how to shape the floats the code returns."""
        if self.mode == "loss" and isinstance(result, (tuple, list)) and len(result) == 2 \
                and isinstance(result[1], (tuple, list)):
            loss, aux = result
            if isinstance(loss, Value) and aux and all(isinstance(a, Value) for a in aux):
                return [loss] + list(aux), ("aux", len(aux))
        if self.mode in ("grad", "value_and_grad") and not isinstance(result, (Value, bool)) \
                and isinstance(result, numbers.Real):
            result = _value(result, "grad")          # a constant, as grad takes it: slope 0
        if isinstance(result, Value):
            return [result], None
        if self.mode == "f" and isinstance(result, (tuple, list)) and result \
                and all(isinstance(r, Value) for r in result):
            return list(result), type(result)
        raise TypeError(f"jit: {self.__name__} must return a Value" +
                        (" or a non-empty list or tuple of Values" if self.mode == "f" else
                         " (a scalar), or (loss, [Values...])" if self.mode == "loss" else " (a scalar)") +
                        f", got {result!r}")

    def _shaped(self, trace, out):
        """Give the flat tuple the code returns the shape f (or grad, or value_and_grad) gives."""
        shape, mode = trace.shape, self.mode
        if mode == "f":
            return out[0] if shape is None else shape(out)
        if mode == "loss":
            k = 1 + (shape[1] if shape else 0)
            for p, g in zip(self.params, out[k:]):
                p.grad = g
            return out[0] if shape is None else (out[0], list(out[1:k]))
        grads = out[1] if isinstance(self.argnums, int) else tuple(out[1:])
        return (out[0], grads) if mode == "value_and_grad" else grads


def _symbolic_leaf(symbol):
    """A leaf that learns, holding a symbol as its number."""
    v = Value(0.0)
    v.data = symbol
    return v


def jit(f):
    """Return a function computing f on numbers by code generated from one trace, as jax.jit does.

    The first call runs f on Values whose numbers write code; later calls run
    that code (.source shows it). jit(value_and_grad(f, argnums)) and jit(grad(f))
    write the backward pass too, from the ops' own closures. Float arguments
    (for grad, the argnums ones) are traced; the others reach f as they are,
    and another value traces f again. A comparison of traced numbers becomes a
    guard: a call that goes the other way traces f again. Reading a traced
    number as a plain one (int, float, round, format, item) raises, as does an
    op that raises while being traced inside a try. Work whose result reaches
    neither an output nor a guard is dropped, as in JAX.
    """
    if isinstance(f, _Jitted):
        return f
    if not callable(f):
        raise TypeError(f"jit: expected a function, got {f!r}")
    inner, argnums, mode = getattr(f, "_transform", (f, None, "f"))
    return _Jitted(inner, argnums, mode)


def jit_loss(loss_fn, params):
    """Return step(): loss_fn() by jitted code, with each parameter's .grad set to d(loss)/d(it).

    loss_fn takes no arguments and computes a loss from the parameters (a model
    over a fixed batch); params are the Values it learns. Each call reads their
    current .data, so an optimizer can update them in between: loss = step();
    opt.step(). Gradients are set, not added. loss_fn may also return (loss,
    [Values...]), and step() then returns (loss, [floats]).
    """
    try:
        params = list(params) if not isinstance(params, Value) else [params]
    except TypeError:
        raise TypeError(f"jit_loss: expected a list of Values to learn, got {params!r}") from None
    for i, p in enumerate(params):
        if not isinstance(p, Value) or p._prev or not p.requires_grad:
            raise TypeError(f"jit_loss: parameter {i} is {p!r}; expected a leaf Value that requires grad")
    if len(set(params)) != len(params):
        raise ValueError("jit_loss: a parameter appears twice in params")
    if not callable(loss_fn):
        raise TypeError(f"jit_loss: expected a function of no arguments, got {loss_fn!r}")
    return _Jitted(loss_fn, None, "loss", params)


# ---------------- the main job: python tinygrad_scalar.py

import argparse
import collections
import os


class TrainResult(collections.namedtuple("TrainResult", "model accuracy")):
    """Unpack as (model, accuracy); .losses and .accuracies hold every step's numbers, to plot."""


def train_moons(steps=200, n=100, seed=1, progress=True, use_jit=True):
    """Train MLP(2, [16, 16, 1]) on two-moons, as micrograd's demo does, until 100% accuracy."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"train_moons: steps must be an int >= 0, got {steps!r}")
    X, y = make_moons(n, noise=0.1, seed=seed)
    labels = [2 * t - 1 for t in y]                  # hinge loss wants -1 and +1
    model = MLP(2, [16, 16, 1], activation="relu", seed=seed)
    params = model.parameters()
    opt = SGD(params, lr=1.0)

    def loss_and_scores():                           # the whole batch, and its scores for accuracy
        scores = [model(x) for x in X]
        return hinge_loss(scores, labels) + 1e-4 * vsum(p * p for p in params), scores

    def step_by_backward():                          # what the jitted step does, by the graph
        loss, scores = loss_and_scores()
        opt.zero_grad()
        loss.backward()
        return loss.data, [s.data for s in scores]

    step = jit_loss(loss_and_scores, params) if use_jit else step_by_backward   # sets every p.grad
    report = _progress_bar(steps) if progress else None
    losses, accuracies = [], []
    for k in range(steps + 1):
        loss, scores = step()
        losses.append(loss)
        accuracies.append(sum((s > 0) == (t > 0) for s, t in zip(scores, labels)) / n)
        last = accuracies[-1] == 1.0 or k == steps   # the model returned is the one just measured
        if report:
            report(k, loss, accuracies[-1], last)
        if last:
            break
        opt.lr = 1.0 - 0.9 * k / steps               # learning-rate decay
        opt.step()
    result = TrainResult(model, accuracies[-1])
    result.losses, result.accuracies = losses, accuracies
    return result


def _progress_bar(total):
    """Return report(k, loss, accuracy, last): a tqdm.auto bar if installed, else lines of text."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    bar = tqdm(total=total, desc="training", unit="step") if tqdm else None
    redraw = sys.stdout is not None and sys.stdout.isatty()   # else a line every tenth of the steps

    def report(k, loss, acc, last):
        line = f"step {k:{len(str(total))}d}/{total}  loss {loss:.4f}  accuracy {acc:6.1%}"
        if bar is not None:
            bar.set_postfix(loss=f"{loss:.4f}", accuracy=f"{acc:.0%}", refresh=False)
            bar.update(k - bar.n)
            if last:
                bar.close()
        elif redraw:
            print("\r" + line, end="\n" if last else "", flush=True)
        elif last or k % max(1, total // 10) == 0:
            print(line, flush=True)
    return report


def main(argv=()):
    """Differentiate the course notes' example, check it numerically, then train a small MLP."""
    formula = "log(x1*x2*(x1 + x2)) / (x1 - x2)**2"   # ASCII: any terminal prints it
    parser = argparse.ArgumentParser(prog="python -m tinygrad_scalar", description=(
        f"Differentiate the course notes' example f(x1, x2) = {formula} at (2, 10), check its "
        "gradient against a central difference, then train MLP(2, [16, 16, 1]) on two-moons with "
        "SGD until 100% training accuracy or --steps (the training step is traced once by "
        "jit_loss, then runs as generated Python)."))
    parser.add_argument("--steps", type=int, default=200, metavar="N",
                        help="train for at most N steps (default: %(default)s)")
    parser.add_argument("--version", action="version", version=f"tinygrad_scalar {__version__}")
    args = parser.parse_args(list(argv))
    if args.steps < 0:
        parser.error(f"--steps must be 0 or more, got {args.steps}")

    def f(x1, x2):
        return (x1 * x2 * (x1 + x2)).log() / (x1 - x2) ** 2

    value, grads = value_and_grad(f, argnums=(0, 1))(2.0, 10.0)
    print(f"f(x1, x2) = {formula}  at x1 = 2, x2 = 10\n  value              {value:.10f}")
    for i, g in enumerate(grads):
        numeric = central_difference(f, 2.0, 10.0, arg=i)
        print(f"  df/dx{i + 1}  autodiff {g: .10f}   central difference {numeric: .10f}")
    print("\nTraining MLP(2, [16, 16, 1]) on two-moons (hinge loss, SGD; the step jitted once):")
    model, accuracy = train_moons(args.steps)
    print(f"training accuracy: {accuracy:.0%}")
    return accuracy


def _run_as_program(namespace):
    """Tell whether this file runs as a program: pasted in a notebook or a REPL, it does not."""
    file = namespace.get("__file__")                 # a notebook cell or a REPL has none
    if not (file and sys.argv and sys.argv[0]):
        return False
    same = [os.path.normcase(os.path.realpath(path)) for path in (sys.argv[0], file)]
    return same[0] == same[1]


__version__ = "0.3.0"

__all__ = [
    "Value", "no_grad", "enable_grad", "vsum", "dot", "logsumexp",
    "central_difference", "gradcheck", "GradcheckError", "derivative", "grad",
    "value_and_grad", "gradients_by_label", "jvp", "jacobian", "hessian",
    "Context", "ScalarFunction", "draw_dot", "backward_steps", "graph_text",
    "Module", "Neuron", "Layer", "MLP", "SGD", "Adam",
    "mse_loss", "hinge_loss", "binary_cross_entropy_with_logits", "cross_entropy",
    "make_moons", "make_linear", "train_moons", "jit", "jit_loss",
]


if __name__ == "__main__" and _run_as_program(globals()):
    try:
        main(sys.argv[1:])
    except BrokenPipeError:                          # python3 tinygrad_scalar.py | head: end quietly
        sys.stderr.close()
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

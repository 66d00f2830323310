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

import contextlib
import math
import numbers


################ Part I — the engine
# A Value holds a number, the gradient backward() finds for it, and how it was made: its
# parents (_prev) and a closure (_backward) that turns the gradient of the result into one
# gradient per parent. The rest is the ops, a few lines each, and the loop that calls them.

class Value:
    """A scalar that records the operations applied to it, for backpropagation."""

    def __init__(self, data, _children=(), _op="", label="", requires_grad=True, *, name=None):
        if not isinstance(_children, (tuple, list, set)):   # Value(2.0, "x"): a label
            _children, label = (), _children
        label = label if name is None else name     # minitorch's Scalar(x, name="x")
        if isinstance(data, Value) or not isinstance(label, str) or not isinstance(_op, str) \
                or not all(isinstance(p, Value) for p in _children):
            raise TypeError(f"Value: expected a number, Values as parents, a str op and label; "
                            f"got {data!r}, {_children!r}, {_op!r}, {label!r}")
        if data.__class__ is not float and not (_children and _symbol(data) is not None):
            data = _value(data, "Value").data       # (an op's number may be a jit symbol)
        self.data, self.grad, self._prev = data, 0.0, ()
        self.requires_grad = requires_grad          # this sets _backward: see requires_grad below
        if label:
            self.label = label
        if _children:                               # micrograd's Value(data, (a, b), "+"): you
            self._prev, self._op = tuple(_children), _op    # give it its _backward next
        for hook in _hooks:                         # shown to later parts, as _node's nodes are
            hook(self, self._prev)

    # ---------------- the primitive ops: compute the number, write the closure, return
    # The closure takes g = d(output)/d(result) and returns g times the local derivative for each
    # parent: the chain rule. It keeps the numbers it needs as default arguments, never the result,
    # so no node is in a reference cycle. backward(create_graph=True) passes the parents and the
    # result as Values in their place: `*_` (or `_`) takes those unused. a + b calls _add(a, b).

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
        def _backward(g, x=a.data, y=b.data, *_):       # d(x/y)/dx = 1/y, d(x/y)/dy = -x/y²,
            return g / y, -g * ((x / y) / y)            # as (x/y)/y: y² may underflow to 0
        return _node(a.data / b.data, (a, b), _backward)

    def _pow(a, b):
        """a ** b"""
        z = _power(a.data, b.data)
        def _backward(g, x=a.data, y=b.data, z=z, exponent=b):
            dy = g * z * _ln(x) if exponent.requires_grad else 0.0   # d(x^y)/dy = x^y·ln x
            return _pow_dx(g, x, y), dy                              # d(x^y)/dx = y·x^(y-1)
        return _node(z, (a, b), _backward)

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
        def _backward(g, _=None, e=e):
            return (g * e,)                             # d e^x/dx = e^x, the result itself
        return _node(e, (a,), _backward)

    def tanh(a):
        """tanh x"""
        t = _math(math.tanh, a.data, "tanh")
        def _backward(g, _=None, t=t):
            return (g * (1.0 - t * t),)                 # d tanh x/dx = 1 - tanh²x
        return _node(t, (a,), _backward)

    def log(a):
        """log(x), for x > 0"""
        def _backward(g, x=a.data, *_):
            return (g / x,)                             # d ln x/dx = 1/x
        return _node(_math(math.log, a.data, "log", "x > 0"), (a,), _backward)

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
        with _recording() if create_graph else contextlib.nullcontext():
            self.grad += _node(seed, (), None) if create_graph else seed
            for v in order:                         # all that uses v came first: v.grad is complete
                g = v.grad
                if g == 0.0:                        # 0 passes nothing, even through infinite slopes
                    continue
                try:                                # create_graph: parents and result as Values
                    ds = v._backward(g, *v._prev, v) if create_graph else v._backward(g)
                except TypeError:                   # unless the closure takes no g, as the
                    if create_graph or v._backward.__code__.co_argcount:    # lecture's does:
                        raise                       # it reads its result's .grad and adds into
                    ds = v._backward() or ()        # its parents' .grad itself (floats only)
                for parent, d in zip(v._prev, ds):
                    if parent._backward is not _constant:   # constants take no gradient
                        parent.grad += d

    @property
    def requires_grad(self):
        """False for a constant: no gradient flows into it. A leaf has no chain rule to apply, so
        its _backward says it at no cost: _leaf if it learns, _constant if not."""
        return self._backward is not _constant

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag not in (True, False):
            raise TypeError(f"Value: requires_grad must be True or False, got {flag!r}")
        if self._prev and not flag:
            raise RuntimeError(f"requires_grad_(False): only a leaf can stop requiring grad; "
                               f"{self!r} was made by an op: v.detach() is a constant copy")
        # True on an op's result makes a new leaf there, as minitorch's requires_grad_(True) does
        self._prev, self._backward = (), _leaf if flag else _constant

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # Only these fields, for small, quick nodes; "__dict__" holds v.m = 0 and a label, when used.
    __slots__ = ("data", "grad", "_prev", "_backward", "__dict__")
    label = ""         # an optional name, shown by repr and the drawings (set: kept in __dict__)


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

# ---------------- making nodes: one constructor, one coercion, and the hooks for later parts
_hooks = []     # functions later parts add; _node shows each node it makes to every one of them
_recording = contextlib.nullcontext     # a hook too: backward(create_graph=True) runs inside it

def _node(data, parents, backward):
    """Return the Value an op made; record its parents and closure if any parent learns."""
    out = Value.__new__(Value)                      # one store per field: this runs for every op
    out.data = data
    out.grad = 0.0
    for p in parents:
        if p._backward is not _constant:
            out._prev = parents
            out._backward = backward
            break
    else:
        out._prev = ()                              # nothing upstream learns: a constant
        out._backward = _constant
    if _hooks:
        for hook in _hooks:
            hook(out, parents)
    return out

def _leaf(g, *_):           # the _backward of a leaf that learns (and of Value(x, parents) first)
    return ()

def _constant(g, *_):       # the _backward of a constant: nothing flows in
    return ()

def _value(x, op, strict=True):
    """x as a Value for op, a number as a constant; else TypeError (not strict: NotImplemented)."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) or type(x).__name__ in ("bool_", "bool"):   # numpy's bool too
        try:
            return _node(float(x), (), None)        # a constant
        except OverflowError:
            raise OverflowError(f"{op}: {x!r} is too large for a float") from None
    if hasattr(x, "call"):                          # a jit symbol: a constant of the trace
        return _node(x, (), None)
    if strict or x is None or isinstance(x, (str, bytes, complex, list, tuple, dict)):
        raise TypeError(f"{op}: expected a real number or a Value, got {x!r} ({type(x).__name__})")
    return NotImplemented

# ---------------- the fine print: skip it on a first reading
# How a number on either side of an op becomes a Value; then the helpers the closures call: each
# computes on floats, and hands a Value (create_graph=True) to its ops, a jit symbol to its call().

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

Value.__add__, Value.__radd__ = _operators(Value._add, "+")
Value.__sub__, Value.__rsub__ = _operators(Value._sub, "-")
Value.__mul__, Value.__rmul__ = _operators(Value._mul, "*")
Value.__truediv__, Value.__rtruediv__ = _operators(Value._truediv, "/")
Value.__pow__, Value.__rpow__ = _operators(Value._pow, "**")

def _real(x):                                       # a plain number: not a Value, not a jit symbol
    return x.__class__ is float or isinstance(x, numbers.Real)

def _symbol(*xs):                                   # the first jit symbol among xs (it has call())
    return next((x for x in xs if x.__class__ is not float and hasattr(x, "call")), None)

def _num(x):                                        # the number behind x, for a comparison
    return x.data if isinstance(x, Value) else x

def _mask(off, x):                  # 0 where off is true, else x: a zero slope passes nothing, ever
    if off.__class__ is bool or not hasattr(off, "call"):
        return 0.0 if off else x
    if isinstance(x, Value):                        # jit's off on a Value (a 2nd derivative)
        return _node(off.call(_mask, off, x.data), (x,), lambda g, *_: (_mask(off, g),))
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
    def _backward(G, x=g.data, y=d.data, *_):       # d(x/y)/dx = 1/y, d(x/y)/dy = -(x/y)/y
        return _over(G, y), -_over(_over(G * x, y), y)
    return _node(_over(g.data, d.data), (g, d), _backward)

def _pow_dx(g, x, y):                # g·y·x^(y-1), as PyTorch: 0 for y = 0, ±inf at x = 0 for y < 1
    if _symbol(g, x, y) is not None:
        return _symbol(g, x, y).call(_pow_dx, g, x, y)
    if _num(y) == 0.0:
        return 0.0
    if _num(x) == 0.0 and _num(y) < 1.0:
        return _over(g, _power(x, 1.0 - y) / y)      # g / (x^(1-y)/y): ±inf, g·y never underflows
    return g * (y * _power(x, y - 1.0))

def _ln(x):                          # ln x for d(x^y)/dy: 0 at x = 0 (as PyTorch); x < 0 raises
    if _num(x) < 0.0:
        raise ValueError(f"**: the exponent's slope x^y·ln x needs x >= 0, got x = {_num(x)!r}")
    return 0.0 if _num(x) == 0.0 else x.log() if isinstance(x, Value) else _math(math.log, x, "log")


################ Part II — tools
# Built on Part I: more ops written the same way, and tools that call backward() or the closures.

import contextlib
import copy
import functools
import inspect
import operator
import threading

# ---------------- the other math functions, as one table
# Each row: the name (a Value method), the function on floats, the chain rule g -> g·f'(x)
# written with x and y = f(x) (any kind of number), and the domain named in errors.

def _sigmoid(x):                                    # 1 / (1 + e^-x) on a float, without overflow
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0.0 else math.exp(x) / (1.0 + math.exp(x))

def _softplus(x):                                   # ln(1 + e^x) on a float, without overflow
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))

MATH = [  # name    on floats    d/dx as a function of g, x and y = f(x)          domain
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
_ON_FLOATS = dict({name: fn for name, fn, _, _ in MATH}, exp=math.exp)

def _fn(name, x):
    """The table's function name at x: on a number, as a Value's op, or as a call in jit's code."""
    if _real(x):
        return _ON_FLOATS[name](x)
    return getattr(x, name)() if isinstance(x, Value) else x.call(_ON_FLOATS[name], x)

def _math_op(name, fn, df, domain):                 # one row of MATH as a Value method
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


# ---------------- plain-number behaviour, and PyTorch's and micrograd's names
# Comparisons look at the numbers; == and hash stay identity, so that Values can be dict keys
# and set members. Inside jit the numbers are symbols: a comparison becomes a guard, and int(),
# round(), format() and float() refuse.

class _Habits:                                      # Value methods beyond the engine (copied below)
    def __lt__(a, b): return a.data < _num(b)
    def __le__(a, b): return a.data <= _num(b)
    def __gt__(a, b): return a.data > _num(b)
    def __ge__(a, b): return a.data >= _num(b)
    def __bool__(self): return bool(self.data != 0.0)
    def __float__(self): return float(self.data)
    def __int__(self): return int(self.data)
    def __round__(self, ndigits=None): return round(self.data, ndigits)   # an int, or a float
    def __format__(self, spec): return format(self.data, spec)
    def __pos__(a): return a

    def square(a): return a * a                    # x²
    def item(self): return float(self.data)        # the number, as PyTorch names .data

    def leaky_relu(a, slope=0.01):
        """x if x > 0 else slope·x; the slope may be a Value that learns."""
        s = _value(slope, "leaky_relu")
        def _backward(g, x=a.data, k=s.data, *_):
            return g * ((x > 0.0) + k * (x <= 0.0)), g * x * (x <= 0.0)   # d/dx 1 or k, d/dk x or 0
        x, k = a.data, s.data
        return _node(_mask(x <= 0.0, x) + _mask(x > 0.0, k * x), (a, s), _backward)

    @property
    def is_leaf(self):
        """True unless an op that something learns from made this Value (PyTorch's meaning)."""
        return not self._prev

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place and return self (PyTorch's name)."""
        self.requires_grad = requires_grad
        return self

    def detach(self):
        """Return a constant with the same number and label, cut off from the graph."""
        with no_grad():                            # (made from self, as jit must know)
            v = _node(self.data, (self,), None)
        v.label = self.label
        return v

    def zero_grad(self):
        """Set to 0 the gradient of this Value and of every Value it depends on."""
        _zero_grad(_all_nodes([self]))

    def __reduce__(self):
        """pickle and copy keep the number, grad, requires_grad and attributes, as a leaf."""
        return _leaf_again, (self.data, self.grad, self.requires_grad), vars(self) or None

    def __deepcopy__(self, memo):
        if self._prev:
            raise RuntimeError(f"deepcopy: {self!r} was made by an op; only a leaf deep-copies "
                               f"(as in PyTorch): v.detach() copies its number")
        v = memo[id(self)] = _leaf_again(self.data, self.grad, self.requires_grad)
        vars(v).update(copy.deepcopy(vars(self), memo))
        return v

def _leaf_again(data, grad, requires_grad, label=""):   # a leaf from __reduce__ (label: 0.3.0's)
    v = Value(data, label, requires_grad=requires_grad)
    v.grad = grad
    return v

def _zero_grad(values):                             # zero_grad() of a Value, a model, an optimizer
    for v in values:
        v.grad = 0.0

for _name, _attr in vars(_Habits).items():
    if _name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"):
        setattr(Value, _name, _attr)
del _name, _attr

class _OpName:
    """micrograd's v._op: "+", "tanh"... ("" for a leaf), read from the closure: no field per node.
    Value(data, (a, b), "+") keeps its "+" in v.__dict__, which Python reads first."""
    def __get__(self, v, owner=None):
        return self if v is None else _op_name(v) if v._prev else ""

Value._op = _OpName()


# ---------------- no_grad and enable_grad: a flag per thread

_local = threading.local()      # per thread: .enabled (recording?), .saved, .tracer (jit's), .depth
_users = [0]                    # no_grad blocks open and jit traces running, over all threads
_users_lock = threading.Lock()

def _watch(out, parents):
    """In _hooks while some thread is in no_grad or jit: apply this thread's mode to _node's out."""
    if out._prev and not getattr(_local, "enabled", True):
        out._prev = ()
        out._backward = _constant
    tracer = getattr(_local, "tracer", None)
    if tracer is not None:
        tracer(out, parents)

def _use_hook(n):
    """Count a user of _watch in (n = 1) or out (n = -1); _watch is in _hooks while any are in."""
    global _hooks
    with _users_lock:
        _users[0] += n              # a new list, not changed in place: another thread may be in it
        _hooks = [h for h in _hooks if h is not _watch] + ([_watch] if _users[0] else [])

class no_grad(contextlib.ContextDecorator):
    """Record no graph inside `with no_grad():` on this thread; also @no_grad and @no_grad().
    On a generator function, each resume of its body runs under the mode, as in PyTorch."""
    enabled = False                 # the mode inside the block

    def __new__(cls, fn=None):      # @no_grad, bare: decorate fn at once
        return cls()(fn) if fn is not None else super().__new__(cls)

    def __enter__(self):
        _local.__dict__.setdefault("saved", []).append(getattr(_local, "enabled", True))
        _local.enabled = self.enabled
        _use_hook(1)

    def __exit__(self, *exc):
        saved = _local.__dict__.setdefault("saved", [])    # (empty: a generator finished elsewhere)
        _local.enabled = saved.pop() if saved else True
        _use_hook(-1)

    def __call__(self, fn):
        if not callable(fn):
            raise TypeError(f"{type(self).__name__}: expected a function to decorate, got {fn!r}")
        if not inspect.isgeneratorfunction(fn):
            return super().__call__(fn)             # each call runs under the mode

        @functools.wraps(fn)
        def resumed_under_mode(*args, **kwargs):    # the caller's mode is back at each yield
            gen = fn(*args, **kwargs)
            resume = functools.partial(gen.send, None)
            while True:
                try:
                    with self:                      # each resume of the body, under the mode
                        out = resume()
                except StopIteration as stop:
                    return stop.value
                try:
                    resume = functools.partial(gen.send, (yield out))
                except BaseException as e:          # throw() and close() reach the body too
                    resume = functools.partial(gen.throw, e)
        return resumed_under_mode

class enable_grad(no_grad):
    """Record the graph inside `with enable_grad():`, even within no_grad (on this thread)."""
    enabled = True

_recording = enable_grad        # Part I's hook: backward(create_graph=True) records even in no_grad


# ---------------- fused ops: one node for a whole sum, dot product or log-sum-exp
# Their numbers go through helpers like Part I's, so that jit writes each as one line.

def _values(xs, op):                                # xs as a tuple of Values (numbers: constants)
    if isinstance(xs, (str, bytes)) or not hasattr(xs, "__iter__"):
        raise TypeError(f"{op}: expected numbers or Values, got {xs!r}")
    return tuple([x if x.__class__ is Value else _value(x, op) for x in xs])

def _on_numbers(fn, *args):                         # fn(*args), or with a jit symbol, it as code
    s = _symbol(*[y for x in args for y in (x if isinstance(x, list) else [x])])
    return fn(*args) if s is None else s.call(fn, *args)

def _dot_of(ws, xs, b):                             # Σ wi·xi + b on floats
    return sum(map(operator.mul, ws, xs), 0.0) + b

def vsum(values):
    """Return the sum of many Values as a single node (faster than a chain of +)."""
    xs = _values(values, "vsum")
    def _backward(g, *_, n=len(xs)):
        return (g,) * n                                 # d(Σxi)/dxi = 1
    return _node(_on_numbers(sum, [x.data for x in xs], 0.0), xs, _backward)

def dot(w, x, bias=0.0):
    """Return Σ wi·xi + bias as a single node: a neuron's w·x + b."""
    w, x = _values(w, "dot"), _values(x, "dot")
    if len(w) != len(x):
        raise ValueError(f"dot: the two sequences differ in length ({len(w)} and {len(x)})")
    return _dot_node(w + x + (_value(bias, "dot"),), len(w))

def _dot_node(parents, n):                          # dot() on parents = (w1..wn, x1..xn, b), Values
    numbers = [p.data for p in parents]
    def _backward(g, *wxb, n=n, numbers=numbers):   # (wxb: the parents and result, if given)
        wxb = wxb or numbers                            # d(w·x + b)/dwi = xi, /dxi = wi, /db = 1
        return [g * xi for xi in wxb[n:2 * n]] + [g * wi for wi in wxb[:n]] + [g]
    data = _on_numbers(_dot_of, numbers[:n], numbers[n:2 * n], numbers[-1])
    return _node(data, parents, _backward)

def logsumexp(values):
    """Return ln Σ e^xi as a single node, computed without overflow."""
    xs = _values(values, "logsumexp")
    _check(xs, "logsumexp", "values", len(xs) > 0, "must hold at least one value")
    numbers = [x.data for x in xs]
    z = _on_numbers(_lse, numbers)
    def _backward(g, *xs, numbers=numbers, z=z):
        xs, z = (xs[:-1], xs[-1]) if xs else (numbers, z)
        return [g * _fn("exp", x - z) for x in xs]     # d lse/dxi = e^(xi - lse), the softmax
    return _node(z, xs, _backward)

def _lse(xs):                                       # ln Σ e^xi on floats, without overflow
    if any(map(math.isnan, xs)):
        return math.nan
    m = max(xs)
    return m if math.isinf(m) else m + math.log(sum([math.exp(x - m) for x in xs], 0.0))


# ---------------- calculus: numerical checks, grad, forward mode, Jacobians, Hessians
# Called with numbers, these tools return floats. Called inside another transform's
# function, they return Values the outer one can differentiate, as JAX's nest.

def _check(x, where, what, ok=None, rule="must be a number >= 0", error=ValueError):
    """Return x if ok (by default: x is a number >= 0), else raise error naming where, what, x."""
    if not (_number(x) and 0 <= x < math.inf if ok is None else ok):
        raise error(f"{where}: {what} {rule}, got {x!r}")
    return x

def _number(x, kind=numbers.Real):                  # a real number (of kind) but not a bool
    return isinstance(x, kind) and not isinstance(x, bool)

def _all_nodes(roots):
    """Return every Value the roots depend on, each after its parents; its ops, reversed, are in
    backward()'s order. Part I's _order sets None grads to 0: this walk leaves them alone."""
    done, opened, stack = {}, set(), list(roots)[::-1]
    while stack:
        v = stack.pop()
        if v in opened:
            done[v] = None                          # back after all its parents: list it
        else:
            opened.add(v)
            stack.append(v)
            stack.extend(p for p in v._prev if p not in opened)
    return list(done)

def _inside(f, *args):
    """Call f(*args) as a transform's function: recording even in no_grad; tools in it nest."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        with enable_grad():
            return f(*args)
    finally:
        _local.depth -= 1

def _scalar(out, op):                               # f's result as a Value (a number: a constant)
    _check(out, op, "f", isinstance(out, Value) or _number(out),
           "must return a single Value or number (a scalar)", TypeError)
    return _value(out, op)

def _out(x, nested):                                # a tool's result: nested, a Value; else a float
    return _value(x, "grad") if nested else float(x)

def central_difference(f, *args, arg=0, epsilon=1e-6):
    """Return ∂f/∂args[arg] ≈ (f(x + ε) − f(x − ε)) / 2ε, leaving every .grad as it was."""
    op, nested = "central_difference", getattr(_local, "depth", 0) > 0
    if not (_number(arg, int) and 0 <= arg < len(args)):
        raise IndexError(f"{op}: arg={arg!r} is out of range for {len(args)} argument(s)")
    eps = float(_check(epsilon, op, "epsilon (the step)", _number(epsilon) and
                       0 < epsilon < math.inf, "must be a number > 0"))
    xs = [a if nested and isinstance(a, Value) else _value(_value(a, op).data, op) for a in args]
    with enable_grad() if nested else no_grad():         # nested: on Values, differentiable
        up = _scalar(f(*xs[:arg], xs[arg] + eps, *xs[arg + 1:]), op)
        down = _scalar(f(*xs[:arg], xs[arg] - eps, *xs[arg + 1:]), op)
        return _out((up - down) / (2.0 * eps), nested)

def _gradients(out, wrt, create_graph=False):
    """Return d(out)/dw for each w in wrt, leaving every .grad in the graph as it was."""
    saved = {v: v.grad for v in _all_nodes([out])}
    try:
        _zero_grad(saved)
        if out.requires_grad:
            out.backward(create_graph=create_graph)
        return [w.grad if w in saved else 0.0 for w in wrt]
    finally:
        for v, g in saved.items():
            v.grad = g

def _argnums(argnums, n, op):                       # argnums as a tuple of positions in 0..n-1
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        _check(i, op, "argnums", _number(i, int), "must be an int or a tuple of ints", TypeError)
        if not -n <= i < n:
            raise IndexError(f"{op}: argnums={argnums!r} is out of range for {n} argument(s)")
    return tuple(i % n for i in nums)

def _input(a, op):                                  # a fresh variable, on a's graph if a learns
    if not (isinstance(a, Value) and a.requires_grad):
        return Value(_value(a, op).data)
    def _backward(g, *_):
        return (g,)                                      # dx/dx = 1
    return _node(a.data, (a,), _backward)

def value_and_grad(f, argnums=0):
    """Return a function computing (f(*args), ∂f/∂args[argnums]), as jax.value_and_grad does:
    the other arguments reach f as they were passed."""
    def value_and_grad_f(*args):
        nums, nested = _argnums(argnums, len(args), "grad"), getattr(_local, "depth", 0) > 0
        inputs = [_input(a, "grad") if i in nums else a for i, a in enumerate(args)]
        out = _scalar(_inside(f, *inputs), "grad")
        with enable_grad():
            grads = [_out(g, nested) for g in _gradients(out, [inputs[i] for i in nums], nested)]
        return out if nested else out.data, grads[0] if isinstance(argnums, int) else tuple(grads)
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
    """Return {label: d(out)/d(leaf)} for every labelled leaf out depends on (named partials)."""
    _check(out, "gradients_by_label", "out", isinstance(out, Value), "must be a Value", TypeError)
    leaves = [v for v in _all_nodes([out]) if not v._prev and v.label and v.requires_grad]
    labels = [v.label for v in leaves]
    twice = [x for x in labels if labels.count(x) > 1]
    if twice:
        raise ValueError(f"gradients_by_label: two different leaves are labelled {twice[0]!r}")
    return dict(sorted(zip(labels, map(float, _gradients(out, leaves)))))

class GradcheckError(RuntimeError):
    """Autodiff and central differences disagree (raised by gradcheck)."""

def gradcheck(f, *args, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check every autodiff partial of f against a central difference, as PyTorch's gradcheck:
    |autodiff − numerical| ≤ atol + rtol·|numerical|. Return True, or raise GradcheckError."""
    _check(eps, "gradcheck", "eps (the step)", _number(eps) and 0 < eps < math.inf,
           "must be a number > 0")
    xs = [_value(a, "gradcheck").data for a in args]
    rows = [(a, central_difference(f, *xs, arg=i, epsilon=eps))
            for i, a in enumerate(grad(f, tuple(range(len(xs))))(*xs) if xs else ())]
    if all(abs(a - n) <= atol + rtol * abs(n) for a, n in rows):
        return True
    raise GradcheckError("\n".join(
        [f"gradcheck: {getattr(f, '__name__', 'f')} at {tuple(xs)}: autodiff and numerical "
         f"gradients differ (atol={atol}, rtol={rtol}, eps={eps})",
         f"{'argument':>9} {'autodiff':>14} {'numerical':>14} {'difference':>14}"] +
        [f"{f'x{i}':>9} {a:>14.6g} {n:>14.6g} {a - n:>14.3g}" +
         ("" if abs(a - n) <= atol + rtol * abs(n) else "  <- mismatch")
         for i, (a, n) in enumerate(rows)]))

def _record(f, primals, op):                        # f on fresh inputs: inputs, outputs, single?
    inputs = [_input(p, op) for p in primals]
    out = _inside(f, *inputs)
    outs = [out] if isinstance(out, Value) else list(out) if isinstance(out, (list, tuple)) else []
    ok = outs and all(isinstance(o, Value) for o in outs)
    _check(out, op, "f", ok, "must return a Value or a non-empty list of Values", TypeError)
    return inputs, outs, isinstance(out, Value)

def _push_tangents(outs, tangent, recorded):
    """Forward mode: carry d(node)/dt from the inputs to outs, parents first, through the
    closures called with g = 1. A zero derivative passes nothing on, as in backward()."""
    with enable_grad():
        for v in _all_nodes(outs):
            if any(p in tangent for p in v._prev):
                ds = v._backward(1.0, *v._prev, v) if recorded else v._backward(1.0)
                terms = [d * tangent[p] if recorded or d != 0.0 else 0.0
                         for p, d in zip(v._prev, ds) if p in tangent and d is not _NONE]
                if terms:
                    tangent[v] = sum(terms[1:], terms[0])
    return tangent

def jvp(f, primals, tangents):
    """Return (f(primals), J·tangents) by forward mode, as jax.jvp does."""
    primals, tangents, nested = tuple(primals), tuple(tangents), getattr(_local, "depth", 0) > 0
    _check(tangents, "jvp", "tangents", len(tangents) == len(primals), "must be one per primal")
    tangents = [t if isinstance(t, Value) else _value(t, "jvp").data for t in tangents]
    inputs, outs, single = _record(f, primals, "jvp")
    t = _push_tangents(outs, dict(zip(inputs, tangents)), nested)
    values = [_out(o if nested else o.data, nested) for o in outs]
    dots = [_out(t.get(o, 0.0), nested) for o in outs]
    return (values[0], dots[0]) if single else (values, dots)

def jacobian(f, mode="rev"):
    """Return a function computing f's m×n Jacobian (m rows), for f: Rⁿ → Rᵐ: mode="rev" takes
    a backward pass per output (jax.jacrev), mode="fwd" a forward pass per input (jax.jacfwd)."""
    _check(mode, "jacobian", "mode", mode in ("rev", "fwd"), "must be 'rev' or 'fwd'")

    def jacobian_f(*args):
        nested = getattr(_local, "depth", 0) > 0
        inputs, outs, _ = _record(f, args, "jacobian")
        if mode == "rev":
            return [[_out(g, nested) for g in _gradients(o, inputs, nested)] for o in outs]
        columns = [[_out(t.get(o, 0.0), nested) for o in outs]        # only x moves
                   for t in (_push_tangents(outs, {x: 1.0}, nested) for x in inputs)]
        return [list(row) for row in zip(*columns)] if columns else [[] for _ in outs]
    return jacobian_f

def hessian(f):
    """Return a function computing f's n×n matrix of second derivatives (ValueError at a kink)."""
    def hessian_f(*args):
        nested, inputs = getattr(_local, "depth", 0) > 0, [_input(a, "hessian") for a in args]
        out = _scalar(_inside(f, *inputs), "hessian")
        for v in _all_nodes([out]):
            if v._prev and _op_name(v) in ("relu", "abs", "leaky_relu") and v._prev[0].data == 0.0:
                raise ValueError(f"hessian: {_op_name(v)} is not twice differentiable at its kink "
                                 f"x = {v._prev[0].data!r}")
        with enable_grad():
            return [[_out(h, nested) for h in _gradients(g, inputs, nested)]
                    if isinstance(g, Value) and g.requires_grad else [_out(0.0, nested)] * len(args)
                    for g in _gradients(out, inputs, create_graph=True)]
    return hessian_f

def _op_name(v):
    """The name of the op that made v, read from its closure's name: "*", "tanh", "Square"."""
    name = v._backward.__qualname__.split(".<locals>")[0].split(".")[-1].strip("_")
    return {"add": "+", "sub": "-", "mul": "*", "truediv": "/", "pow": "**"}.get(name, name)


# ---------------- custom functions: forward and backward by hand, as in the lectures
# Subclass with static forward(ctx, *floats) -> a float, backward(ctx, d_out) -> grads; call .apply.

class _Saved(float):                               # one saved number: a float that is a 1-tuple too
    def __getitem__(self, i):                      # ctx.saved_values[0]; iter() and (x,) = use it
        return (float(self),)[i]

class _Unconnected(float):
    """The 0 that a backward's None stands for: forward mode passes nothing through it."""

_NONE = _Unconnected(0.0)

class Context:
    """What a ScalarFunction's forward keeps for its backward."""
    _saved = ()                                    # the values given to save_for_backward

    def save_for_backward(self, *values):
        """Keep values for backward."""
        self._saved = values

    @property
    def saved_values(self):
        """Return the saved values: one as itself (a float that unpacks too), several as a tuple."""
        if len(self._saved) != 1:
            return self._saved
        return _Saved(self._saved[0]) if _number(self._saved[0]) else self._saved[0]

    @property
    def saved_tensors(self):
        """Return the saved values, always as a tuple (PyTorch's name)."""
        return tuple(self._saved)

class ScalarFunction:
    """A new op written by hand: subclass, define forward and backward, call .apply."""
    @classmethod
    def apply(cls, *args):
        """Run forward on the numbers in args; record the result, with backward as its closure."""
        inputs = _values(args, cls.__name__)
        pair = _by_hand(_custom_forward, cls, *[x.data for x in inputs])
        out, ctx = pair[0], pair[1]                # under jit a symbol, so no unpacking
        def _backward(g, *_, cls=cls, ctx=ctx, n=len(inputs)):   # the chain rule, as cls wrote it
            if isinstance(g, Value):
                raise RuntimeError(f"{cls.__name__}: a ScalarFunction's backward works on "
                                   f"numbers, so create_graph=True cannot pass through it")
            grads = _by_hand(_custom_backward, cls, ctx, g, n)
            return [grads[i] for i in range(n)]
        _backward.__qualname__ = f"{cls.__name__}.<locals>._backward"    # drawings show cls's name
        return _node(out, inputs, _backward)

def _by_hand(fn, cls, *args):                       # fn(cls, *args), or with a jit symbol, its code
    s = _symbol(*args)
    return fn(cls, *args) if s is None else s.call(fn, cls, *args)

def _custom_forward(cls, *xs):                      # cls.forward on numbers, and its Context
    ctx = Context()
    out = cls.forward(ctx, *xs)
    _check(out, cls.__name__, "forward's result", _number(out), "must be a real number", TypeError)
    return float(out), ctx

def _custom_backward(cls, ctx, g, n):               # cls.backward on numbers: n floats (None: 0)
    grads = cls.backward(ctx, g)
    grads = grads if isinstance(grads, (tuple, list)) or n != 1 else (grads,)
    if not isinstance(grads, (tuple, list)) or len(grads) != n:
        raise ValueError(f"{cls.__name__}.backward returned {grads!r}: expected {n} gradient(s)")
    for d in grads:
        if d is not None and (isinstance(d, Value) or not isinstance(d, numbers.Real)):
            raise TypeError(f"{cls.__name__}.backward gave {d!r} as a gradient, not a real number")
    return tuple(_NONE if d is None else float(d) for d in grads)


# ---------------- drawing: the graph as a picture or as text, and backprop step by step

def backward_steps(root):
    """Return the Values in the order backward() processes them: step k handles the k-th."""
    _check(root, "backward_steps", "root", isinstance(root, Value), "must be a Value", TypeError)
    return [v for v in reversed(_all_nodes([root])) if v._prev]

def _grads_after(root, step):                       # replay step steps of backward() on the side:
    if step is None:                                # ({node: grad}, the node of that step)
        return {v: v.grad for v in _all_nodes([root])}, None
    order = backward_steps(root)
    if not (_number(step, int) and 0 <= step <= len(order)):
        raise ValueError(f"step must be an int from 0 to {len(order)}, the steps, got {step!r}")
    grads = {root: 1.0} if root.requires_grad else {}
    for v in order[:step]:
        for p, d in zip(v._prev, v._backward(grads.get(v, 0.0))):
            if p.requires_grad:
                grads[p] = grads.get(p, 0.0) + d
    return grads, order[step - 1] if step else root

def _fields(v, grads):                              # v's data and grad as text ("—": none yet)
    grad = grads.get(v)
    return f"data {v.data:.4g}", "grad —" if grad is None else f"grad {float(grad):.4g}"

def graph_text(root, step=None):
    """Return the graph as text: each Value's op, data and grad, its parents indented below."""
    _check(root, "graph_text", "root", isinstance(root, Value), "must be a Value", TypeError)
    nodes, (grads, current) = _all_nodes([root]), _grads_after(root, step)
    names = {v: (v.label if v.label.isprintable() else repr(v.label)[1:-1]) if v.label else
             f"{_op_name(v) if v._prev else 'leaf' if v.requires_grad else 'const'}#{i}"
             for i, v in enumerate(nodes)}
    lines, shown, stack = [], set(), [(root, 0)]
    while stack:
        v, depth = stack.pop()
        indent = "  " * min(depth, 20) + (f"[depth {depth}] " if depth > 20 else "")
        if v in shown:
            lines.append(f"{indent}{names[v]} (shown above)")
            continue
        shown.add(v)
        kind = (f"= {_op_name(v)}({', '.join(names[p] for p in v._prev)})" if v._prev else
                "leaf" if v.requires_grad else "constant")
        mark = "  <- step" if v is current else ""
        lines.append(f"{indent}{names[v]} {kind}  {'  '.join(_fields(v, grads))}{mark}")
        stack.extend((p, depth + 1) for p in reversed(v._prev))
    return "\n".join(lines)

_RECORD = str.maketrans({c: "\\" + c for c in '{}|<>\\"'})    # escapes for Graphviz record labels

def draw_dot(root, rankdir="LR", format="svg", step=None, max_nodes=10_000):
    """Return a graphviz.Digraph of everything root depends on, drawn from inputs to root."""
    # A record (label | data | grad) per Value; blue: leaves that learn, grey: constants, red: step.
    _check(root, "draw_dot", "root", isinstance(root, Value), "must be a Value", TypeError)
    try:
        import graphviz
    except ImportError:
        raise ImportError("draw_dot needs the graphviz package: pip install graphviz (and the "
                          "Graphviz program: apt-get install graphviz)") from None
    nodes = _all_nodes([root])
    if len(nodes) > max_nodes:
        raise ValueError(f"draw_dot: the graph has {len(nodes)} Values, more than max_nodes="
                         f"{max_nodes}: too many to draw")
    grads, current = _grads_after(root, step)
    class Drawing(graphviz.Digraph):
        """A Digraph that shows graph_text, not a traceback, in a notebook without `dot`."""
        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except graphviz.ExecutableNotFound:
                return {"text/plain": f"{graph_text(root, step)}\n(the drawing needs the Graphviz "
                        f"program `dot`: apt-get, brew or conda install graphviz)"}
        def __repr__(self):
            return f"<draw_dot drawing of {len(nodes)} Values>"
    dot = Drawing(format=format, graph_attr={"rankdir": rankdir})
    uids = {v: f"v{i}" for i, v in enumerate(nodes)}   # stable names: the same drawing every run
    for v, uid in uids.items():
        style = {"shape": "record", "fontsize": "11"}
        if not v.requires_grad:
            style.update(style="dashed,filled", fillcolor="#eeeeee", color="#888888")
        elif not v._prev:
            style.update(style="filled", fillcolor="#dbeafe")
        if v is current:
            style.update(color="red", penwidth="2.5")
        fields = ([v.label.translate(_RECORD)] if v.label else []) + list(_fields(v, grads))
        dot.node(uid, "{ " + " | ".join(fields) + " }", **style)
        if v._prev:
            dot.node(uid + "op", _op_name(v).translate(_RECORD), shape="circle", fontsize="10",
                     width="0.3", margin="0.02")
            dot.edge(uid + "op", uid)
            dot.edges((uids[p], uid + "op") for p in v._prev)
    return dot


################ Part III — training
# A neuron is one dot node and an activation; a layer is neurons side by side; an MLP is layers
# in a row. The optimizers and losses follow PyTorch's names and formulas; the data, plain Python.

import random

def _rng(seed):                                     # what to draw from (None: random.seed repeats)
    if seed is None or seed is random:
        return random
    return seed if isinstance(seed, random.Random) else random.Random(seed)

_ACTIVATIONS = {"relu": Value.relu, "tanh": Value.tanh, "sigmoid": Value.sigmoid,
                "none": lambda x: x}

def _activation(activation, nonlin, where):
    """Return the activation's name, reading micrograd's nonlin=True/False as "relu"/"none"."""
    if nonlin is not None:
        _check(nonlin, where, "nonlin", isinstance(nonlin, bool), "must be True (ReLU) or False",
               TypeError)
        if activation != "relu":
            raise ValueError(f"{where}: give activation={activation!r} or nonlin, not both")
        activation = "relu" if nonlin else "none"
    activation = "none" if activation in (None, "linear") else activation    # PyTorch's words too
    ok, rule = activation in _ACTIVATIONS, f"must be one of {list(_ACTIVATIONS)}"
    return _check(activation, where, "activation", ok, rule)

def _inputs(x, nin, where):                         # x as a tuple of nin Values, or raise
    try:
        x = [x] if isinstance(x, (Value, numbers.Real)) else list(x)
    except TypeError:
        raise TypeError(f"{where}: expected a list of {nin} numbers or Values, got {x!r}") from None
    if len(x) != nin:
        raise ValueError(f"{where}: expected {nin} input(s), got {len(x)}: {x!r}")
    return _values(x, where)

def _by_name(state):                                # {"weight[3][1]": state["weight"][3][1], ...}
    flat, todo = {}, list(state.items())
    while todo:
        name, tree = todo.pop()
        if isinstance(tree, (list, tuple)):
            todo += [(f"{name}[{i}]", t) for i, t in enumerate(tree)]
        else:
            flat[name] = tree
    return flat

def _data(tree):                                    # nested lists of Values, as their numbers
    return [_data(t) for t in tree] if isinstance(tree, list) else tree.data

class Module:
    """A model part with parameters: the base of Neuron, Layer and MLP."""
    def parameters(self):
        """Return the list of Values this module learns."""
        return []

    def zero_grad(self):
        """Set every parameter's gradient to 0."""
        _zero_grad(self.parameters())

    def __call__(self, x):
        tracer = getattr(_local, "tracer", None)     # jit (Appendix) traces a model's call once
        return self.forward(x) if tracer is None else tracer.call_model(self, x)

    def forward(self, x):
        """Return the output for the nin inputs x: a Value, or a list of them if there are more."""
        out = self._fire(_inputs(x, self.nin, type(self).__name__))
        return out[0] if len(out) == 1 else out

    def _named(self):                                # state_dict()'s shape, with the Values in it
        return {"parameters": self.parameters()}

    def named_parameters(self):
        """Return (name, Value) pairs in parameters() order, named by place in state_dict()."""
        names = {p: name for name, p in _by_name(self._named()).items()}
        return [(names[p], p) for p in self.parameters()]

    def state_dict(self):
        """Return the parameters as plain, JSON-serialisable data, named as in PyTorch."""
        return {k: _data(tree) for k, tree in self._named().items()}

    def load_state_dict(self, state):
        """Set the parameters from state_dict() data; bad keys or shapes raise, changing nothing."""
        where, params = f"load_state_dict: {type(self).__name__}", _by_name(self._named())
        _check(state, where, "state", isinstance(state, dict), "must be a dict from state_dict()")
        given, new, keys = _by_name(state), {}, set(self._named())
        for wrong in (set(state) - keys, keys - set(state), set(given) ^ set(params)):
            if wrong:                                # a key it has no, one it needs, a wrong length
                name = min(wrong, key=str)
                need = name in keys or name in params
                raise ValueError(f"{where} {'needs' if need else 'has no'} {name}")
        for name, x in given.items():                # all checked before any is set
            _check(x, where, name, not isinstance(x, bool), "expects a number", TypeError)
            new[name] = _value(x, f"{where}: {name}").data
        for name, p in params.items():
            p.data = new[name]

class Neuron(Module):
    """act(w·x + b): w uniform(-1, 1), b = 0 (micrograd), or both uniform(±1/√nin) (PyTorch)."""
    def __init__(self, nin, activation="relu", seed=None, *, nonlin=None, init="micrograd"):
        self.nin = _check(nin, "Neuron", "nin", _number(nin, int) and nin > 0,
                          "must be a positive int")
        self.activation = _activation(activation, nonlin, "Neuron")
        self.nonlin = self.activation != "none"      # micrograd's name for it
        _check(init, "Neuron", "init", init in ("micrograd", "pytorch"),
               "must be 'micrograd' or 'pytorch'")
        rng, bound = _rng(seed), 1.0 if init == "micrograd" else 1.0 / math.sqrt(nin)
        self.w = [Value(rng.uniform(-bound, bound)) for _ in range(nin)]
        self.b = Value(0.0 if init == "micrograd" else rng.uniform(-bound, bound))

    def _fire(self, xs):                             # on inputs already checked: a list of one
        return [_ACTIVATIONS[self.activation](_dot_node((*self.w, *xs, self.b), self.nin))]

    def parameters(self):
        return self.w + [self.b]

    def _named(self):
        return {"weight": self.w, "bias": self.b}

    def __repr__(self):
        return f"Neuron({self.nin}, activation={self.activation!r})"

class Layer(Module):
    """nout neurons side by side, all reading the same nin inputs."""
    def __init__(self, nin, nout, activation="relu", seed=None, *, nonlin=None, init="micrograd"):
        _check(nout, "Layer", "nout", _number(nout, int) and nout > 0, "must be a positive int")
        activation, rng = _activation(activation, nonlin, "Layer"), _rng(seed)
        self.nin, self.neurons = nin, [Neuron(nin, activation, rng, init=init) for _ in range(nout)]

    def _fire(self, xs):
        return [out for n in self.neurons for out in n._fire(xs)]

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def _named(self):
        return {"weight": [n.w for n in self.neurons], "bias": [n.b for n in self.neurons]}

    def __repr__(self):
        return f"Layer({self.nin}, {len(self.neurons)}, activation={self.neurons[0].activation!r})"

class MLP(Module):
    """Layers in a row: MLP(2, [16, 16, 1]) maps 2 inputs through two hidden layers to 1 output."""
    def __init__(self, nin, nouts, activation="relu", seed=None, *, nonlin=None, init="micrograd"):
        _check(nouts, "MLP", "nouts", isinstance(nouts, (list, tuple)) and len(nouts) > 0,
               "must be a list of layer widths such as [16, 16, 1]", TypeError)
        activation, rng = _activation(activation, nonlin, "MLP"), _rng(seed)
        acts = [activation] * (len(nouts) - 1) + ["none"]    # the last is linear, as in micrograd
        self.nin, sizes = nin, [nin, *nouts]
        self.layers = [Layer(a, b, f, rng, init=init) for a, b, f in zip(sizes, sizes[1:], acts)]

    def _fire(self, xs):
        for layer in self.layers:
            xs = layer._fire(xs)
        return xs

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def _named(self):
        return {f"layers.{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer._named().items()}

    def __repr__(self):
        return f"MLP({self.nin}, {[len(layer.neurons) for layer in self.layers]})"


# ---------------- optimizers: SGD and Adam, with PyTorch's update rules

class _Optimizer:
    """Holds a list of parameters; step() updates them from their gradients."""
    def __init__(self, params, lr, weight_decay):
        name = type(self).__name__
        if isinstance(params, Module):
            raise TypeError(f"{name}: got the model {params!r}; pass model.parameters()")
        try:
            self.params = [params] if isinstance(params, Value) else list(params)
        except TypeError:
            raise TypeError(f"{name}: expected a list of Values to optimize, "
                            f"got {params!r}") from None
        _check(self.params, name, "the parameter list", len(self.params) > 0, "is empty")
        at = {}                                      # each parameter's first place: linear time
        for i, p in enumerate(self.params):          # (listed twice, it would step twice)
            _check(p, name, f"parameter {i}", isinstance(p, Value), "must be a Value", TypeError)
            _check(p, name, f"parameter {i}", at.setdefault(p, i) == i, "is listed more than once")
        self.lr = _check(lr, name, "lr")
        self.weight_decay = _check(weight_decay, name, "weight_decay")

    def zero_grad(self):
        """Set every parameter's gradient to 0."""
        _zero_grad(self.params)

class SGD(_Optimizer):
    """p ← p − lr·(g + wd·p), with optional momentum, as torch.optim.SGD."""
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = _check(momentum, "SGD", "momentum")
        self.velocity = [None] * len(self.params)   # momentum buffers, made on the first step

    def step(self):
        """Update every parameter once, skipping one whose grad is None (as PyTorch does)."""
        for i, p in enumerate(self.params):
            if p.grad is not None:
                g = float(p.grad) + self.weight_decay * p.data
                if self.momentum:
                    b = self.velocity[i]
                    g = self.velocity[i] = g if b is None else self.momentum * b + g
                p.data -= self.lr * g

class Adam(_Optimizer):
    """Steps by bias-corrected running means of g and g², as torch.optim.Adam."""
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        _check(betas, "Adam", "betas", isinstance(betas, (tuple, list)) and len(betas) == 2,
               "must be a pair (beta1, beta2)")
        self.beta1, self.beta2 = (_check(b, "Adam", "betas", _number(b) and 0 <= b < 1,
                                         "must be a number in [0, 1)") for b in betas)
        ok = _number(eps) and 0 < eps < math.inf
        self.eps = _check(eps, "Adam", "eps", ok, "must be a number > 0")
        self.m, self.v = [0.0] * len(self.params), [0.0] * len(self.params)   # means of g, g²
        self.t = 0                                   # steps taken

    def step(self):
        """Update every parameter once, skipping a grad of None; read every g before any moves."""
        grads = [(i, float(p.grad) + self.weight_decay * p.data)
                 for i, p in enumerate(self.params) if p.grad is not None]
        self.t += 1
        b1, b2, t = self.beta1, self.beta2, self.t
        for i, g in grads:
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g
            m, v = self.m[i] / (1.0 - b1 ** t), self.v[i] / (1.0 - b2 ** t)   # bias-corrected
            self.params[i].data -= self.lr * m / (math.sqrt(v) + self.eps)


# ---------------- losses, with PyTorch's names and meanings

def _pairs(preds, targets, op):                     # two equal-length tuples of Values
    if isinstance(preds, (Value, numbers.Real)):
        preds, targets = [preds], [targets]
    if not isinstance(targets, (list, tuple)) or not isinstance(preds, (list, tuple)):
        raise TypeError(f"{op}: expected predictions and targets as two lists (or one of each), "
                        f"got {preds!r} and {targets!r}")
    if len(preds) != len(targets) or not preds:
        raise ValueError(f"{op}: {len(preds)} prediction(s) but {len(targets)} target(s)")
    return _values(preds, op), _values(targets, op)

def _mean(values):                                  # the mean of a list of Values
    return vsum(values) * (1.0 / len(values))

def mse_loss(preds, targets):
    """Return the mean of (pred − target)²."""
    return _mean([(p - t) * (p - t) for p, t in zip(*_pairs(preds, targets, "mse_loss"))])

def hinge_loss(scores, labels):
    """Return the mean of max(0, 1 − label·score), labels ±1: micrograd's max-margin loss."""
    scores, labels = _pairs(scores, labels, "hinge_loss")
    for y in labels:
        _check(y, "hinge_loss", "labels", abs(y.data) == 1.0, "must be -1 or +1")   # (one guard)
    return _mean([(1 - y * s).relu() for s, y in zip(scores, labels)])

def binary_cross_entropy_with_logits(logits, targets):
    """Return the mean of softplus(x) − x·t, the stable −t·ln σ(x) − (1 − t)·ln(1 − σ(x))."""
    pairs = zip(*_pairs(logits, targets, "binary_cross_entropy_with_logits"))
    return _mean([x.softplus() - x * t for x, t in pairs])

def cross_entropy(logits, target):
    """Return −log softmax(logits)[target]; for a batch of rows and targets, the mean."""
    _check(logits, "cross_entropy", "logits", isinstance(logits, (list, tuple)) and len(logits) > 0,
           "must be a non-empty list", TypeError)
    if isinstance(logits[0], (list, tuple)):
        if not isinstance(target, (list, tuple)) or len(logits) != len(target):
            raise ValueError(f"cross_entropy: {len(logits)} examples need a list of "
                             f"{len(logits)} class indices, got {target!r}")
        return _mean([cross_entropy(row, t) for row, t in zip(logits, target)])
    _check(target, "cross_entropy", "target", not isinstance(target, bool) and   # int, numpy's
           hasattr(type(target), "__index__"), "must be an int class index", TypeError)
    target = operator.index(target)
    _check(target, "cross_entropy", "target", 0 <= target < len(logits),
           f"must be a class index in [0, {len(logits)})")
    return logsumexp(logits) - _value(logits[target], "cross_entropy")


# ---------------- data for demos and tests, in pure Python

def make_moons(n=None, noise=0.1, seed=None, *, n_samples=None):
    """Return (X, y): n points on two interleaving half circles, labels 0 and 1 (as sklearn)."""
    if n is not None and n_samples is not None and n != n_samples:
        raise ValueError(f"make_moons: give n={n!r} or n_samples={n_samples!r}, not both")
    n = n if n is not None else 100 if n_samples is None else n_samples
    _check(n, "make_moons", "n", _number(n, int) and n > 0, "must be a positive int")
    rng, n_out = _rng(seed), n // 2
    X = []
    for i in range(n):                               # the first n // 2 on the outer moon
        k, m = (i, n_out) if i < n_out else (i - n_out, n - n_out)
        t = math.pi * k / max(m - 1, 1)
        c, s = math.cos(t), math.sin(t)
        x1, x2 = (c, s) if i < n_out else (1 - c, 0.5 - s)
        X.append([x1 + rng.gauss(0, noise), x2 + rng.gauss(0, noise)])
    return X, [0] * n_out + [1] * (n - n_out)

def make_linear(n=50, weight=5.0, bias=10.0, noise=3.0, x_range=(-10.0, 10.0), seed=None):
    """Return (xs, ys) with y = bias + weight·x + gaussian noise: the notes' regression."""
    rng = _rng(seed)
    xs = [rng.uniform(*x_range) for _ in range(n)]
    return xs, [bias + weight * x + rng.gauss(0, noise) for x in xs]


################ Appendix — jit: trace once, then run plain Python
# jit(f) runs f once on Values whose numbers are symbols: an operation on a symbol computes its
# number and writes a line of Python that computes it again. The ops, their closures and Part
# I's helpers run unchanged (a helper hands a symbol its call()). A comparison becomes a guard,
# a line that sends another branch back to f. The backward pass is backward()'s own loop,
# written out; a model's call is traced once, into a function that later calls reuse. The
# code's numbers come from f's arguments (their floats are its inputs), from Values outside f
# (guarded: a new number traces f again), or from Python state f reads: frozen, as in JAX.

import sys
from keyword import iskeyword

class _Retrace(Exception):      # a failed guard: this call goes another way than the trace
    pass
class _Inline(Exception):       # a model's call that cannot be a function: trace f again, inline
    pass
class _ReadError(TypeError):    # a traced number read as a plain one would be baked into the code
    pass

class _Code:
    """The code being written: its functions' lines, their namespace, the Values from outside."""
    def __init__(self, wanted, inline):
        self.lines = []     # this function's: (symbol it defines or None, template, operands, note)
        self.defs = []      # the source of the functions that models' calls were traced into
        self.namespace = dict(Retrace=_Retrace, inf=math.inf, nan=math.nan, mul=operator.mul)
        self.outside = {}   # Values from outside f that the code uses: their numbers, guarded
        self.made = set()   # the Values made while tracing, inside f
        self.models = {}    # (id(model), number of inputs) -> its function and how to call it
        self.read = set()   # run()'s numbers that the function being written reads
        self.prologue, self.tuples = [], {}     # run()'s first lines: gradients, input tuples
        self.wanted, self.inline, self.frame, self.bail = wanted, inline, 0, False
        self.count, self.nodes, self.open, self.failed = 0, 0, True, None   # (an op's error)

    def bind(self, obj):                             # a name for obj: its own where free and plain
        base = str(getattr(obj, "__name__", "fn")).strip("_")
        plain = base.isidentifier() and base.isascii() and not iskeyword(base)
        name = base = base if plain else "fn"
        while self.namespace.setdefault(name, obj) is not obj:
            name = f"{base}_{len(self.namespace)}"
        return name

    def __call__(self, out, parents):                # _node's hook: name vN, comment, guard outside
        self.made.add(out)
        for p in parents:
            if p.data.__class__ is not _Symbol and p not in self.made:
                self.outside.setdefault(p, p.data)       # from outside f: read with a guard
        x = out.data
        if parents and x.__class__ is _Symbol and x.code is self and x.name[0] == "t":
            self.nodes += 1
            x.name = f"v{self.nodes}"
            if out._prev and self.lines and self.lines[-1][0] is x:   # its line: op and label
                note = out._op + (f" {_comment(out.label)!r}" if out.label else "")
                self.lines[-1] = self.lines[-1][:3] + (note,)

    def give_up(self):                               # f is traced again, the call written inline
        self.bail = True
        return _Inline()

    def call_model(self, model, x):
        """Module.__call__ while tracing: call the function its first call was traced into;
        inline, a call whose input learns or a call inside a call."""
        xs = [x] if isinstance(x, (Value, numbers.Real)) else x
        if self.inline or self.frame or not isinstance(xs, (list, tuple)) or not all(
                _real(v) or isinstance(v, Value) and not v.requires_grad for v in xs):
            return model.forward(x)
        for v in xs:                                     # an input from outside f is guarded
            if isinstance(v, Value) and v.data.__class__ is not _Symbol and v not in self.made:
                self.outside.setdefault(v, v.data)
        nums, key = [_value(v, "jit").data for v in xs], (id(model), len(xs))
        if key not in self.models:
            self.models[key] = self.define(model, nums)
        name, value_of, reads, leaves = self.models[key]
        try:                                             # its output's number, for the trace
            out = _Symbol(self, value_of(*[_traced_value(n, self) for n in nums], *reads))
        except Exception:                                # f raises it, with the call inline
            raise self.give_up() from None
        gen = f"c{len(self.made)}"                       # a generator: its backward comes later
        self.lines += [(None, f"{gen} = {name}({', '.join(['{}'] * len(nums))})", tuple(nums),
                        _comment(model)), (None, f"{{}} = next({gen})", (out,), "")]
        def _backward(g, *_, lines=self.lines, gen=gen):
            lines.append((None, gen + ".send({})", (g,), ""))
            return ()
        return _node(out, tuple(leaves), _backward if leaves else None)

    def define(self, model, nums):
        """Trace model's forward into a function: the forward, then, if it learns, yield the
        output, take its gradient g and add its backward pass into the leaves' gradients."""
        values, outer, outer_read = [_traced_value(n, self) for n in nums], self.lines, self.read
        self.lines, self.frame, self.read = [], len(self.defs) + 1, set()
        try:
            args = [_Symbol(self, v, f"a{i}") for i, v in enumerate(values)]
            out = model.forward([_node(a, (), None) for a in args])
            own = {p.data for p in model.parameters()}   # run()'s numbers it may read: its own
            if self.bail or getattr(getattr(out, "data", None), "frame", 0) != self.frame or \
                    not self.read <= own:                # (a branch, several outputs, no Value,
                raise self.give_up()                     # a Value of f's that may differ per call)
            forward, leaves = self.lines, []
            self.lines = forward + [(None, "g = yield {}", (out.data,), "")]
            if out._prev and self.wanted:
                leaves = _write_backward(self, out, _Symbol(self, 1.0, "g"))
            self.lines.append((None, "yield", (), ""))
            name, read, args = f"m{self.frame}", list(self.read), [a.name for a in args]
            grads = ", ".join(sorted("d" + p.data.name for p in leaves))
            self.defs.append([f"def {name}({', '.join(args)}):  # {_comment(model)}"] +
                             [f"    nonlocal {grads}"] * bool(leaves) +
                             ["    " + line for line in _write(self, self.lines, set())])
            scope = dict(self.namespace)                 # its forward on numbers, for the trace
            exec(compile(f"def value({', '.join(args + [s.name for s in read])}):\n" + "".join(
                f"    {t}\n" for t in _write(self, forward + [(None, "return {}", (out.data,), "")],
                                              set(), False)), "<jit>", "exec"), scope)
        except (ArithmeticError, ValueError, _ReadError):
            raise self.give_up() from None               # f raises it, with the call inline
        finally:
            inner, self.lines, self.frame, self.read = self.read, outer, 0, outer_read
        self.read |= inner
        return name, scope["value"], [s.value for s in read], leaves

class _Symbol:
    """A number in the code being written: value in the trace, name, code, function (0: run)."""
    __slots__ = ("name", "value", "code", "frame")

    def __init__(self, code, value, name=None):
        code.count += 1
        self.name, self.value, self.code = name or f"t{code.count}", value, code
        self.frame = code.frame

    def write(self, fn, template, *operands):        # fn on the values, a line that computes it
        try:
            value = fn(*[_traced_value(x, self.code) for x in operands])
        except Exception as e:
            self.code.failed = self.code.failed or e     # if f catches it, the trace is refused
            raise
        out = _Symbol(self.code, value)
        self.code.lines.append((out, template, operands, ""))
        return out

    def call(self, fn, *args):                       # Part I's protocol: write a call of fn
        if fn is _math:                              # _math(exp, x, ...) is written exp(x): an
            f, x, op, domain = args                  # error there retraces, and _math raises it
            return self.write(lambda v: _math(f, v, op, domain), self.code.bind(f) + "({})", x)
        if fn is _dot_of and len(args[0]) <= 2:      # a sum of two adds as + does: no call
            pairs = [y for pair in zip(args[0], args[1]) for y in pair]
            return self.write(lambda *v: _dot_of(v[0:-1:2], v[1:-1:2], v[-1]),
                              "0.0" + " + {} * {}" * len(args[0]) + " + {}", *pairs, args[2])
        template = _INLINE.get(fn) or self.code.bind(fn) + "(" + ", ".join(["{}"] * len(args)) + ")"
        return self.write(fn, template, *args)

    def __bool__(self):                              # if x > 0: a guard on the branch taken
        if self.code.frame:                          # (in a model's call: written inline)
            raise self.code.give_up()
        outcome = bool(_traced_value(self, self.code))
        test = "if not {}: raise Retrace" if outcome else "if {}: raise Retrace"
        self.code.lines.append((None, test, (self,), f"guard: {outcome} in the trace"))
        return outcome

    def _read(self, *_):                         # it would bake this trace's number into the code
        raise _ReadError("jit: float(v), int(v), round(v), format(v), str(v), repr(v) and "
                         "v.item() cannot read a traced number; compare Values instead (v > 0 "
                         "becomes a guard)")
    __float__ = __int__ = __index__ = __round__ = __repr__ = _read
    __format__ = __trunc__ = __floor__ = __ceil__ = _read

    def __neg__(a): return a.write(operator.neg, "-{}", a)
    def __pos__(a): return a
    def __abs__(a): return a.write(abs, "abs({})", a)
    def __getitem__(a, i): return a.write(operator.getitem, "{}[{}]", a, i)
    def __pow__(a, b): return a.call(_power, a, b)
    def __rpow__(b, a): return b.call(_power, a, b)
    __hash__ = object.__hash__                       # (== writes code: keep symbols out of lists)

def _binary(name, sign):
    """Give symbols a <sign> b and b <sign> a, each a line as the engine's float arithmetic
    computes it; with a Value, the Value's own op answers (NotImplemented)."""
    fn, template = getattr(operator, name), "{} " + sign + " {}"
    setattr(_Symbol, f"__{name}__", lambda a, b: NotImplemented if b.__class__ is Value else
            a.write(fn, template, a, b))
    setattr(_Symbol, f"__r{name}__", lambda b, a: NotImplemented if a.__class__ is Value else
            b.write(fn, template, a, b))

for _name, _sign in [("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/"), ("lt", "<"),
                     ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="), ("ne", "!=")]:
    _binary(_name, _sign)                      # (__rlt__ and the like: never called, harmless)
del _name, _sign
_INLINE = {_mask: "0.0 if {} else {}", _dot_of: "sum(map(mul, {}, {}), 0.0) + {}"}

def _traced_value(x, code):                          # an operand's value, if it is the code's
    if isinstance(x, _Symbol):
        if x.code is not code or not code.open:
            raise RuntimeError("jit: a traced Value was kept after its trace and used: keep none")
        if x.frame != code.frame:
            if x.frame:                              # a model's number used outside its function
                raise code.give_up()
            code.read.add(x)                         # run()'s number, read in a model's function
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(_traced_value(y, code) for y in x)
    if isinstance(x, Value):
        raise TypeError("jit: a traced number met a Value as a plain operand")
    return x

def _source(x, code, inline=None, bare=False):
    """Source for an operand: a symbol's name (a temporary's expression, from inline, in
    parentheses unless bare or a call), a number that reads back exactly, a tuple."""
    if isinstance(x, (list, tuple)):
        return "(" + "".join(_source(y, code, inline) + ", " for y in x) + ")"
    if isinstance(x, _Symbol):
        if inline and x in inline:
            text, call = inline.pop(x)
            return text if bare or call else f"({text})"
        return x.name
    if isinstance(x, float):
        text = "nan" if x != x else repr(x)
        return f"({text})" if text.startswith("-") else text
    return repr(x) if isinstance(x, (bool, int, str)) or x is None else code.bind(x)

def _comment(text):                                  # a user's string, safe in a comment
    return "".join(c for c in str(text) if c.isprintable())[:60]

def _write_backward(code, root, seed):
    """Write backward()'s loop for root, from its gradient seed: each node's gradient dvN from 0,
    its block skipped at 0; a leaf in code.wanted adds into its dxN. Return those leaves."""
    acc, names, leaves, start = {}, {}, [], len(code.lines)
    used = {"d" + w.data.name for w in code.wanted}
    def add(v, d):                                   # v.grad += d, as backward() does it
        if v not in acc:
            name = "d" + v.data.name if isinstance(v.data, _Symbol) else "dc"
            if not v._prev:
                leaves.append(v)
            elif name in used:                       # (nodes may share a number: _input's)
                name = f"{name}_{len(names)}"
            names[v], acc[v] = name, 0.0
            used.add(name)
        acc[v] += _traced_value(d, code)
        code.lines.append((None, names[v] + " += {}", (d,), ""))
    if root._prev or root in code.wanted:
        add(root, seed)
    for v in _order(root):
        if v not in acc:
            continue
        g, opened = _Symbol(code, acc[v], names[v]), len(code.lines)
        code.lines.append((None, "if {} != 0.0:", (g,), ""))     # 0 passes nothing on
        try:
            for p, d in zip(v._prev, v._backward(g)):
                if p._backward is not _constant and (p._prev or p in code.wanted):
                    add(p, d)
        except (ArithmeticError, ValueError, _ReadError):    # raised at g = 0: when g is not,
            if acc[v] != 0.0 or code.frame:                   # the call goes back to f, which
                raise                                         # raises it as backward() does
            code.lines[opened + 1:] = [(None, "raise Retrace", (), "backward() raises here")]
        if any(line[0] is None for line in code.lines[opened + 1:]):
            code.lines.append((None, None, (), ""))               # the block ends
        else:
            del code.lines[opened:]                  # nothing flows on from v
    inner = [names[v] for v in names if v._prev]
    code.lines[start:start] = [(None, " = ".join(inner[i:i + 8]) + " = 0.0", (), "")
                               for i in range(0, len(inner), 8)]
    return leaves

def _write(code, lines, keep, hoist=True):
    """Return a function's body: the lines nothing reads dropped, a temporary read once written
    into its reader, a tuple built once (in run() if it holds run()'s inputs only)."""
    needed, kept, reads = set(keep), [], {}
    for line in reversed(lines):
        if line[0] is None or line[0] in needed:     # statements always stay
            kept.append(line)
            for x in line[2]:
                for y in x if isinstance(x, (list, tuple)) else (x,):
                    if isinstance(y, _Symbol):
                        needed.add(y)
                        reads[y] = reads.get(y, 0) + 1
    inline, body, depth, tuples = {}, [], 0, {}      # inline: temporary -> (expression, a call?)
    for target, template, operands, comment in reversed(kept):
        if template is None:                         # a block ends
            depth -= 1
            continue
        bare = template.endswith(("Retrace", "+= {}"))   # (no parentheses needed around x)
        texts = [_source(x, code, inline, bare) for x in operands]
        for k, x in enumerate(operands):
            if isinstance(x, (list, tuple)) and len(x) > 1:
                shared = hoist and all(not isinstance(y, _Symbol) or y.name[0] == "x" for y in x)
                table, lines_ = (code.tuples, code.prologue) if shared else (tuples, body)
                if texts[k] not in table and (shared or not depth):
                    table[texts[k]] = f"{'w' if shared else 'u'}{len(table)}"
                    lines_.append(f"{table[texts[k]]} = {texts[k]}")
                texts[k] = table.get(texts[k], texts[k])
        text = template.format(*texts) + (f"  # {comment}" if comment else "")
        if target is None:
            body.append("    " * depth + text)
            depth += template.endswith(":")
        elif target.name[0] == "t" and reads[target] == 1 and target not in keep and len(text) < 70:
            inline[target] = (text, template[0].isalpha() and template.endswith(")"))
        else:
            body.append("    " * depth + f"{target.name} = {text}")
    return body

def _key(x, data, i):
    """What a trace must find again in argument i: its shape and each value but the floats,
    which go to data (the code's inputs). TypeError for what jit cannot compare."""
    if isinstance(x, float):
        data.append(x)
        return float
    if type(x) in (list, tuple):
        return type(x), tuple([_key(y, data, i) for y in x])
    if type(x).__hash__ is None:                     # a numpy array, a dict, a set
        raise TypeError(f"jit: argument {i}, {x!r}, can be neither traced nor compared: pass "
                        f"floats, lists or tuples of them, or hashable values")
    return type(x), x

def _rebuild(x, data):                               # x, each float the next of data, as _key
    if isinstance(x, float):
        return next(data)
    return type(x)([_rebuild(y, data) for y in x]) if type(x) in (list, tuple) else x

class _Trace:
    """One compiled trace: its source, the function it defines, and what it was traced for."""
    def __init__(self, code, returns, inputs, title, key, shape):
        body = _write(code, code.lines, set(returns) | code.read)
        lines = code.prologue + [line for source in code.defs for line in source] + body
        self.source = (f"# generated by tinygrad_scalar.jit from {_comment(title)}\n"
                       f"def run({', '.join(inputs)}):\n" + "".join(f"    {t}\n" for t in lines) +
                       f"    return {''.join(_source(r, code) + ', ' for r in returns)}\n")
        exec(compile(self.source, "<jit>", "exec"), code.namespace)
        self.run, self.outside = code.namespace["run"], code.outside
        self.key, self.shape = key, shape

    def fits(self, key):                             # this key, and outside Values as they were:
        return self.key == key and all(              # -0.0 is not 0.0, nan is nan
            p.data == x and math.copysign(1.0, p.data) == math.copysign(1.0, x) or
            p.data != p.data and x != x for p, x in self.outside.items())

class _Jitted:
    """The function jit returns: code generated for f, written on the first call."""
    MAX_TRACES = 8                                   # traces kept, one per branch taken

    def __init__(self, f, argnums, mode, params=None):
        self.f, self.argnums, self.mode, self.params = f, argnums, mode, params
        self.traces, self.lock = [], threading.RLock()    # newest first; reentrant: f may recurse
        self.__name__ = f"jit_{getattr(f, '__name__', 'f')}"
        self.__doc__ = getattr(f, "__doc__", None)

    @property
    def source(self):
        """The generated Python source of the newest trace."""
        if not self.traces:
            raise RuntimeError(f"jit: {self.__name__} has not been called yet: no code is written")
        return self.traces[0].source

    def __repr__(self):
        return f"<jit of {getattr(self.f, '__name__', self.f)!r}, {len(self.traces)} trace(s)>"

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError(f"jit: pass arguments by position, got keywords {sorted(kwargs)!r}")
        if self.params is None and any(isinstance(a, Value) for a in args):
            return self._eager(*args)                # called on Values (inside grad, say): f itself
        leaves = [] if self.mode == "loss" else [i for i, a in enumerate(args) if isinstance(
            a, float)] if self.mode == "f" else list(dict.fromkeys(_argnums(self.argnums, len(args),
                                                                              "grad")))
        xs = [p.data for p in self.params] if self.params is not None else \
            [_value(args[i], "jit").data for i in leaves]     # the leaves first, then the data
        key = (len(args), *[i in leaves or _key(a, xs, i) for i, a in enumerate(args)])
        for locked in (False, True):                 # one thread traces, the others use its trace
            with self.lock if locked else contextlib.nullcontext():
                for trace in list(self.traces):
                    if trace.fits(key):
                        try:
                            return self._shaped(trace, trace.run(*xs))
                        except _Retrace:
                            continue
                        except (ArithmeticError, ValueError):
                            break                    # trace again: f raises the engine's own error
                if locked:
                    trace = self._trace(args, xs, key, leaves)
                    self.traces = [trace] + self.traces[:self.MAX_TRACES - 1]
        try:
            return self._shaped(trace, trace.run(*xs))
        except _Retrace:                             # f read something else than its arguments
            raise RuntimeError(f"jit: {self.__name__} went another way on the same input") from None

    def _eager(self, *args):
        if self.mode in ("f", "loss"):
            return self.f(*args)
        transform = value_and_grad if self.mode == "value_and_grad" else grad
        return transform(self.f, self.argnums)(*args)

    def _trace(self, args, xs, key, positions):      # (a model's call that cannot be: inline)
        try:
            try:
                return self._trace_once(args, xs, key, positions, False)
            except _Inline:
                return self._trace_once(args, xs, key, positions, True)
        except _ReadError:                           # (str(v) in an op's error message, say:
            with no_grad():                          # eager f raises that error, and so do we)
                self._eager(*[Value(a) if i in positions and self.mode == "f" else a
                              for i, a in enumerate(args)])
            raise

    def _trace_once(self, args, xs, key, positions, inline):   # f on symbols, its code compiled
        leaves = wrt = self.params
        if self.params is None:
            leaves = [Value(0.0) for _ in positions]
            wrt = [] if self.mode == "f" else [leaves[positions.index(i)]
                                                for i in _argnums(self.argnums, len(args), "grad")]
        code, names = _Code(set(wrt), inline), [f"x{i}" for i in range(len(xs))]
        saved, previous = [p.data for p in leaves], getattr(_local, "tracer", None)
        _local.tracer = code
        _use_hook(1)
        try:
            for p, x, name in zip(leaves, xs, names):
                p.data = _Symbol(code, x, name)
            data = iter([_node(_Symbol(code, x, name), (), None)          # the data: constants
                         for x, name in zip(xs[len(leaves):], names[len(leaves):])])
            result = _inside(self.f, *[leaves[positions.index(i)] if i in positions else
                                       _rebuild(a, data) for i, a in enumerate(args)])
            if code.bail:                            # f caught _Inline
                raise _Inline
            if code.failed is not None:              # f caught an op's error: that branch
                raise RuntimeError(f"jit: {self.__name__} caught {code.failed!r}, raised by an op "
                                   f"while traced: jit cannot follow that try") from code.failed
            outs, shape = self._outputs(result)
            returns = [o.data for o in outs]
            if wrt:                                  # the gradients, for argnums in their order
                _write_backward(code, outs[0], 1.0)
                grads = list(dict.fromkeys("d" + w.data.name for w in wrt))
                code.prologue += [" = ".join(grads[i:i + 8]) + " = 0.0"
                                  for i in range(0, len(grads), 8)]
                returns += [_Symbol(code, 0.0, "d" + w.data.name) for w in wrt]
            return _Trace(code, returns, names, self.__name__, key, shape)
        finally:
            _local.tracer = previous
            _use_hook(-1)
            code.open, code.made = False, None
            for p, x in zip(leaves, saved):
                p.data = x

    def _outputs(self, result):                      # f's result checked: its Values, its shape
        outs, shape, many = [result], None, isinstance(result, (tuple, list)) and result
        aux = many and len(result) == 2 and isinstance(result[1], (tuple, list))
        if self.mode == "loss" and aux:
            outs, shape = [result[0], *result[1]], len(result[1])    # loss and some Values
        elif self.mode == "f" and many:
            outs, shape = list(result), type(result)
        elif self.mode != "f" and _real(result) and not isinstance(result, bool):
            outs = [_value(result, "grad")]          # a constant, as grad takes it: slope 0
        if shape != 0 and all(isinstance(o, Value) for o in outs):
            return outs, shape
        try:
            shown = repr(result)
        except _ReadError:
            shown = f"a {type(result).__name__} of Values"
        raise TypeError(f"jit: {self.__name__} must return a Value (or a list of them, or loss and "
                        f"a list), got {shown}")

    def _shaped(self, trace, out):                   # the code's flat tuple, shaped as f's result
        if self.mode == "f":
            return out[0] if trace.shape is None else trace.shape(out)
        if self.mode == "loss":
            k = 1 + (trace.shape or 0)
            for p, g in zip(self.params, out[k:]):
                p.grad = g
            return out[0] if trace.shape is None else (out[0], list(out[1:k]))
        grads = out[1] if isinstance(self.argnums, int) else tuple(out[1:])
        return (out[0], grads) if self.mode == "value_and_grad" else grads

def jit(f):
    """Return f computed by code written from one trace, as jax.jit; jit(grad(f)) and
    jit(value_and_grad(f)) write the backward pass too. The floats in the arguments (in lists
    and tuples too) are the code's inputs; other arguments reach f as they are, and another
    value of them, another shape, a branch, or a new number in a Value from outside traces f
    again. Other numbers f reads are frozen, and work that reaches no output is dropped."""
    if isinstance(f, _Jitted):
        return f
    if not callable(f):
        raise TypeError(f"jit: expected a function, got {f!r}")
    inner, argnums, mode = getattr(f, "_transform", (f, None, "f"))
    return _Jitted(inner, argnums, mode)

def jit_loss(loss_fn, params):
    """Return step(*data): loss_fn(*data) by jitted code, setting each of params' .grad (not
    adding); it reads params' .data at each call, so loss = step(*batch); opt.step() trains.
    loss_fn may also return (loss, [Values...]); step then returns (loss, [floats])."""
    try:
        params = list(params) if not isinstance(params, Value) else [params]
    except TypeError:
        raise TypeError(f"jit_loss: expected a list of Values to learn, got {params!r}") from None
    for i, p in enumerate(params):
        if not isinstance(p, Value) or p._prev or not p.requires_grad:
            raise TypeError(f"jit_loss: parameter {i}, {p!r}, is no leaf Value that learns")
    if len(set(params)) != len(params):
        raise ValueError("jit_loss: a parameter appears twice in params")
    if not callable(loss_fn):
        raise TypeError(f"jit_loss: expected a function, got {loss_fn!r}")
    return _Jitted(loss_fn, None, "loss", params)


# ---------------- the main job: python tinygrad_scalar.py

import argparse
import collections
import os

class TrainResult(collections.namedtuple("TrainResult", "model accuracy")):
    """Unpack as (model, accuracy); .losses and .accuracies hold every step's numbers, to plot."""

def train_moons(steps=200, n=100, seed=1, progress=True, use_jit=True):
    """Train MLP(2, [16, 16, 1]) on two-moons, as micrograd's demo does, until 100% accuracy."""
    _check(steps, "train_moons", "steps", _number(steps, int) and steps >= 0, "must be an int >= 0")
    X, y = make_moons(n, noise=0.1, seed=seed)
    labels = [2 * t - 1 for t in y]                  # hinge loss wants -1 and +1
    model = MLP(2, [16, 16, 1], seed=seed)
    opt = SGD(model.parameters(), lr=1.0)

    def loss_and_scores(X):                          # the batch's loss, and its scores for accuracy
        scores = [model(x) for x in X]
        return hinge_loss(scores, labels) + 1e-4 * vsum(p * p for p in opt.params), scores

    def backprop(X):                                 # what the jitted step does, by the graph
        opt.zero_grad()
        loss, scores = loss_and_scores(X)
        loss.backward()
        return loss.data, [s.data for s in scores]
    step = jit_loss(loss_and_scores, opt.params) if use_jit else backprop   # sets every p.grad
    losses, accuracies = [], []
    for k in range(steps + 1):
        loss, scores = step(X)
        losses.append(loss)
        accuracies.append(sum((s > 0) == (t > 0) for s, t in zip(scores, labels)) / n)
        last = accuracies[-1] == 1.0 or k == steps   # the model returned is the one just measured
        if progress and (last or k % max(1, steps // 10) == 0):   # a line every tenth of the steps
            print(f"step {k:{len(str(steps))}d}/{steps}  loss {loss:.4f}  "
                  f"accuracy {accuracies[-1]:6.1%}", flush=True)
        if last:
            break
        opt.lr = 1.0 - 0.9 * k / steps               # learning-rate decay
        opt.step()
    result = TrainResult(model, accuracies[-1])
    result.losses, result.accuracies = losses, accuracies
    return result

def main(argv=()):
    """Differentiate the course notes' example, check it numerically, then train a small MLP."""
    formula = "log(x1*x2*(x1 + x2)) / (x1 - x2)**2"   # ASCII: any terminal prints it
    parser = argparse.ArgumentParser(prog="python -m tinygrad_scalar", description=(
        f"Differentiate f(x1, x2) = {formula} at (2, 10), check it by central difference, "
        "then train MLP(2, [16, 16, 1]) on two-moons."))
    parser.add_argument("--steps", type=int, default=200, metavar="N", help="at most N steps")
    parser.add_argument("--version", action="version", version=f"tinygrad_scalar {__version__}")
    args = parser.parse_args(list(argv))
    if args.steps < 0:
        parser.error(f"--steps must be 0 or more, got {args.steps}")
    f = lambda x1, x2: (x1 * x2 * (x1 + x2)).log() / (x1 - x2) ** 2   # the notes' example
    value, grads = value_and_grad(f, argnums=(0, 1))(2.0, 10.0)
    print(f"f(x1, x2) = {formula}  at x1 = 2, x2 = 10\n  value              {value:.10f}")
    for i, g in enumerate(grads):
        numeric = central_difference(f, 2.0, 10.0, arg=i)
        print(f"  df/dx{i + 1}  autodiff {g: .10f}   central difference {numeric: .10f}")
    print("\nTraining MLP(2, [16, 16, 1]) on two-moons (hinge loss, SGD; the step jitted once):")
    model, accuracy = train_moons(args.steps)
    print(f"training accuracy: {accuracy:.0%}")
    return accuracy

def _run_as_program(namespace):                     # not pasted into a notebook cell or a REPL
    file, program = namespace.get("__file__"), sys.argv[0] if sys.argv else ""   # a cell: no file
    return bool(file and program) and os.path.realpath(file) == os.path.realpath(program)

__version__ = "0.3.0"
__all__ = [
    "Value", "no_grad", "enable_grad", "vsum", "dot", "logsumexp", "central_difference",
    "gradcheck", "GradcheckError", "derivative", "grad", "value_and_grad", "gradients_by_label",
    "jvp", "jacobian", "hessian", "Context", "ScalarFunction", "draw_dot", "backward_steps",
    "graph_text", "Module", "Neuron", "Layer", "MLP", "SGD", "Adam", "mse_loss", "hinge_loss",
    "binary_cross_entropy_with_logits", "cross_entropy", "make_moons", "make_linear", "train_moons",
    "jit", "jit_loss",
]

if __name__ == "__main__" and _run_as_program(globals()):
    try:
        main(sys.argv[1:])
    except BrokenPipeError:                          # python3 tinygrad_scalar.py | head: quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

"""A small pickle writer driven by explicit nodes, for building official-layout and hostile test pickles.

Why: official snapshots name globals (torch_utils.persistence, dnnlib.util.EasyDict, ...) that do not
exist here, and hostile test files need opcodes no normal object produces. This emitter writes those
opcodes directly, with CPython's conventions per protocol (2: GLOBAL + `_codecs.encode` for bytes +
`__builtin__.set`; 3: GLOBAL + BINBYTES + `builtins.set`; 4: FRAME + STACK_GLOBAL + MEMOIZE + EMPTY_SET),
memoizing shared objects by identity as pickle does. Test helper only.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Any

FRAME_TARGET = 64 * 1024


@dataclass(eq=False)
class Global:
    """A module-level name, written as GLOBAL / STACK_GLOBAL."""

    module: str
    name: str


@dataclass(eq=False)
class Call:
    """`func(*args)` via REDUCE, optionally followed by dict items (SETITEMS) and BUILD state."""

    func: Any
    args: tuple = ()
    dictitems: dict | None = None
    state: Any = None
    has_state: bool = False


@dataclass(eq=False)
class NewObj:
    """`cls.__new__(cls, *args)` via NEWOBJ, then dict items, then optional BUILD."""

    cls: Any
    args: tuple = ()
    dictitems: dict | None = None
    state: Any = None
    has_state: bool = False


@dataclass(eq=False)
class PersId:
    """A persistent id (BINPERSID) whose id is `pid`."""

    pid: Any


@dataclass(eq=False)
class Raw:
    """Opcode bytes inserted verbatim (for hostile files)."""

    data: bytes


class Emitter:
    def __init__(self, protocol: int) -> None:
        if protocol not in (2, 3, 4):
            raise ValueError("protocol must be 2, 3 or 4")
        self.proto = protocol
        self.out = io.BytesIO()
        self.frame = io.BytesIO()
        self.memo: dict[Any, int] = {}
        self.keep: list[Any] = []

    # ---- low level -----------------------------------------------------------------------------
    def w(self, data: bytes) -> None:
        if self.proto >= 4:
            self.frame.write(data)
            if self.frame.tell() >= FRAME_TARGET:
                self.flush_frame()
        else:
            self.out.write(data)

    def flush_frame(self) -> None:
        data = self.frame.getvalue()
        if data:
            self.out.write(b"\x95" + struct.pack("<Q", len(data)) + data)
            self.frame = io.BytesIO()

    def put(self, key: Any, obj: Any) -> None:
        idx = len(self.memo)
        self.memo[key] = idx
        self.keep.append(obj)
        if self.proto >= 4:
            self.w(b"\x94")  # MEMOIZE
        elif idx < 256:
            self.w(b"q" + bytes([idx]))
        else:
            self.w(b"r" + struct.pack("<I", idx))

    def get(self, key: Any) -> bool:
        idx = self.memo.get(key)
        if idx is None:
            return False
        self.w(b"h" + bytes([idx]) if idx < 256 else b"j" + struct.pack("<I", idx))
        return True

    # ---- values --------------------------------------------------------------------------------
    def save(self, obj: Any) -> None:
        if obj is None:
            self.w(b"N")
        elif obj is True or obj is False:
            self.w(b"\x88" if obj else b"\x89")
        elif isinstance(obj, int):
            self.save_int(obj)
        elif isinstance(obj, float):
            self.w(b"G" + struct.pack(">d", obj))
        elif isinstance(obj, str):
            self.save_str(obj)
        elif isinstance(obj, bytes):
            self.save_bytes(obj)
        elif isinstance(obj, tuple):
            self.save_tuple(obj)
        elif isinstance(obj, list):
            self.save_list(obj)
        elif isinstance(obj, dict):
            self.save_dict(obj)
        elif isinstance(obj, set):
            self.save_set(obj)
        elif isinstance(obj, Global):
            self.save_global(obj)
        elif isinstance(obj, Call | NewObj):
            self.save_call(obj)
        elif isinstance(obj, PersId):
            self.save(obj.pid)
            self.w(b"Q")
        elif isinstance(obj, Raw):
            self.w(obj.data)
        else:
            raise TypeError(f"emitter cannot write {type(obj).__name__}")

    def save_int(self, v: int) -> None:
        if 0 <= v < 256:
            self.w(b"K" + bytes([v]))
        elif 0 <= v < 65536:
            self.w(b"M" + struct.pack("<H", v))
        elif -(2**31) <= v < 2**31:
            self.w(b"J" + struct.pack("<i", v))
        else:
            n = (v.bit_length() + 8) // 8
            data = v.to_bytes(n, "little", signed=True)
            self.w(b"\x8a" + bytes([len(data)]) + data)

    def save_str(self, s: str) -> None:
        if self.get(("id", id(s))):
            return
        data = s.encode("utf-8", "surrogatepass")
        if self.proto >= 4 and len(data) < 256:
            self.w(b"\x8c" + bytes([len(data)]) + data)
        elif len(data) >= 2**32:
            self.w(b"\x8d" + struct.pack("<Q", len(data)) + data)
        else:
            self.w(b"X" + struct.pack("<I", len(data)) + data)
        self.put(("id", id(s)), s)

    def save_bytes(self, b: bytes) -> None:
        if self.get(("id", id(b))):
            return
        if self.proto < 3:
            # CPython protocol 2: bytes are written as _codecs.encode(latin-1 text, 'latin1')
            self.save_global(Global("_codecs", "encode"))
            self.save_tuple((b.decode("latin1"), "latin1"), memo=False)
            self.w(b"R")
        elif len(b) < 256:
            self.w(b"C" + bytes([len(b)]) + b)
        elif len(b) < 2**32:
            if self.proto >= 4 and len(b) >= FRAME_TARGET:
                self.flush_frame()
                self.out.write(b"B" + struct.pack("<I", len(b)) + b)
            else:
                self.w(b"B" + struct.pack("<I", len(b)) + b)
        else:
            self.flush_frame()
            self.out.write(b"\x8e" + struct.pack("<Q", len(b)) + b)
        self.put(("id", id(b)), b)

    def save_tuple(self, t: tuple, memo: bool = True) -> None:
        if not t:
            self.w(b")")
            return
        if memo and self.get(("id", id(t))):
            return
        if len(t) <= 3:
            for item in t:
                self.save(item)
            self.w({1: b"\x85", 2: b"\x86", 3: b"\x87"}[len(t)])
        else:
            self.w(b"(")
            for item in t:
                self.save(item)
            self.w(b"t")
        if memo:
            self.put(("id", id(t)), t)

    def save_list(self, items: list) -> None:
        if self.get(("id", id(items))):
            return
        self.w(b"]")
        self.put(("id", id(items)), items)
        for i in range(0, len(items), 1000):
            chunk = items[i : i + 1000]
            if len(chunk) == 1:  # CPython writes a lone item with APPEND, batches with MARK ... APPENDS
                self.save(chunk[0])
                self.w(b"a")
                continue
            self.w(b"(")
            for item in chunk:
                self.save(item)
            self.w(b"e")

    def save_dict_items(self, d: dict) -> None:
        items = list(d.items())
        for i in range(0, len(items), 1000):
            chunk = items[i : i + 1000]
            if len(chunk) == 1:  # SETITEM for a lone pair, MARK ... SETITEMS for batches
                self.save(chunk[0][0])
                self.save(chunk[0][1])
                self.w(b"s")
                continue
            self.w(b"(")
            for k, v in chunk:
                self.save(k)
                self.save(v)
            self.w(b"u")

    def save_dict(self, d: dict) -> None:
        if self.get(("id", id(d))):
            return
        self.w(b"}")
        self.put(("id", id(d)), d)
        if d:
            self.save_dict_items(d)

    def save_set(self, s: set) -> None:
        if self.get(("id", id(s))):
            return
        if self.proto >= 4:
            self.w(b"\x8f")
            self.put(("id", id(s)), s)
            if s:
                self.w(b"(")
                for item in s:
                    self.save(item)
                self.w(b"\x90")
            return
        module = "__builtin__" if self.proto < 3 else "builtins"
        self.save_global(Global(module, "set"))
        self.save_tuple((list(s),), memo=False)
        self.w(b"R")
        self.put(("id", id(s)), s)

    def save_global(self, g: Global) -> None:
        key = ("global", g.module, g.name)
        if self.get(key):
            return
        if self.proto >= 4:
            self.save_str(g.module)
            self.save_str(g.name)
            self.w(b"\x93")
        else:
            self.w(b"c" + g.module.encode() + b"\n" + g.name.encode() + b"\n")
        self.put(key, g)

    def save_call(self, c: Call | NewObj) -> None:
        if self.get(("id", id(c))):
            return
        if isinstance(c, NewObj):
            self.save(c.cls)
            self.save_tuple(c.args, memo=False)
            self.w(b"\x81")
        else:
            self.save(c.func)
            self.save_tuple(c.args, memo=False)
            self.w(b"R")
        self.put(("id", id(c)), c)
        if c.dictitems:
            self.save_dict_items(c.dictitems)
        if c.has_state:
            self.save(c.state)
            self.w(b"b")

    def finish(self) -> bytes:
        self.w(b".")
        self.flush_frame()
        return self.out.getvalue()


def dumps(obj: Any, protocol: int = 4) -> bytes:
    """Pickle bytes for a tree of plain values and emitter nodes."""
    e = Emitter(protocol)
    e.out.write(b"\x80" + bytes([protocol]))
    e.save(obj)
    return e.finish()

#!/usr/bin/python3
"""Compares what a shared library exports with what its public interface declares.

  check_exports.py anycl LIB INCLUDE_DIR   libanycl.so against include/anycl/*.h(pp)
  check_exports.py blas LIB MAP DOC        libanycl_blas.so against its version script and docs

`--nm-output FILE` reads a saved `nm -D --defined-only -C` listing instead of running nm on LIB
(tests/check_exports_selftest.sh feeds it doctored listings to prove each check can fail).

anycl: every C function declared in anycl.h is exported, and nothing else without `::`; every
C++ function declared in namespace anycl (outside detail) is exported with as many signatures as
it has declarations (a template: at least one specialization); a polymorphic class exports its
typeinfo (exceptions are caught across the library boundary by it); nothing else is exported.
Functions defined in the headers (inline), pure virtual and `= default` / `= delete` members are not
expected. Headers of the other libraries (mpi.hpp: libanycl_mpi) are not libanycl's interface.
Exits 1 listing every difference.
"""
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path


def nm_symbols(lib, saved):
    if saved:
        text = Path(saved).read_text()
    else:
        text = subprocess.run(["nm", "-D", "--defined-only", "-C", lib], check=True, capture_output=True,
                              text=True).stdout
    symbols = []
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] not in ("U", "w", "v"):
            symbols.append(parts[2].strip())
    return symbols


# ---- header scanning ----

OTHER_LIBRARIES_HEADERS = {"mpi.hpp"}  # libanycl_mpi's

def strip_comments_and_preprocessor(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return "\n".join("" if line.lstrip().startswith("#") else line for line in text.splitlines())


def declared_name(statement):
    """The function a declaration statement declares, or None."""
    depth, angle = 0, 0
    for i, ch in enumerate(statement):
        if ch == "<":
            angle += 1
        elif ch == ">":
            angle -= 1
        elif ch == "(" and depth == 0 and angle <= 0:
            head = statement[:i].rstrip()
            m = re.search(r"(operator\s*\S+?|~?\w+)$", head)
            return re.sub(r"\s+", "", m.group(1)) if m else None
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
    return None


class Interface:
    def __init__(self):
        self.c_functions = set()
        self.cpp_functions = defaultdict(int)  # qualified name -> declarations
        self.cpp_templates = set()
        self.classes = set()                   # qualified
        self.polymorphic = set()


def scan_header(text, out):
    text = strip_comments_and_preprocessor(text)
    scopes = []  # (kind, name): namespace, class, skip, extern
    stmt = ""
    paren = 0
    i = 0
    while i < len(text):
        ch = text[i]
        i += 1
        if ch in "()":
            paren += 1 if ch == "(" else -1
            stmt += ch
            continue
        if paren > 0 or ch not in "{};":
            stmt += ch
            continue
        s = " ".join(stmt.split())
        stmt = ""
        inside_skip = any(kind == "skip" for kind, _ in scopes)
        if ch == "{":
            m_ns = re.match(r"^namespace (\w+)$", s)
            m_cls = re.match(r"^(?:typedef )?(?:class|struct) (?:ANYCL_API )?(\w+)\s*(:.*)?$", s)
            if inside_skip:
                scopes.append(("skip", ""))
            elif re.match(r'^extern "C"$', s):
                scopes.append(("extern", ""))
            elif m_ns:
                scopes.append(("namespace", m_ns.group(1)))
            elif m_cls and "(" not in s:
                scopes.append(("class", m_cls.group(1)))
                qualified = "::".join([n for k, n in scopes if k in ("namespace", "class")])
                out.classes.add(qualified)
                if m_cls.group(2):
                    out.polymorphic.add(qualified)
            else:
                scopes.append(("skip", ""))  # enum, function body, initializer
            continue
        if ch == "}":
            if scopes:
                scopes.pop()
            continue
        # ';' ends a statement
        if inside_skip or "(" not in s or re.search(r"=\s*(default|delete|0)$", s):
            continue
        if re.match(r"^(typedef|using|friend|static_assert)\b", s):
            continue
        name = declared_name(s)
        if not name:
            continue
        path = [n for k, n in scopes if k in ("namespace", "class")]
        if not path:
            out.c_functions.add(name)
            continue
        if path[0] != "anycl" or "detail" in path:
            continue
        qualified = "::".join(path + [name])
        if s.startswith("template"):
            out.cpp_templates.add(qualified)
        else:
            out.cpp_functions[qualified] += 1
        if "virtual" in s.split():
            out.polymorphic.add("::".join(path))


# ---- demangled symbols ----

def split_top(text, sep):
    parts, depth, cur, i = [], 0, "", 0
    while i < len(text):
        ch = text[i]
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if depth == 0 and text.startswith(sep, i):
            parts.append(cur)
            cur = ""
            i += len(sep)
            continue
        cur += ch
        i += 1
    parts.append(cur)
    return parts


def qualified_name(symbol):
    """'anycl::Event anycl::gemm<float>(anycl::Runtime&, ...)' -> ('anycl::gemm', is_function)."""
    depth, cut = 0, None
    for i, ch in enumerate(symbol):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "(" and depth == 0 and not symbol[:i].endswith("operator"):
            cut = i
            break
    head = symbol if cut is None else symbol[:cut]
    head = split_top(head.strip(), " ")[-1]  # drop a template specialization's return type
    head = re.sub(r"\[abi:\w+\]", "", head)  # libstdc++'s ABI tag on functions returning std::string
    components = [re.sub(r"<.*>$", "", c) for c in split_top(head, "::")]
    return "::".join(components), cut is not None


def check_anycl(symbols, iface):
    problems = []
    exported_c = set()
    signatures = defaultdict(set)
    for sym in symbols:
        m = re.match(r"^(typeinfo name for|typeinfo for|vtable for) (.*)$", sym)
        if m:
            if m.group(2) not in iface.classes:
                problems.append(f"exported but not a public class: {sym}")
            continue
        if "::" not in sym and "(" not in sym:
            exported_c.add(sym)
            if sym not in iface.c_functions:
                problems.append(f"exported but not declared in anycl.h: {sym}")
            continue
        name, is_function = qualified_name(sym)
        parts = name.split("::")
        owner = "::".join(parts[:-1])
        special = parts[-1] in (parts[-2] if len(parts) > 1 else None, "~" + (parts[-2] if len(parts) > 1 else ""))
        known = name in iface.cpp_functions or name in iface.cpp_templates
        if not is_function or not known or (special and owner not in iface.classes):
            problems.append(f"exported but not declared in the public headers: {sym}")
            continue
        signatures[name].add(sym)
    for fn in sorted(iface.c_functions - exported_c):
        problems.append(f"declared in anycl.h but not exported: {fn}")
    for fn, count in sorted(iface.cpp_functions.items()):
        got = len(signatures.get(fn, ()))
        if got != count:
            listed = "".join(f"\n    {s}" for s in sorted(signatures.get(fn, ())))
            problems.append(f"{fn}: {count} declaration(s) in the headers, {got} exported signature(s){listed}")
    for fn in sorted(iface.cpp_templates):
        if not signatures.get(fn):
            problems.append(f"template declared in the headers but no specialization exported: {fn}")
    for cls in sorted(iface.polymorphic):
        if f"typeinfo for {cls}" not in symbols:
            problems.append(f"polymorphic public class without exported typeinfo (not catchable): {cls}")
    return problems


def check_blas(symbols, map_file, doc_file):
    problems = []
    map_text = strip_comments_and_preprocessor(Path(map_file).read_text())
    global_part = re.search(r"global:(.*?)local:", map_text, flags=re.S)
    listed = set(re.findall(r"(\w+)\s*;", global_part.group(1))) if global_part else set()
    if not listed:
        problems.append(f"{map_file}: no global symbols found")
    doc = Path(doc_file).read_text()
    for sym in sorted(set(symbols) - listed):
        problems.append(f"exported but not in {map_file}: {sym}")
    for sym in sorted(listed - set(symbols)):
        problems.append(f"in {map_file} but not exported: {sym}")
    for sym in sorted(listed):
        if f"`{sym}`" not in doc:
            problems.append(f"exported but not documented in {doc_file}: {sym}")
    return problems


def main(argv):
    saved = None
    if "--nm-output" in argv:
        at = argv.index("--nm-output")
        saved = argv[at + 1]
        del argv[at:at + 2]
    if len(argv) < 3 or argv[0] not in ("anycl", "blas"):
        sys.exit(__doc__)
    symbols = nm_symbols(argv[1], saved)
    if argv[0] == "anycl":
        iface = Interface()
        headers = sorted(Path(argv[2]).glob("*.h")) + sorted(Path(argv[2]).glob("*.hpp"))
        for h in (h for h in headers if h.name not in OTHER_LIBRARIES_HEADERS):
            scan_header(h.read_text(), iface)
        if not iface.c_functions or not iface.cpp_functions:
            sys.exit(f"no declarations found under {argv[2]}: the header scan is broken")
        problems = check_anycl(symbols, iface)
        summary = (f"{len(iface.c_functions)} C functions, {len(iface.cpp_functions) + len(iface.cpp_templates)} "
                   f"C++ functions, {len(iface.classes)} classes declared; {len(symbols)} symbols exported")
    else:
        problems = check_blas(symbols, argv[2], argv[3])
        summary = f"{len(symbols)} symbols exported: {' '.join(sorted(symbols))}"
    for p in problems:
        print(p)
    print(("FAIL: " if problems else "ok: ") + summary)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Prints, hottest first, the functions of one object that a callgrind profile saw run.

Usage: callgrind_order.py PROFILE OBJECT_PATH_SUFFIX

The profile must come from `valgrind --tool=callgrind --demangle=no --compress-strings=yes` so the
names are the linker's (mangled) symbols. Callgrind writes a name once, as `fn=(id) name`, and the
id alone afterwards; `ob=`/`cob=` name the object of the functions (`cfn=`) that follow. A function
is listed once whatever its recursion suffix (`'2`). Self cost (the first event, instructions) sets
the order, so the hot loop packs together first and one-off startup code follows it.
"""

import collections
import re
import sys

NAMED = re.compile(r"^(ob|cob|fn|cfn)=\((\d+)\)(?: (.*))?$")


def main(path: str, suffix: str) -> None:
    objects: dict[str, str] = {}
    functions: dict[str, str] = {}
    owner: dict[str, str | None] = {}
    cost: collections.Counter[str] = collections.Counter()
    current_object = called_object = current_function = None
    after_call = False
    with open(path, encoding="utf-8", errors="replace") as profile:
        for raw in profile:
            line = raw.rstrip("\n")
            named = NAMED.match(line)
            if named:
                kind, ident, name = named.groups()
                table = objects if kind in ("ob", "cob") else functions
                if name:
                    table[ident] = name
                value = table.get(ident)
                if kind == "ob":
                    current_object = called_object = value
                elif kind == "cob":
                    called_object = value
                elif kind == "fn":
                    current_function = value
                    owner.setdefault(value, current_object)
                    called_object = current_object
                else:
                    owner.setdefault(value, called_object)
                    called_object = current_object
                continue
            if line.startswith("calls="):
                after_call = True
                continue
            if line[:1].isdigit() or line[:1] in "+-*":
                if after_call:
                    after_call = False  # the inclusive cost of the call above, not this function's own
                    continue
                fields = line.split()
                if len(fields) > 1 and current_function:
                    cost[current_function] += int(fields[1])
    seen: set[str] = set()
    for function in sorted(owner, key=lambda f: (-cost[f], f)):
        symbol = re.sub(r"'\d+$", "", function).split("@")[0]
        where = owner[function]
        if where and where.endswith(suffix) and not symbol.startswith("0x") and symbol not in seen:
            seen.add(symbol)
            print(symbol)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

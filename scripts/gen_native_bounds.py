#!/usr/bin/env python3
"""Prints the table of core/detail/native_bounds_table.hpp: 2^(j/256)/2 for
j = 0..255, each the correctly rounded double (Python's float() of a 60-digit
decimal rounds correctly; tests/unit/test_native.cpp proves every entry exactly)."""
from decimal import Decimal, getcontext

getcontext().prec = 60
ln2 = Decimal(2).ln()
vals = [float((ln2 * j / 256).exp() / 2) for j in range(256)]
for i in range(0, 256, 4):
    print("    " + " ".join(repr(v) + "," for v in vals[i:i + 4]))

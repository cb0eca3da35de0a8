#!/usr/bin/env python3
"""Coefficients of `centralPhi` in BlackScholes.c: Φ(d) = ½ + d·E(d²) for |d| ≤ 1.75.

E(u) = Σ_n (−1)^n u^n / (2^n · n! · (2n + 1)) / √(2π) is the Taylor series of (Φ(√u) − ½)/√u. The
series, taken to 70 terms, is rewritten exactly (rational arithmetic) in Chebyshev polynomials of
t = 2u/U − 1 on u ∈ [0, U], U = 1.75², truncated after degree 11 and converted back to powers of u.
The dropped Chebyshev coefficients bound the truncation error; times |d| ≤ 1.75 it is printed first
(5.9e-16: the accuracy of Hart's rational in the other branch, 5e-16; the limit 1.5 would give
1.5e-17 but sends 2.5 times as many steps of a 14-day 10 %-out-of-the-money option to that branch).
Only the final products with 1/√(2π) (40 digits) are rounded to double.

    python3 Sources/CKernels/derivations/central_phi.py [limit] [degree]
"""
import decimal
import math
import sys
from fractions import Fraction
from math import comb

TERMS = 70


def chebyshev_monomials(j):
    """Coefficients of T_j(t) in powers of t."""
    if j == 0:
        return [Fraction(1)]
    previous, current = [Fraction(1)], [Fraction(0), Fraction(1)]
    for _ in range(j - 1):
        following = [Fraction(0)] + [2 * c for c in current]
        for i, c in enumerate(previous):
            following[i] -= c
        previous, current = current, following
    return current


def main():
    limit = Fraction(sys.argv[1]) if len(sys.argv) > 1 else Fraction(7, 4)
    degree = int(sys.argv[2]) if len(sys.argv) > 2 else 11
    upper = limit * limit
    taylor = [Fraction((-1) ** n, 2 ** n * math.factorial(n) * (2 * n + 1)) for n in range(TERMS)]
    # Powers of t: u = U(t + 1)/2.
    in_t = [Fraction(0)] * TERMS
    for n, c in enumerate(taylor):
        scaled = c * upper ** n / 2 ** n
        for k in range(n + 1):
            in_t[k] += scaled * comb(n, k)
    # t^k = 2^{1−k} Σ_j C(k, (k−j)/2) T_j(t), the T_0 term halved.
    chebyshev = [Fraction(0)] * TERMS
    for k, c in enumerate(in_t):
        for j in range(k % 2, k + 1, 2):
            weight = Fraction(comb(k, (k - j) // 2), 2 ** (k - 1)) if k > 0 else Fraction(1)
            if j == 0 and k > 0:
                weight /= 2
            chebyshev[j] += c * weight
    truncated_t = [Fraction(0)] * (degree + 1)
    for j in range(degree + 1):
        for i, c in enumerate(chebyshev_monomials(j)):
            truncated_t[i] += chebyshev[j] * c
    # Back to powers of u: t = 2u/U − 1.
    in_u = [Fraction(0)] * (degree + 1)
    for k, c in enumerate(truncated_t):
        for i in range(k + 1):
            in_u[i] += c * comb(k, i) * (2 / upper) ** i * (-1) ** (k - i)
    decimal.getcontext().prec = 40
    pi = decimal.Decimal("3.141592653589793238462643383279502884197")
    inverse_root = 1 / (2 * pi).sqrt()
    bound = sum(abs(c) for c in chebyshev[degree + 1:]) * limit
    print(f"truncation error in Φ ≤ {float(bound) * float(inverse_root):.3g}")
    print(", ".join(repr(float(decimal.Decimal(c.numerator) / decimal.Decimal(c.denominator) * inverse_root))
                    for c in in_u))


if __name__ == "__main__":
    main()

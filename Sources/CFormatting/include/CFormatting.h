#ifndef THRESHER_CFORMATTING_H
#define THRESHER_CFORMATTING_H
#include <stddef.h>

/// snprintf(buffer, size, format, x) for a format with one double conversion (Swift cannot call a
/// variadic C function, and `String(format:)`/`withVaList` box the argument first, which costs
/// more than the printing in reports with a row per account). Returns snprintf's result.
int thresher_print_double(char *buffer, size_t size, const char *format, double x);

/// x rounded to `digits` significant decimal digits: printf's "%.*g" (correctly rounded in glibc),
/// read back by strtod (correctly rounded), the double nearest to the printed decimal.
double thresher_round_to_significant_digits(double x, int digits);

#endif

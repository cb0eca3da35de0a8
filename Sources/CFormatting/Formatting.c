// Number formatting for the reports through the C library's printf, without Swift's variadic boxing.
#include <stdio.h>
#include <stdlib.h>
#include "CFormatting.h"

int thresher_print_double(char *buffer, size_t size, const char *format, double x) {
    return snprintf(buffer, size, format, x);
}

double thresher_round_to_significant_digits(double x, int digits) {
    char text[48];
    snprintf(text, sizeof text, "%.*g", digits, x);
    return strtod(text, NULL);
}

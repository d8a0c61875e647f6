/* SPDX-License-Identifier: MIT
 * Small text helpers shared by the pure parsers in base/ (DSN redaction, Kafka
 * properties). Pure. */
#ifndef SHOP_TEXT_H
#define SHOP_TEXT_H

/** The value of hex digit c (either case), or -1. */
static inline int shop_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif

/* SPDX-License-Identifier: MIT
 * Counts the events of a POST /v1/events body before it is decoded, so an
 * over-long batch is refused before a JSON tree or any event is built. Pure.
 * The scan only counts: it does not validate, and any body it does not
 * recognise is left to the real decoder (which gives the precise problem).
 */
#ifndef SHOP_EDGE_PRESCAN_H
#define SHOP_EDGE_PRESCAN_H

#include <stddef.h>
#include <stdint.h>

/** Elements of the "events" array of a JSON batch object, counting no further than
 *  max + 1; -1 when the body is not an object whose "events" member is an array. */
long shop_edge_prescan_json(const char *body, size_t len, size_t max);

/** Field-1 (events) records of a protobuf EventBatch, counting no further than
 *  max + 1; -1 when the wire format is broken before that. */
long shop_edge_prescan_pb(const uint8_t *body, size_t len, size_t max);

#endif

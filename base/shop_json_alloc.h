/* SPDX-License-Identifier: MIT
 * jansson allocations from a caller's arena. jansson's allocator is
 * process-wide (json_set_alloc_funcs), so the shell installs ours once at start;
 * a thread then parses between shop_json_alloc_begin(arena) and
 * shop_json_alloc_end() and its JSON tree costs bump allocations instead of a
 * malloc/free per node. Outside such a window, and on threads that never open
 * one, jansson uses malloc/free as before: memory jansson hands out there (e.g.
 * libjwt's json_dumps strings, freed with plain free()) stays plain malloc memory.
 */
#ifndef SHOP_JSON_ALLOC_H
#define SHOP_JSON_ALLOC_H

#include "base/shop_arena.h"

/** Installs the arena-aware allocator into jansson. Call once, before any thread uses
 *  jansson (jansson requires that no JSON value allocated before lives on after). */
void shop_json_alloc_install(void);

/** Until shop_json_alloc_end(), jansson allocations on this thread come from arena.
 *  Every JSON value allocated in the window must be released (json_decref) before the
 *  window ends, and the window must end before arena is reset or finalised. Windows do
 *  not nest. Has no effect on allocations unless shop_json_alloc_install() ran. */
void shop_json_alloc_begin(struct shop_arena *arena);
void shop_json_alloc_end(void);

#endif

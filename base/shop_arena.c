/* SPDX-License-Identifier: MIT
 * Bump allocator in chunks. Pure. Invariant: head is the chunk being filled;
 * older chunks follow through next and are only freed by reset/fini. */
#include "base/shop_arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 8192
#define ALIGN_TO ((size_t)_Alignof(max_align_t))

struct shop_arena_chunk {
    struct shop_arena_chunk *next;
    size_t cap;
    _Alignas(max_align_t) unsigned char data[];
};

static void oom(size_t size)
{
    fprintf(stderr, "level=fatal msg=\"out of memory\" bytes=%zu\n", size);
    abort();
}

void *shop_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        oom(size);
    return p;
}

void *shop_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom(n * size);
    return p;
}

void *shop_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (q == NULL)
        oom(size);
    return q;
}

char *shop_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(shop_xmalloc(n), s, n);
}

void *shop_arena_alloc_uninit(struct shop_arena *arena, size_t size)
{
    size = (size + ALIGN_TO - 1) & ~(ALIGN_TO - 1);
    if (arena->head == NULL || arena->head->cap - arena->used < size) {
        size_t cap = size > CHUNK_MIN ? size : CHUNK_MIN;
        if (arena->head != NULL && cap < arena->head->cap * 2 && size <= CHUNK_MIN * 64)
            cap = arena->head->cap * 2 > CHUNK_MIN * 64 ? CHUNK_MIN * 64 : arena->head->cap * 2;
        if (cap < size)
            cap = size;
        struct shop_arena_chunk *c = shop_xmalloc(sizeof(*c) + cap);
        c->next = arena->head;
        c->cap = cap;
        arena->head = c;
        arena->used = 0;
    }
    void *p = arena->head->data + arena->used;
    arena->used += size;
    arena->total += size;
    return p;
}

void *shop_arena_alloc(struct shop_arena *arena, size_t size)
{
    return memset(shop_arena_alloc_uninit(arena, size), 0, size);
}

bool shop_arena_owns(const struct shop_arena *arena, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    for (const struct shop_arena_chunk *c = arena->head; c != NULL; c = c->next) {
        uintptr_t lo = (uintptr_t)c->data;
        if (a >= lo && a < lo + c->cap)
            return true;
    }
    return false;
}

char *shop_arena_strndup(struct shop_arena *arena, const char *s, size_t n)
{
    char *p = shop_arena_alloc(arena, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *shop_arena_strdup(struct shop_arena *arena, const char *s)
{
    return shop_arena_strndup(arena, s, strlen(s));
}

void shop_arena_reset(struct shop_arena *arena)
{
    struct shop_arena_chunk *c = arena->head;
    if (c == NULL)
        return;
    struct shop_arena_chunk *next = c->next;
    while (next != NULL) {
        struct shop_arena_chunk *n = next->next;
        free(next);
        next = n;
    }
    c->next = NULL;
    arena->used = 0;
    arena->total = 0;
}

void shop_arena_fini(struct shop_arena *arena)
{
    shop_arena_reset(arena);
    free(arena->head);
    arena->head = NULL;
}

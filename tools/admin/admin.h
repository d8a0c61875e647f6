/* SPDX-License-Identifier: MIT
 * shopstream-admin subcommands. Shell. */
#ifndef SHOP_ADMIN_H
#define SHOP_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/shop_err.h"
#include "workers/core/read_models.h"
#include "workers/core/roles.h"

#define SHOP_XSTR(x) #x
#define SHOP_STR(x) SHOP_XSTR(x)

struct rd_kafka_s;
struct shop_kafka_props;

/** One run of a command: the error it fails with, and the DSN whose password the log must not show. */
struct admin_run {
    struct shop_err err;
    const char *dsn;
};

/** A row of the command table (main.c). fn returns 0, 2 for a usage or configuration error (it
 *  printed why), or a negative shop_err code with run->err set (main logs it once, exit 1). */
struct admin_cmd {
    const char *name, *usage, *help;
    int (*fn)(int argc, char **argv, struct admin_run *run);
};

/* admin_opts.c: the options every command shares, with one set of defaults. */
/** The value after option name in argv[2..], else def. */
const char *admin_opt(int argc, char **argv, const char *name, const char *def);
/** 1 if the flag name is in argv[2..]. */
int admin_flag(int argc, char **argv, const char *name);
/** --brokers, else SHOPSTREAM_KAFKA_BROKERS, else the default. */
const char *admin_brokers(int argc, char **argv);
/** --prefix, else SHOPSTREAM_TOPIC_PREFIX, else the default. */
const char *admin_prefix(int argc, char **argv);
/** --dsn, else SHOPSTREAM_PG_DSN, else dbname=shopstream. */
const char *admin_dsn(int argc, char **argv);
/** The role named by --role (else def); NULL after printing the known roles. */
const struct shop_role_desc *admin_role(int argc, char **argv, const char *def);
/** Loads SHOPSTREAM_KAFKA_PROPERTIES[_FILE] into admin_kafka_props; exits 2 listing every bad one. */
void admin_load_kafka_props(void);

/** SHOPSTREAM_KAFKA_PROPERTIES[_FILE] as main loaded them, applied to every client; NULL: none. */
extern const struct shop_kafka_props *admin_kafka_props;

/** A plain client for admin requests and metadata; NULL with err set on failure. */
struct rd_kafka_s *admin_kafka_client(const char *brokers, struct shop_err *err);

/** Applies pending migrations from dir to the database at dsn. */
int admin_migrate(const char *dsn, const char *dir, struct shop_err *err);

/** Creates every stream's topic and the dead-letter topic (proto/core/event_topic.c); existing ones are
 *  left as they are (reported). */
int admin_create_topics(const char *brokers, const char *prefix, int partitions, int replication,
                        struct shop_err *err);

/** Creates the missing topics and brings every existing one to its policy
 *  (proto/core/event_topic_policy.c), printing current and desired config per topic;
 *  dry_run changes nothing. Partitions of existing topics are left alone. */
int admin_topics(const char *brokers, const char *prefix, int partitions, int replication, bool dry_run,
                 struct shop_err *err);

/** What shopstream-admin tail reads and how it stops. */
struct admin_tail_opts {
    const char *topic;     /* a topic name, or a stream's short name ("order", "dlq") */
    bool from_beginning;   /* else only records produced from now on */
    bool text;             /* --format text, else JSON lines */
    bool exit_at_end;      /* stop once every partition's end is reached */
    long max;              /* stop after this many records; <= 0: no bound */
    long timeout_ms;       /* stop after this long without a record; <= 0: wait forever */
};

/** Prints the records of one topic, one JSON line each (proto/core/event_to_json.c), from
 *  every partition; joins no group and commits nothing. Stops on SIGINT/SIGTERM too. */
int admin_tail(const char *brokers, const char *prefix, const struct admin_tail_opts *o, struct shop_err *err);

/** Prints, per stream partition, the broker's end offset, the group's offset committed in
 *  PostgreSQL, and the lag; *total is the sum. quiet prints only the total. */
int admin_lag(const char *brokers, const char *prefix, const char *dsn, const char *group,
              const struct shop_role_desc *role, int quiet, int64_t *total, struct shop_err *err);

/* admin_group.c: a group's members and positions, for replay and rebuild. */
#define ADMIN_PARTS_MAX 4096

/** One partition of a role's topics: the broker's watermarks, the group's next offset in
 *  PostgreSQL (0 without a row) and where a command moves it. */
struct admin_part {
    char topic[256];
    int32_t partition;
    int64_t lo, hi, current, target;
};

struct admin_parts {
    int n;
    struct admin_part v[ADMIN_PARTS_MAX];
};

struct pg_conn;
typedef struct pg_conn PGconn;

/** The group's live members: *count, and "client@host, ..." in who (n bytes). */
int admin_group_members(struct rd_kafka_s *rk, const char *group, char *who, size_t n, int *count,
                        struct shop_err *err);
/** Every partition of role's topics (only only_topic unless NULL) with its watermarks and
 *  group's next offset (target = current). */
int admin_group_positions(struct rd_kafka_s *rk, PGconn *conn, const char *prefix, const struct shop_role_desc *role,
                          const char *only_topic, const char *group, struct admin_parts *ps, struct shop_err *err);
/** Sets group's committed Kafka offsets to each target (the group must have no members). */
int admin_kafka_set_offsets(struct rd_kafka_s *rk, const char *group, const struct admin_parts *ps,
                            struct shop_err *err);

/* admin_replay.c */
enum admin_replay_mode { ADMIN_REPLAY_EARLIEST, ADMIN_REPLAY_TIMESTAMP, ADMIN_REPLAY_BY };

struct admin_replay_opts {
    const char *brokers, *prefix, *dsn, *group;
    const struct shop_role_desc *role;
    const char *topic;                 /* only this topic of the role's; NULL: all */
    enum admin_replay_mode mode;
    int64_t value;                     /* the timestamp (ms) or N */
    int dry_run, force;
};

/** Rewinds o->group (docs/operations.md, "Replay, rebuild and backfill"). 0, 1 when it
 *  refused (printed why), or a negative shop_err code. */
int admin_replay(const struct admin_replay_opts *o, struct shop_err *err);

/* admin_rebuild.c */
struct admin_rebuild_opts {
    const char *brokers, *prefix, *dsn;
    const struct shop_read_model *model;
    const char *live_group;            /* the role's live group */
    const char *worker;                /* shopstream-worker to run; NULL: beside this binary, else PATH */
    int swap;
};

/** Rebuilds o->model beside the live tables; swaps with o->swap (docs/operations.md). 0, 1
 *  when it refused (printed why), or a negative shop_err code. */
int admin_rebuild(const struct admin_rebuild_opts *o, struct shop_err *err);

#endif

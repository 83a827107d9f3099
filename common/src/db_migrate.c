/* db_migrate.c: applies the embedded migrations of the backend's dialect in
 * version order, one transaction each, and refuses a newer schema. */
#include <stdio.h>
#include <string.h>

#include "db_int.h"
#include "velo/log.h"

int64_t
velo_db_schema_latest(const velo_db *db)
{
    int64_t latest = 0;
    size_t  i;

    for (i = 0; i < db_migrations_len; i++) {
        if (strcmp(db_migrations[i].dialect, db->ops->dialect) == 0 &&
            db_migrations[i].version > latest)
            latest = db_migrations[i].version;
    }
    return latest;
}

int
velo_db_schema_version(velo_db *db, int64_t *out)
{
    return db->ops->version(db, out);
}

static int
apply(velo_db *db, const struct db_migration *m)
{
    int rv;

    rv = velo_db_begin(db);
    if (rv == VELO_OK)
        rv = db->ops->exec(db, m->sql);
    if (rv == VELO_OK)
        rv = db->ops->record(db, m->version, m->name);
    if (rv == VELO_OK)
        rv = db->ops->commit(db); /* not counted as a batch */
    if (rv != VELO_OK)
        db->ops->rollback(db);
    db->in_tx = false;
    return rv;
}

int
velo_db_migrate(velo_db *db)
{
    int64_t have, latest = velo_db_schema_latest(db), next;
    size_t  i;
    char    why[128];
    int     rv;

    rv = db->ops->version(db, &have);
    if (rv != VELO_OK)
        return rv;
    if (have > latest) {
        snprintf(why, sizeof(why),
                 "database schema version %lld is newer than this binary's "
                 "%lld: upgrade velo-warehouse",
                 (long long)have, (long long)latest);
        velo_error("db.schema_newer", VELO_S("db", db->where),
                   VELO_I("have", have), VELO_I("latest", latest),
                   VELO_S("cause", why));
        return VELO_EINVAL;
    }
    /* Versions may skip numbers; apply each known one above `have`. */
    for (next = have + 1; next <= latest; next++) {
        for (i = 0; i < db_migrations_len; i++) {
            const struct db_migration *m = &db_migrations[i];

            if (m->version != next || strcmp(m->dialect, db->ops->dialect))
                continue;
            rv = apply(db, m);
            if (rv != VELO_OK)
                return rv;
            velo_info("db.migrated", VELO_S("db", db->where),
                      VELO_I("version", m->version), VELO_S("name", m->name));
        }
    }
    return VELO_OK;
}

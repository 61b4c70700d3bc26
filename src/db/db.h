/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db.h -- internal entry points of the database layer used by tests and tools.
 */
#ifndef ST_DB_DB_H
#define ST_DB_DB_H

#include "env/env.h"
#include "strata/strata.h"

/*
 * st_db_open_env --
 *     strata_open() over an explicit file layer (tests pass a fault-injecting env). The env must
 *     outlive the handle.
 */
int st_db_open_env(const char *path, const strata_options *opts, st_env *env, strata_db **out);

#endif

/*
 * fts_int.h - private to content/: the FTS5 extension API of a connection.
 */
#ifndef CONTENT_FTS_INT_H
#define CONTENT_FTS_INT_H

#include <sqlite3.h>


/* The fts5_api of db (SQLITE_ERROR if FTS5 is not compiled in). */
int content_fts5_api(sqlite3 *db, fts5_api **out);

#endif

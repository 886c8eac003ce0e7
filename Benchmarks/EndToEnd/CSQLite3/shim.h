// libsqlite3 (Debian's libsqlite3-dev), for the in-process SQLite reference of the end-to-end benchmark.
#include <sqlite3.h>

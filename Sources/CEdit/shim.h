// libedit's readline-compatible API for DqliteShellCore's LineEditor.
//
// Swift 6 rejects reading or writing libedit's mutable C globals (history_length, rl_* variables) as not
// concurrency-safe, so each global the Swift side needs is wrapped in a static inline accessor here.
#ifndef CEDIT_SHIM_H
#define CEDIT_SHIM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <editline/readline.h>

/// Number of entries in the history list.
static inline int cedit_history_length(void) { return history_length; }

/// Offset of the first history entry for history_get().
static inline int cedit_history_base(void) { return history_base; }

/// Sets the application name libedit uses for ~/.editrc conditionals (libedit keeps the pointer, so a
/// copy is made that lives as long as the process).
static inline void cedit_set_readline_name(const char *name) {
    char *copy = strdup(name);
    if (copy != NULL) rl_readline_name = copy;
}

/// Whether standard input is a terminal.
static inline int cedit_stdin_is_tty(void) { return isatty(STDIN_FILENO); }

#endif

// Linux system calls that Swift's Glibc module does not expose, behind
// static inline wrappers (GRDB's pattern for C APIs).
#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H

#include <fcntl.h>

// renameat2(2), Linux 3.15 / glibc 2.28; declared here because glibc
// declares it only under _GNU_SOURCE, which Swift's Glibc module is not
// built with.
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

/// Renames `from` to `to` only if `to` does not exist (RENAME_NOREPLACE).
static inline int clinux_rename_no_replace(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, 1u << 0);
}

/// Swaps `a` and `b` atomically; both must exist (RENAME_EXCHANGE).
static inline int clinux_rename_exchange(const char *a, const char *b) {
    return renameat2(AT_FDCWD, a, AT_FDCWD, b, 1u << 1);
}

#endif

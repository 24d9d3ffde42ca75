/*
 * err: an error a person can act on.
 *
 * Functions that can fail take a `struct err *` and return 0 on success, -1 on
 * failure (or a pointer / NULL). On failure they fill the err with an errno-style
 * code and a message naming the object, the field and the reason. The message is
 * truncated (never overflowed) at ERR_MSG_MAX-1 bytes.
 */
#ifndef MUSTER_BASE_ERR_H
#define MUSTER_BASE_ERR_H

#define ERR_MSG_MAX 200

struct err {
    int code;
    char msg[ERR_MSG_MAX];
};

/* Fills e (if not NULL) with code and the formatted message; returns -1. */
int errf(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to e's message, keeping its code; returns -1. */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets e to "no error". */
void err_clear(struct err *e);

#endif

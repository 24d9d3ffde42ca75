/*
 * csv: a strict, streaming reader for trace files.
 *
 * The simulator's inputs (the Alibaba openb node and pod lists, the Philly job
 * list) are CSV files of tens of thousands of rows. This reader walks them one
 * record at a time through a single line buffer: no allocation per record or
 * per field, so reading the 82k-row Philly trace costs a few milliseconds.
 *
 * It is strict on purpose. A trace that is silently misread skews every result
 * computed from it, so anything outside the dialect described in
 * docs/internals/csv.md is an error, never a guess: an unterminated quote, a
 * stray quote inside an unquoted field, a bare CR, a NUL byte, a record longer
 * than CSV_LINE_MAX bytes or wider than CSV_FIELDS_MAX fields, and a record
 * whose field count differs from the header's (or, without a header, from the
 * first record's). Errors read "PATH:LINE:COL (name): reason", where LINE is
 * the line the record starts on, COL the 1-based field number and name the
 * header's name for that column (omitted when no header was read, or when the
 * error concerns the whole record: "PATH:LINE: reason").
 *
 * Ownership: the caller embeds a struct csv_reader and owns it; csv_open()
 * allocates the buffers behind it and csv_close() frees them. Field pointers
 * point into the reader's line buffer and stay valid only until the next
 * csv_next() or csv_close(). Fields are NUL-terminated (a field can never hold
 * a NUL byte), so they may be used as C strings.
 *
 * After csv_next() fails the reader is spent: further calls return -1 with the
 * same error, and the only thing left to do is csv_close().
 */
#ifndef MUSTER_SIM_CSV_H
#define MUSTER_SIM_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/err.h"

/* Longest record accepted, in bytes as stored in the file, excluding its line
 * terminator. A record of quoted fields spanning several lines counts whole. */
#define CSV_LINE_MAX (64 * 1024)
/* Most fields accepted in one record. */
#define CSV_FIELDS_MAX 256

/* One decoded field: an offset into a buffer and a length (no NUL counted). */
struct csv__span {
    uint32_t off;
    uint32_t len;
};

/* All members are private to csv.c; they are in the header only so callers can
 * embed the reader. */
struct csv_reader {
    char *name; /* owned copy of the path or name, for messages */
    FILE *fp;   /* NULL for readers over memory */

    /* Input window: the whole buffer for csv_open_mem(), the I/O buffer for
     * files. */
    const char *src;
    size_t src_len, src_pos;
    char *iobuf; /* owned; NULL for readers over memory */
    bool eof;

    /* The current record, decoded: fields NUL-terminated in buf. */
    char *buf;                /* CSV_LINE_MAX and a few bytes */
    struct csv__span *fields; /* CSV_FIELDS_MAX entries */
    int nfields;
    size_t rec_bytes; /* raw bytes of the record consumed so far */
    long line;        /* line the current record starts on */
    long next_line;   /* line the next byte read belongs to */
    long nrecords;    /* records returned so far (the header included) */

    /* The header, if csv_read_header() was called: a private copy. */
    char *hdr_buf;
    struct csv__span *hdr_fields;
    int hdr_nfields;
    long hdr_line;

    int expect_nfields; /* 0 until the header or first record fixes it */

    bool failed;
    struct err fail; /* the error that spent the reader, repeated on later calls */
};

/* Opens the file at path for reading. On success the caller owns r and must
 * csv_close() it. On failure returns -1 with e naming the path and the reason,
 * and leaves r zeroed (csv_close() on it is harmless). */
int csv_open(struct csv_reader *r, const char *path, struct err *e);

/* Opens a reader over len bytes at buf, which the caller keeps alive and
 * unchanged until csv_close(). name stands for the path in messages (copied).
 * Cannot fail. */
void csv_open_mem(struct csv_reader *r, const char *name, const char *buf, size_t len);

/* Frees what the reader holds and closes its file. Accepts a zeroed reader. */
void csv_close(struct csv_reader *r);

/* Reads the next record. Returns 1 with the record available through the
 * accessors below, 0 at the end of the input, -1 with e filled on a syntax
 * error, a cap exceeded, a field count mismatch or an I/O error. Empty lines
 * between records are skipped (a single empty field is not a record). */
int csv_next(struct csv_reader *r, struct err *e);

/* Reads the first record as the header: its names become available to
 * csv_col() and appear in error messages, and its width becomes the width
 * every later record must have. Must come before any csv_next() (asserted). Fails on
 * an empty input, an empty column name or a duplicate one. */
int csv_read_header(struct csv_reader *r, struct err *e);

/* The index of the header column called name, or -1 if there is none (or no
 * header was read). */
int csv_col(const struct csv_reader *r, const char *name);

/* Looks up n header columns, storing their indices in idx_out[0..n-1]. Fails
 * with "PATH:LINE: missing column 'NAME'" for the first one absent. */
int csv_require_cols(const struct csv_reader *r, const char *const names[], size_t n, int idx_out[],
                     struct err *e);

/* Number of fields in the current record. */
int csv_nfields(const struct csv_reader *r);

/* Field i of the current record (NUL-terminated, pointing into the reader),
 * with its length in *len if len is not NULL. NULL if i is out of range. */
const char *csv_field(const struct csv_reader *r, int i, size_t *len);

/* The 1-based line the current record starts on. */
long csv_line(const struct csv_reader *r);

/* The path or name the reader was opened with. */
const char *csv_name(const struct csv_reader *r);

/* The header's name for column i, or NULL without a header or out of range. */
const char *csv_col_name(const struct csv_reader *r, int i);

/* Parses field i as a decimal integer (optional sign, digits, nothing else)
 * within [min, max] into *out. Fails with a message naming the file, line,
 * column and the offending text: "PATH:12:5 (gpu_milli): 'abc' is not an
 * integer", "... 1500 is out of range [0, 1000]". *out is untouched on failure. */
int csv_get_i64(const struct csv_reader *r, int i, int64_t min, int64_t max, int64_t *out,
                struct err *e);

/* Parses field i as a finite decimal number (strtod syntax without leading
 * space, hex, inf or nan) within [min, max] into *out. */
int csv_get_f64(const struct csv_reader *r, int i, double min, double max, double *out,
                struct err *e);

/* Gives field i as a string of min_len to max_len bytes: *out points into the
 * reader (valid until the next csv_next()), *len (if not NULL) is its length. */
int csv_get_str(const struct csv_reader *r, int i, size_t min_len, size_t max_len, const char **out,
                size_t *len, struct err *e);

/* Fills e with "PATH:LINE:COL (name): " followed by the formatted reason, for
 * checks the caller makes on the current record (i is the field, or -1 for the
 * whole record: "PATH:LINE: reason"). Returns -1. */
int csv_errf(const struct csv_reader *r, int i, struct err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif

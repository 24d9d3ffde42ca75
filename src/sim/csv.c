/*
 * csv: the reader's state machine and typed field helpers.
 *
 * Bytes come through a window (src, src_len, src_pos): the caller's buffer for
 * csv_open_mem(), a 64 KiB I/O buffer refilled with fread() for files. Each
 * record is decoded into one buffer of CSV_LINE_MAX + a few bytes, with a NUL
 * after each field, and described by an array of (offset, length) spans. The
 * decoded form is never longer than the raw one (quotes and doubled quotes only
 * shrink, each NUL replaces a separator), so capping the raw record caps the
 * buffer.
 */
#include "sim/csv.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define CSV__IOBUF_SIZE (64 * 1024)
/* Raw bytes a record may consume before it is certainly too long: the cap plus
 * a CRLF terminator. The exact check happens once the terminator is known. */
#define CSV__RAW_HARD_MAX (CSV_LINE_MAX + 2)
/* Decoded bytes: at most the raw bytes plus one NUL, with slack for the
 * terminator counted in CSV__RAW_HARD_MAX. */
#define CSV__BUF_SIZE (CSV__RAW_HARD_MAX + 2)

/* csv__getc() results besides a byte. */
#define CSV__EOF (-1)
#define CSV__ERR (-2)

/* How much of a field's text to quote in a message. */
#define CSV__SHOW_MAX 40

/* Formats "PATH:LINE[:COL [(name)]]: reason" into e. */
static int csv__vfmt(const struct csv_reader *r, int i, struct err *e, int code, const char *fmt,
                     va_list ap)
{
    char reason[ERR_MSG_MAX];
    vsnprintf(reason, sizeof reason, fmt, ap);
    if (i < 0)
        return errf(e, code, "%s:%ld: %s", r->name, r->line, reason);
    const char *name = csv_col_name(r, i);
    if (name)
        return errf(e, code, "%s:%ld:%d (%.48s): %s", r->name, r->line, i + 1, name, reason);
    return errf(e, code, "%s:%ld:%d: %s", r->name, r->line, i + 1, reason);
}

int csv_errf(const struct csv_reader *r, int i, struct err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    csv__vfmt(r, i, e, code, fmt, ap);
    va_end(ap);
    return -1;
}

/* Records a syntax, cap or I/O error in r->fail, spending the reader. */
__attribute__((format(printf, 4, 5))) static int csv__fail(struct csv_reader *r, int i, int code,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    csv__vfmt(r, i, &r->fail, code, fmt, ap);
    va_end(ap);
    r->failed = true;
    return -1;
}

/*
 * Copies up to CSV__SHOW_MAX bytes of s into out for quoting in a message,
 * replacing control bytes with '?' so a message stays one printable line, and
 * marking a cut with "...". A cut never splits a UTF-8 sequence.
 */
static const char *csv__show(const char *s, size_t len, char out[CSV__SHOW_MAX + 4])
{
    size_t n = len;
    bool cut = false;
    if (n > CSV__SHOW_MAX) {
        n = CSV__SHOW_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        cut = true;
    }
    for (size_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)s[k];
        out[k] = (ch < 0x20 || ch == 0x7F) ? '?' : (char)ch;
    }
    if (cut) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

static void csv__init_common(struct csv_reader *r, const char *name)
{
    memset(r, 0, sizeof *r);
    r->name = xstrdup(name);
    r->buf = xmalloc(CSV__BUF_SIZE);
    r->fields = xcalloc(CSV_FIELDS_MAX, sizeof r->fields[0]);
    r->next_line = 1;
}

/* Loads the next window of a file. Returns 1 with bytes available, 0 at end of
 * input, -1 on a read error (recorded in r->fail). */
static int csv__refill(struct csv_reader *r)
{
    if (!r->fp || r->eof)
        return 0;
    errno = 0;
    size_t n = fread(r->iobuf, 1, CSV__IOBUF_SIZE, r->fp);
    if (n == 0) {
        if (ferror(r->fp)) {
            int code = errno ? errno : EIO;
            r->failed = true;
            return errf(&r->fail, code, "%s: read: %s", r->name, strerror(code));
        }
        r->eof = true;
        return 0;
    }
    r->src = r->iobuf;
    r->src_len = n;
    r->src_pos = 0;
    return 1;
}

/* A UTF-8 byte order mark says nothing about the data; editors on some systems
 * add one, and keeping it would glue it to the first column's name. */
static void csv__skip_bom(struct csv_reader *r)
{
    if (r->src_len - r->src_pos >= 3 && memcmp(r->src + r->src_pos, "\xEF\xBB\xBF", 3) == 0)
        r->src_pos += 3;
}

int csv_open(struct csv_reader *r, const char *path, struct err *e)
{
    FILE *fp = fopen(path, "re");
    if (!fp) {
        int code = errno;
        memset(r, 0, sizeof *r);
        return errf(e, code, "%s: %s", path, strerror(code));
    }
    csv__init_common(r, path);
    r->fp = fp;
    r->iobuf = xmalloc(CSV__IOBUF_SIZE);
    /* Filling the first window now surfaces unreadable inputs (a directory,
     * say) as an open error, and lets the BOM check see the first bytes. */
    if (csv__refill(r) < 0) {
        if (e)
            *e = r->fail;
        csv_close(r);
        return -1;
    }
    csv__skip_bom(r);
    return 0;
}

void csv_open_mem(struct csv_reader *r, const char *name, const char *buf, size_t len)
{
    csv__init_common(r, name);
    r->src = buf;
    r->src_len = len;
    r->eof = true;
    csv__skip_bom(r);
}

void csv_close(struct csv_reader *r)
{
    if (r->fp)
        fclose(r->fp);
    free(r->name);
    free(r->iobuf);
    free(r->buf);
    free(r->fields);
    free(r->hdr_buf);
    free(r->hdr_fields);
    memset(r, 0, sizeof *r);
}

/* Consumes one byte of the current record. Returns it (0..255), CSV__EOF, or
 * CSV__ERR with r->fail set (a read error, or a record past the hard cap). */
static inline int csv__getc(struct csv_reader *r)
{
    if (r->src_pos == r->src_len) {
        int rc = csv__refill(r);
        if (rc <= 0)
            return rc == 0 ? CSV__EOF : CSV__ERR;
    }
    if (++r->rec_bytes > CSV__RAW_HARD_MAX) {
        csv__fail(r, -1, E2BIG, "record longer than %d bytes", CSV_LINE_MAX);
        return CSV__ERR;
    }
    return (unsigned char)r->src[r->src_pos++];
}

/* The next byte without consuming it, or CSV__EOF / CSV__ERR. */
static inline int csv__peek(struct csv_reader *r)
{
    if (r->src_pos == r->src_len) {
        int rc = csv__refill(r);
        if (rc <= 0)
            return rc == 0 ? CSV__EOF : CSV__ERR;
    }
    return (unsigned char)r->src[r->src_pos];
}

static inline bool csv__is_end(int c)
{
    return c == ',' || c == '\n' || c == '\r' || c == CSV__EOF;
}

/*
 * Reads one raw record into r->buf / r->fields. Returns 1, 0 at end of input,
 * or -1 with r->fail set. Does not check the field count against the header.
 */
static int csv__read_record(struct csv_reader *r)
{
    int c;

    /* Skip empty lines: they carry no record, and traces often end in one. */
    for (;;) {
        r->rec_bytes = 0;
        r->line = r->next_line;
        c = csv__getc(r);
        if (c == CSV__ERR)
            return -1;
        if (c == CSV__EOF)
            return 0;
        if (c == '\r') {
            c = csv__getc(r);
            if (c == CSV__ERR)
                return -1;
            if (c != '\n')
                return csv__fail(r, 0, EINVAL, "CR not followed by LF");
        }
        if (c != '\n')
            break;
        r->next_line++;
    }

    r->nfields = 0;
    size_t out = 0;
    for (;;) {
        /* Here c is the first byte of a field, or its end if it is empty. */
        int col = r->nfields;
        if (col == CSV_FIELDS_MAX)
            return csv__fail(r, -1, E2BIG, "more than %d fields", CSV_FIELDS_MAX);
        size_t start = out;
        if (c == '"') {
            for (;;) {
                c = csv__getc(r);
                if (c == CSV__ERR)
                    return -1;
                if (c == CSV__EOF)
                    return csv__fail(r, col, EINVAL, "unterminated quoted field");
                if (c == '"') {
                    int d = csv__peek(r);
                    if (d == CSV__ERR)
                        return -1;
                    if (d != '"')
                        break;
                    if (csv__getc(r) == CSV__ERR) /* the cap; the byte is in the window */
                        return -1;
                } else if (c == '\0') {
                    return csv__fail(r, col, EINVAL, "NUL byte in field");
                } else if (c == '\n') {
                    r->next_line++;
                }
                assert(out < CSV__BUF_SIZE);
                r->buf[out++] = (char)c;
            }
            c = csv__getc(r);
            if (c == CSV__ERR)
                return -1;
            if (!csv__is_end(c))
                return csv__fail(r, col, EINVAL, "text after the closing quote");
        } else {
            while (!csv__is_end(c)) {
                if (c == CSV__ERR)
                    return -1;
                if (c == '"')
                    return csv__fail(r, col, EINVAL,
                                     "quote in an unquoted field (quote the whole field and "
                                     "double the quote)");
                if (c == '\0')
                    return csv__fail(r, col, EINVAL, "NUL byte in field");
                assert(out < CSV__BUF_SIZE);
                r->buf[out++] = (char)c;
                c = csv__getc(r);
            }
        }
        assert(out < CSV__BUF_SIZE);
        r->buf[out++] = '\0';
        r->fields[col].off = (uint32_t)start;
        r->fields[col].len = (uint32_t)(out - 1 - start);
        r->nfields++;

        if (c == ',') {
            c = csv__getc(r);
            if (c == CSV__ERR)
                return -1;
            continue;
        }
        size_t term = 0;
        if (c == '\r') {
            c = csv__getc(r);
            if (c == CSV__ERR)
                return -1;
            if (c != '\n')
                return csv__fail(r, col, EINVAL, "CR not followed by LF");
            term = 2;
        } else if (c == '\n') {
            term = 1;
        }
        if (term)
            r->next_line++;
        if (r->rec_bytes - term > CSV_LINE_MAX)
            return csv__fail(r, -1, E2BIG, "record longer than %d bytes", CSV_LINE_MAX);
        return 1;
    }
}

int csv_next(struct csv_reader *r, struct err *e)
{
    if (r->failed) {
        if (e)
            *e = r->fail;
        return -1;
    }
    int rc = csv__read_record(r);
    if (rc == 1) {
        if (r->expect_nfields == 0) {
            r->expect_nfields = r->nfields;
        } else if (r->nfields != r->expect_nfields) {
            csv__fail(r, -1, EINVAL, "expected %d fields, found %d", r->expect_nfields, r->nfields);
            rc = -1;
        }
    }
    if (rc < 0) {
        if (e)
            *e = r->fail;
        return -1;
    }
    if (rc == 1)
        r->nrecords++;
    return rc;
}

int csv_read_header(struct csv_reader *r, struct err *e)
{
    assert(r->nrecords == 0 && "csv_read_header() must come before csv_next()");
    int rc = csv_next(r, e);
    if (rc < 0)
        return -1;
    /* A bad header spends the reader like a syntax error: records read
     * without a trustworthy header would be misread. */
    if (rc == 0) {
        errf(&r->fail, EINVAL, "%s: empty file, expected a header", r->name);
        r->failed = true;
        goto fail;
    }
    for (int i = 0; i < r->nfields; i++) {
        const char *name = r->buf + r->fields[i].off;
        if (r->fields[i].len == 0) {
            csv__fail(r, i, EINVAL, "empty column name");
            goto fail;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(name, r->buf + r->fields[j].off) == 0) {
                csv__fail(r, i, EINVAL, "duplicate column '%.48s' (also column %d)", name, j + 1);
                goto fail;
            }
        }
    }

    const struct csv__span *last = &r->fields[r->nfields - 1];
    size_t size = (size_t)last->off + last->len + 1;
    r->hdr_buf = xmalloc(size);
    memcpy(r->hdr_buf, r->buf, size);
    r->hdr_fields = xcalloc((size_t)r->nfields, sizeof r->hdr_fields[0]);
    memcpy(r->hdr_fields, r->fields, (size_t)r->nfields * sizeof r->fields[0]);
    r->hdr_nfields = r->nfields;
    r->hdr_line = r->line;
    return 0;

fail:
    if (e)
        *e = r->fail;
    return -1;
}

int csv_col(const struct csv_reader *r, const char *name)
{
    for (int i = 0; i < r->hdr_nfields; i++)
        if (strcmp(r->hdr_buf + r->hdr_fields[i].off, name) == 0)
            return i;
    return -1;
}

int csv_require_cols(const struct csv_reader *r, const char *const names[], size_t n, int idx_out[],
                     struct err *e)
{
    for (size_t k = 0; k < n; k++) {
        idx_out[k] = csv_col(r, names[k]);
        if (idx_out[k] < 0)
            return errf(e, EINVAL, "%s:%ld: missing column '%s'", r->name,
                        r->hdr_nfields ? r->hdr_line : 1L, names[k]);
    }
    return 0;
}

int csv_nfields(const struct csv_reader *r)
{
    return r->nfields;
}

const char *csv_field(const struct csv_reader *r, int i, size_t *len)
{
    if (i < 0 || i >= r->nfields) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = r->fields[i].len;
    return r->buf + r->fields[i].off;
}

long csv_line(const struct csv_reader *r)
{
    return r->line;
}

const char *csv_name(const struct csv_reader *r)
{
    return r->name;
}

const char *csv_col_name(const struct csv_reader *r, int i)
{
    if (i < 0 || i >= r->hdr_nfields)
        return NULL;
    return r->hdr_buf + r->hdr_fields[i].off;
}

/* Field i for the typed getters, or an error naming the missing column. */
static const char *csv__get(const struct csv_reader *r, int i, size_t *len, struct err *e)
{
    const char *s = csv_field(r, i, len);
    if (!s)
        csv_errf(r, i, e, EINVAL, "no such field (the record has %d)", r->nfields);
    return s;
}

int csv_get_i64(const struct csv_reader *r, int i, int64_t min, int64_t max, int64_t *out,
                struct err *e)
{
    size_t len;
    const char *s = csv__get(r, i, &len, e);
    if (!s)
        return -1;
    if (len == 0)
        return csv_errf(r, i, e, EINVAL, "empty field, expected an integer");

    char show[CSV__SHOW_MAX + 4];
    size_t k = 0;
    bool neg = false;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        k = 1;
    }
    if (k == len)
        return csv_errf(r, i, e, EINVAL, "'%s' is not an integer", csv__show(s, len, show));
    /* Accumulate the magnitude unsigned so INT64_MIN is representable; keep
     * scanning after an overflow so "99999999999999999999x" reads as "not an
     * integer" rather than "out of range". */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    bool overflow = false;
    for (; k < len; k++) {
        if (s[k] < '0' || s[k] > '9')
            return csv_errf(r, i, e, EINVAL, "'%s' is not an integer", csv__show(s, len, show));
        unsigned d = (unsigned)(s[k] - '0');
        if (acc > (limit - d) / 10)
            overflow = true;
        else
            acc = acc * 10 + d;
    }
    int64_t v = 0;
    if (!overflow)
        v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    if (overflow || v < min || v > max)
        return csv_errf(r, i, e, ERANGE, "%s is out of range [%lld, %lld]", csv__show(s, len, show),
                        (long long)min, (long long)max);
    *out = v;
    return 0;
}

int csv_get_f64(const struct csv_reader *r, int i, double min, double max, double *out,
                struct err *e)
{
    size_t len;
    const char *s = csv__get(r, i, &len, e);
    if (!s)
        return -1;
    if (len == 0)
        return csv_errf(r, i, e, EINVAL, "empty field, expected a number");

    char show[CSV__SHOW_MAX + 4];
    /* strtod() also takes leading space, hex, "inf" and "nan"; none of those
     * belongs in a trace, so only plain decimal characters get that far. */
    if (strspn(s, "0123456789+-.eE") != len)
        return csv_errf(r, i, e, EINVAL, "'%s' is not a number", csv__show(s, len, show));
    char *end;
    double v = strtod(s, &end);
    if (end != s + len)
        return csv_errf(r, i, e, EINVAL, "'%s' is not a number", csv__show(s, len, show));
    if (!isfinite(v) || v < min || v > max)
        return csv_errf(r, i, e, ERANGE, "%s is out of range [%g, %g]", csv__show(s, len, show),
                        min, max);
    *out = v;
    return 0;
}

int csv_get_str(const struct csv_reader *r, int i, size_t min_len, size_t max_len, const char **out,
                size_t *len, struct err *e)
{
    size_t n;
    const char *s = csv__get(r, i, &n, e);
    if (!s)
        return -1;
    if (n < min_len) {
        if (n == 0)
            return csv_errf(r, i, e, EINVAL, "empty field");
        char show[CSV__SHOW_MAX + 4];
        return csv_errf(r, i, e, EINVAL, "'%s' is shorter than %zu bytes", csv__show(s, n, show),
                        min_len);
    }
    if (n > max_len) {
        char show[CSV__SHOW_MAX + 4];
        return csv_errf(r, i, e, EINVAL, "'%s' is longer than %zu bytes", csv__show(s, n, show),
                        max_len);
    }
    *out = s;
    if (len)
        *len = n;
    return 0;
}

/* The record check of a new text log file (integrity.record_pattern), compiled: the same language as
 * that RE2 pattern, at over twice its speed (RE2 was a cold query's largest cost: README.md, Performance);
 * integrity.record_checker uses it when it was built (hatch_build.py) and RE2 otherwise;
 * tests/test_one_pass.py holds both to the same answers.
 *
 * A line is the format's fields, one space apart, then an optional carriage return and a newline.
 * A field is, by its kind in the spec:
 *   a number  (its bound's digits, e.g. "65535"): `-`, or 1 to len(bound) decimal digits (leading
 *             zeros allowed) whose value is at most the bound;
 *   'a'       an address: `-`, an IPv4 address (no leading zero in an octet), or an IPv6 address in
 *             RFC 5952 form with no two zero groups side by side outside the `::`, and not ::ffff:a:b;
 *   't'       text: one or more bytes, none a space, a control character or DEL (bytes >= 0x80 pass:
 *             UTF-8 is TextCheck's test).
 * The spec is the fields' kinds joined by commas (integrity._spec).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_FIELDS 256

enum { K_TEXT, K_ADDR, K_NUM };

typedef struct {
    int kind;
    const unsigned char *bound; /* K_NUM: the bound's digits (in the spec's buffer) */
    Py_ssize_t len;
} field_t;

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

static int ipv4_ok(const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    for (int octet = 0; octet < 4; octet++) {
        if (octet) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
        Py_ssize_t start = i;
        int value = 0;
        while (i < n && is_digit(s[i]) && i - start < 3)
            value = value * 10 + (s[i++] - '0');
        Py_ssize_t len = i - start;
        if (len == 0 || (len > 1 && s[start] == '0') || value > 255)
            return 0;
    }
    return i == n;
}

/* The groups of s[a, b), one colon apart (none when a == b): their number, whether each is 0, and
 * whether the first is ffff; 0 when one is not a group in canonical form ("0", or 1 to 4 lower-case
 * hex digits, the first not 0) or there are more than 8. */
static int groups_of(const unsigned char *s, Py_ssize_t a, Py_ssize_t b, int *count, int zero[8],
                     int *first_ffff)
{
    *count = 0;
    *first_ffff = 0;
    if (a == b)
        return 1;
    Py_ssize_t i = a;
    for (;;) {
        Py_ssize_t start = i;
        while (i < b && is_hex(s[i]) && i - start < 4)
            i++;
        Py_ssize_t len = i - start;
        if (len == 0 || (len > 1 && s[start] == '0') || *count == 8)
            return 0;
        if (*count == 0)
            *first_ffff = len == 4 && memcmp(s + start, "ffff", 4) == 0;
        zero[(*count)++] = s[start] == '0';
        if (i == b)
            return 1;
        if (s[i] != ':')
            return 0;
        i++;
        if (i == b)
            return 0; /* a colon at the end */
    }
}

static int no_two_zeros(const int zero[8], int count)
{
    for (int i = 1; i < count; i++)
        if (zero[i] && zero[i - 1])
            return 0;
    return 1;
}

static int ipv6_ok(const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t gap = -1;
    for (Py_ssize_t i = 0; i + 1 < n; i++)
        if (s[i] == ':' && s[i + 1] == ':') {
            gap = i;
            break;
        }
    int left, right, zl[8], zr[8], ffff, unused;
    if (gap < 0)
        return groups_of(s, 0, n, &left, zl, &unused) && left == 8 && no_two_zeros(zl, left);
    if (!groups_of(s, 0, gap, &left, zl, &unused) || !groups_of(s, gap + 2, n, &right, zr, &ffff))
        return 0; /* a third colon or a second `::` is no group */
    if (left + right > 6 || !no_two_zeros(zl, left) || !no_two_zeros(zr, right))
        return 0;
    if ((left && zl[left - 1]) || (right && zr[0])) /* the `::` would go on */
        return 0;
    return !(left == 0 && right == 3 && ffff); /* ::ffff:a:b is an IPv4 address */
}

/* Byte classes: a text field's bytes, an address's (its end is where its test starts), a digit. */
enum { C_TEXT = 1, C_ADDR = 2, C_DIGIT = 4 };
static unsigned char classes[256];

static void init_classes(void)
{
    for (int c = 0x21; c < 0x100; c++)
        if (c != 0x7f)
            classes[c] |= C_TEXT;
    for (const char *a = "0123456789abcdef:."; *a; a++)
        classes[(unsigned char)*a] |= C_ADDR;
    for (int c = '0'; c <= '9'; c++)
        classes[c] |= C_DIGIT;
}

/* Whether s[0, n) is whole lines of records. Every field's scan stops at the latest at the last
 * newline (no class holds it), so no scan reads past the data. */
static int lines_ok(const unsigned char *s, Py_ssize_t n, const field_t *fields, int count)
{
    if (n == 0)
        return 1;
    if (s[n - 1] != '\n')
        return 0;
    const unsigned char *p = s, *end = s + n;
    while (p < end) {
        for (int k = 0; k < count; k++) {
            const field_t *f = &fields[k];
            const unsigned char *start = p;
            if (*p == '-' && (p[1] == ' ' || p[1] == '\n' || p[1] == '\r') && f->kind != K_TEXT) {
                p++;
            } else if (f->kind == K_NUM) {
                while (classes[*p] & C_DIGIT)
                    p++;
                Py_ssize_t len = p - start;
                /* as many digits as the bound: their order is their value's */
                if (len == 0 || len > f->len || (len == f->len && memcmp(start, f->bound, (size_t)len) > 0))
                    return 0;
            } else if (f->kind == K_ADDR) {
                while (classes[*p] & C_ADDR)
                    p++;
                Py_ssize_t len = p - start;
                if (len == 0 || !(memchr(start, ':', (size_t)len) ? ipv6_ok(start, len) : ipv4_ok(start, len)))
                    return 0;
            } else {
                while (classes[*p] & C_TEXT)
                    p++;
                if (p == start)
                    return 0;
            }
            if (k + 1 < count) {
                if (*p++ != ' ')
                    return 0;
            } else {
                if (*p == '\r')
                    p++;
                if (*p++ != '\n')
                    return 0;
            }
        }
    }
    return 1;
}

static int parse_spec(const unsigned char *spec, Py_ssize_t n, field_t *fields)
{
    int count = 0;
    Py_ssize_t i = 0;
    while (i < n) {
        Py_ssize_t j = i;
        while (j < n && spec[j] != ',')
            j++;
        if (count == MAX_FIELDS || j == i)
            return -1;
        field_t *f = &fields[count++];
        f->bound = spec + i;
        f->len = j - i;
        if (f->len == 1 && spec[i] == 'a')
            f->kind = K_ADDR;
        else if (f->len == 1 && spec[i] == 't')
            f->kind = K_TEXT;
        else {
            f->kind = K_NUM;
            for (Py_ssize_t k = i; k < j; k++)
                if (!is_digit(spec[k]))
                    return -1;
        }
        i = j + 1;
    }
    return n && spec[n - 1] == ',' ? -1 : count;
}

PyDoc_STRVAR(fullmatch_doc,
"fullmatch(data, start, end, spec) -> bool\n\n"
"Whether data[start:end] is whole lines of records of the fields `spec` names (bytes: each field's\n"
"kind, comma-separated: a number's bound, 'a' an address, 't' text). The GIL is released.");

static PyObject *fullmatch(PyObject *self, PyObject *args)
{
    Py_buffer data, spec;
    Py_ssize_t start, end;
    field_t fields[MAX_FIELDS];
    if (!PyArg_ParseTuple(args, "y*nny*", &data, &start, &end, &spec))
        return NULL;
    int count = parse_spec(spec.buf, spec.len, fields);
    PyObject *result = NULL;
    if (count <= 0)
        PyErr_SetString(PyExc_ValueError, "a spec of one to 256 fields: bounds, 'a' or 't', comma-separated");
    else if (start < 0 || end < start || end > data.len)
        PyErr_SetString(PyExc_ValueError, "start and end must lie within the data, in order");
    else {
        int ok;
        Py_BEGIN_ALLOW_THREADS
        ok = lines_ok((const unsigned char *)data.buf + start, end - start, fields, count);
        Py_END_ALLOW_THREADS
        result = PyBool_FromLong(ok);
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&spec);
    return result;
}

static PyMethodDef methods[] = {
    {"fullmatch", fullmatch, METH_VARARGS, fullmatch_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_records", "The record check of integrity.record_pattern, compiled.", -1, methods,
};

PyMODINIT_FUNC PyInit__records(void)
{
    init_classes();
    return PyModule_Create(&module);
}

/* Rows of a table as JSON text, as Python's json module writes them: the canonical form of a result's
 * rows (canonical.py) and the tables of case.json (investigate/write.py).
 *
 * encode(rows, keys, key_sep, item_sep, prefix, between) -> bytes | None
 *
 * Each row is a dict holding exactly `keys` (given sorted, as sort_keys sorts them); it becomes
 * prefix + {"key"<key_sep>value<item_sep>...} and the rows are joined by `between`, in UTF-8. A value
 * is None, a bool, an int, a str, or a list or tuple of those: written as json.dumps(...,
 * ensure_ascii=False, separators=(item_sep, key_sep)) writes it. Anything else (a float, a dict, a
 * subclass, a row with other keys, text that is no UTF-8) returns None, and the caller encodes the
 * rows with the json module, which says what is wrong if anything is. Python's C encoder sorts every
 * row's items, makes a string of every key and number and joins them; here a table's keys are encoded
 * once and numbers written in place, in a fifth of its time (a busy /24's case has 70,000 rows).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buf;

static int grow(Buf *b, Py_ssize_t need) {
    if (b->len + need <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + need) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *data = PyMem_Realloc(b->data, (size_t)cap);
    if (!data) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static int put(Buf *b, const char *s, Py_ssize_t n) {
    if (n == 0)
        return 0;
    if (grow(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

/* The outcome of writing one value: written, not a value this encoder writes (the caller falls back
 * to the json module), or a Python error set. */
enum { OK = 0, UNSUPPORTED = 1, FAILED = -1 };

static const char HEX[] = "0123456789abcdef";

/* A str as json's encode_basestring (ensure_ascii=False) writes it: " and \ escaped, \b \f \n \r \t
 * by name, every other character below U+0020 as \u00xx, everything else as it is. */
static int put_text(Buf *b, PyObject *s) {
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) {  /* a lone surrogate: no UTF-8 (the json module's path says so) */
        PyErr_Clear();
        return UNSUPPORTED;
    }
    if (grow(b, n * 6 + 2) < 0)
        return FAILED;
    char *o = b->data + b->len;
    *o++ = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *o++ = (char)c;
            continue;
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u'; *o++ = '0'; *o++ = '0';
            *o++ = HEX[c >> 4]; *o++ = HEX[c & 15];
        }
    }
    *o++ = '"';
    b->len = o - b->data;
    return OK;
}

static int put_int(Buf *b, PyObject *v) {
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred())
        return FAILED;
    if (overflow) {  /* beyond 64 bits: Python's own decimal text */
        PyObject *text = PyObject_Str(v);
        if (!text)
            return FAILED;
        Py_ssize_t n;
        const char *u = PyUnicode_AsUTF8AndSize(text, &n);
        int r = u ? put(b, u, n) : FAILED;
        Py_DECREF(text);
        return r;
    }
    char digits[24];
    int i = sizeof digits;
    unsigned long long m = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
    do {
        digits[--i] = (char)('0' + m % 10);
        m /= 10;
    } while (m);
    if (x < 0)
        digits[--i] = '-';
    return put(b, digits + i, (Py_ssize_t)sizeof digits - i);
}

typedef struct {
    const char *key_sep, *item_sep;
    Py_ssize_t key_sep_len, item_sep_len;
} Seps;

static int put_value(Buf *b, PyObject *v, const Seps *s, int depth) {
    if (v == Py_None)
        return put(b, "null", 4);
    if (v == Py_True)
        return put(b, "true", 4);
    if (v == Py_False)
        return put(b, "false", 5);
    if (PyLong_CheckExact(v))
        return put_int(b, v);
    if (PyUnicode_CheckExact(v))
        return put_text(b, v);
    if ((PyList_CheckExact(v) || PyTuple_CheckExact(v)) && depth < 8) {
        PyObject *seq = PySequence_Fast(v, "");
        if (!seq)
            return FAILED;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        int r = put(b, "[", 1);
        for (Py_ssize_t i = 0; r == OK && i < n; i++) {
            if (i)
                r = put(b, s->item_sep, s->item_sep_len);
            if (r == OK)
                r = put_value(b, PySequence_Fast_GET_ITEM(seq, i), s, depth + 1);
        }
        if (r == OK)
            r = put(b, "]", 1);
        Py_DECREF(seq);
        return r;
    }
    return UNSUPPORTED;
}

static int utf8_arg(PyObject *o, const char **s, Py_ssize_t *n, const char *name) {
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str", name);
        return -1;
    }
    *s = PyUnicode_AsUTF8AndSize(o, n);
    return *s ? 0 : -1;
}

static PyObject *encode(PyObject *self, PyObject *args) {
    PyObject *rows, *keys, *key_sep, *item_sep, *prefix, *between;
    if (!PyArg_ParseTuple(args, "O!O!UUUU:encode", &PyList_Type, &rows, &PyTuple_Type, &keys, &key_sep, &item_sep,
                          &prefix, &between))
        return NULL;
    Seps seps;
    const char *pre, *bet;
    Py_ssize_t pre_len, bet_len;
    if (utf8_arg(key_sep, &seps.key_sep, &seps.key_sep_len, "key_sep") < 0 ||
        utf8_arg(item_sep, &seps.item_sep, &seps.item_sep_len, "item_sep") < 0 ||
        utf8_arg(prefix, &pre, &pre_len, "prefix") < 0 || utf8_arg(between, &bet, &bet_len, "between") < 0)
        return NULL;
    Py_ssize_t nkeys = PyTuple_GET_SIZE(keys);
    Buf heads = {0};  /* every key's `"key"<key_sep>` (the first's after "{", the others' after item_sep) */
    Buf out = {0};
    Py_ssize_t *ends = PyMem_Calloc((size_t)nkeys + 1, sizeof *ends);
    /* The last row's keys in its own order (held) and where each goes in `keys`: rows made alike (one
     * dict(zip(columns, row)) each) have the very same key objects in the same order, so a row's values
     * are put in place without one lookup. */
    PyObject **order = PyMem_Calloc((size_t)nkeys + 1, sizeof *order);
    Py_ssize_t *slot = PyMem_Calloc((size_t)nkeys + 1, sizeof *slot);
    PyObject **values = PyMem_Calloc((size_t)nkeys + 1, sizeof *values);
    PyObject *index = PyDict_New();  /* key -> its place in `keys` */
    int r = ends && order && slot && values && index ? OK : FAILED;
    if (r == FAILED && !PyErr_Occurred())
        PyErr_NoMemory();
    for (Py_ssize_t k = 0; r == OK && k < nkeys; k++) {
        PyObject *key = PyTuple_GET_ITEM(keys, k);
        /* keys as sort_keys orders them: exact str, ascending, no two alike */
        if (!PyUnicode_CheckExact(key) ||
            (k && PyUnicode_Compare(PyTuple_GET_ITEM(keys, k - 1), key) >= 0)) {
            r = UNSUPPORTED;
            break;
        }
        PyObject *at = PyLong_FromSsize_t(k);
        if (!at || PyDict_SetItem(index, key, at) < 0)
            r = FAILED;
        Py_XDECREF(at);
        if (r == OK)
            r = put_text(&heads, key);
        if (r == OK)
            r = put(&heads, seps.key_sep, seps.key_sep_len);
        ends[k + 1] = heads.len;
    }
    for (Py_ssize_t i = 0; r == OK && i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyDict_CheckExact(row) || PyDict_GET_SIZE(row) != nkeys) {
            r = UNSUPPORTED;
            break;
        }
        /* A row's own keys must be exact str: then finding one in `index` runs no Python code (no __eq__
         * of a subclass), and as many distinct keys, each in `keys`, are `keys`. */
        Py_ssize_t pos = 0, j = 0;
        PyObject *own, *v;
        while (r == OK && PyDict_Next(row, &pos, &own, &v)) {
            if (own != order[j]) {
                PyObject *at = PyUnicode_CheckExact(own) ? PyDict_GetItemWithError(index, own) : NULL;
                if (!at) {
                    r = PyErr_Occurred() ? FAILED : UNSUPPORTED;  /* no str, or a key not in `keys` */
                    break;
                }
                Py_INCREF(own);
                Py_XSETREF(order[j], own);
                slot[j] = PyLong_AsSsize_t(at);
            }
            values[slot[j++]] = v;  /* borrowed: nothing below runs Python code or changes the row */
        }
        if (r != OK)
            break;
        if (i)
            r = put(&out, bet, bet_len);
        if (r == OK)
            r = put(&out, pre, pre_len);
        if (r == OK)
            r = put(&out, "{", 1);
        for (Py_ssize_t k = 0; r == OK && k < nkeys; k++) {
            if (k)
                r = put(&out, seps.item_sep, seps.item_sep_len);
            if (r == OK)
                r = put(&out, heads.data + ends[k], ends[k + 1] - ends[k]);
            if (r == OK)
                r = put_value(&out, values[k], &seps, 0);
        }
        if (r == OK)
            r = put(&out, "}", 1);
    }
    PyObject *result = NULL;
    if (r == OK)
        result = PyBytes_FromStringAndSize(out.data ? out.data : "", out.len);
    else if (r == UNSUPPORTED) {
        result = Py_None;
        Py_INCREF(result);
    }
    if (order)
        for (Py_ssize_t k = 0; k < nkeys; k++)
            Py_XDECREF(order[k]);
    Py_XDECREF(index);
    PyMem_Free(out.data);
    PyMem_Free(heads.data);
    PyMem_Free(ends);
    PyMem_Free(order);
    PyMem_Free(slot);
    PyMem_Free(values);
    return result;
}

static PyMethodDef methods[] = {
    {"encode", encode, METH_VARARGS,
     "encode(rows, keys, key_sep, item_sep, prefix, between) -> bytes | None: rows (dicts of exactly `keys`, "
     "sorted) as JSON objects in UTF-8, each after `prefix`, joined by `between`; None for a value this "
     "encoder does not write (encode those rows with the json module)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_jsonrows", NULL, -1, methods};

PyMODINIT_FUNC PyInit__jsonrows(void) { return PyModule_Create(&module); }

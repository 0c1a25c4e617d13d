/* codelens native walker: source bytes -> the msgpack node arrays of an AST blob.
 *
 * The per-node loop of indexing (visit every node, read its kind and byte range, delta-encode,
 * pack) is the main cost of a cold index when it runs in Python (~45% of the parse time on
 * the benchmark corpus). Here it runs in C over TSTreeCursor, with the GIL released.
 *
 * It parses with its own copy of the tree-sitter core (indexer/vendor/tree-sitter, the core
 * of the py-tree-sitter release named below) and takes grammars as the TSLanguage pointer of
 * their packages' public language() capsule. It never makes, reads or hands back a
 * py-tree-sitter object: parse() returns bytes, ints and strings. The package build compiles
 * it as an optional setuptools extension (pyproject.toml); indexer/parse/library.py uses it
 * only beside the py-tree-sitter release whose core it carries, else codelens parses on its
 * Python path, which gives the same index.
 *
 * Output (see indexer/codec.py): msgpack(kinds) msgpack(start deltas) msgpack(lengths)
 * msgpack(depth deltas), each a msgpack array of integers encoded exactly as msgpack-python
 * encodes them, so a blob is byte-for-byte what the Python path makes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <errno.h>

#include "tree_sitter/api.h"

/* the py-tree-sitter release whose core is vendored in indexer/vendor/tree-sitter: the
 * walker runs only beside that release, so both paths parse with the same core code */
#define CODELENS_TS_VERSION "0.26.1"

typedef struct {
    unsigned char *data;
    size_t len;
    size_t cap;
} Buf;

static int buf_reserve(Buf *buf, size_t extra) {
    if (buf->len + extra <= buf->cap) return 0;
    size_t cap = buf->cap ? buf->cap : 4096;
    while (cap < buf->len + extra) cap *= 2;
    unsigned char *data = realloc(buf->data, cap);
    if (!data) return -1;
    buf->data = data;
    buf->cap = cap;
    return 0;
}

/* msgpack-python's encoding of an int: the shortest form, unsigned types for >= 0 */
static inline size_t pack_int(unsigned char *out, int64_t v) {
    if (v >= 0) {
        uint64_t u = (uint64_t)v;
        if (u < 128) { out[0] = (unsigned char)u; return 1; }
        if (u < 256) { out[0] = 0xcc; out[1] = (unsigned char)u; return 2; }
        if (u < 65536) {
            out[0] = 0xcd; out[1] = (unsigned char)(u >> 8); out[2] = (unsigned char)u;
            return 3;
        }
        if (u < 4294967296ULL) {
            out[0] = 0xce;
            for (int i = 0; i < 4; i++) out[1 + i] = (unsigned char)(u >> (24 - 8 * i));
            return 5;
        }
        out[0] = 0xcf;
        for (int i = 0; i < 8; i++) out[1 + i] = (unsigned char)(u >> (56 - 8 * i));
        return 9;
    }
    if (v >= -32) { out[0] = (unsigned char)(0xe0 | (v + 32)); return 1; }
    if (v >= -128) { out[0] = 0xd0; out[1] = (unsigned char)(int8_t)v; return 2; }
    if (v >= -32768) {
        uint16_t u = (uint16_t)(int16_t)v;
        out[0] = 0xd1; out[1] = (unsigned char)(u >> 8); out[2] = (unsigned char)u;
        return 3;
    }
    if (v >= INT32_MIN) {
        uint32_t u = (uint32_t)(int32_t)v;
        out[0] = 0xd2;
        for (int i = 0; i < 4; i++) out[1 + i] = (unsigned char)(u >> (24 - 8 * i));
        return 5;
    }
    uint64_t u = (uint64_t)v;
    out[0] = 0xd3;
    for (int i = 0; i < 8; i++) out[1 + i] = (unsigned char)(u >> (56 - 8 * i));
    return 9;
}

static inline int put(Buf *buf, int64_t v) {
    if (buf->len + 9 > buf->cap && buf_reserve(buf, 9) < 0) return -1;
    buf->len += pack_int(buf->data + buf->len, v);
    return 0;
}

static size_t pack_array_header(unsigned char *out, size_t count) {
    if (count < 16) { out[0] = (unsigned char)(0x90 | count); return 1; }
    if (count < 65536) {
        out[0] = 0xdc; out[1] = (unsigned char)(count >> 8); out[2] = (unsigned char)count;
        return 3;
    }
    out[0] = 0xdd;
    for (int i = 0; i < 4; i++) out[1 + i] = (unsigned char)(count >> (24 - 8 * i));
    return 5;
}


/* ---- definitions: simple tags.scm patterns matched during the walk ----
 * indexer/parse/tags.py compiles a grammar's definition patterns into node specs
 * (type, capture, field, children); compile_tags() turns them into PNode trees. A pattern
 * matches at a node whose type is its root type; each child spec must match some child
 * (under its field, if it has one), and the captures of a full match give one definition.
 * The matcher recurses over the pattern, whose depth is a few levels, never over the tree. */

enum { ANY = -1, ANY_NAMED = -2, CAPTURE_NAME = 1, CAPTURE_DEFINITION = 2 };

typedef struct PNode {
    int32_t type;
    uint8_t capture;
    uint16_t field;
    uint32_t child_count;
    struct PNode *children;
} PNode;

typedef struct {
    uint32_t pattern_count;
    PNode *roots;
    uint8_t is_root[65536];  /* 1 where some pattern's root type is this symbol */
    int any_root;
} Plan;

static void pnode_free(PNode *node) {
    for (uint32_t i = 0; i < node->child_count; i++) pnode_free(&node->children[i]);
    free(node->children);
}

static void plan_free(PyObject *capsule) {
    Plan *plan = PyCapsule_GetPointer(capsule, "codelens.tags_plan");
    if (!plan) return;
    for (uint32_t i = 0; i < plan->pattern_count; i++) pnode_free(&plan->roots[i]);
    free(plan->roots);
    free(plan);
}

static int pnode_read(PyObject *spec, PNode *out, int depth) {
    PyObject *children;
    int type, capture, field;
    if (depth > 32) {
        PyErr_SetString(PyExc_ValueError, "tags pattern nested too deep");
        return -1;
    }
    if (!PyArg_ParseTuple(spec, "iiiO!", &type, &capture, &field, &PyTuple_Type, &children))
        return -1;
    out->type = type;
    out->capture = (uint8_t)capture;
    out->field = (uint16_t)field;
    out->child_count = (uint32_t)PyTuple_GET_SIZE(children);
    out->children = out->child_count ? calloc(out->child_count, sizeof(PNode)) : NULL;
    if (out->child_count && !out->children) {
        PyErr_NoMemory();
        return -1;
    }
    for (uint32_t i = 0; i < out->child_count; i++) {
        if (pnode_read(PyTuple_GET_ITEM(children, i), &out->children[i], depth + 1) < 0)
            return -1;
    }
    return 0;
}

PyDoc_STRVAR(compile_tags_doc,
"compile_tags(specs: tuple) -> capsule\n\n"
"A matcher for the definition patterns indexer/parse/tags.py compiled, for parse().");

static PyObject *compile_tags(PyObject *module, PyObject *specs) {
    (void)module;
    if (!PyTuple_Check(specs)) {
        PyErr_SetString(PyExc_TypeError, "compile_tags() takes a tuple of specs");
        return NULL;
    }
    Plan *plan = calloc(1, sizeof(Plan));
    if (!plan) return PyErr_NoMemory();
    plan->pattern_count = (uint32_t)PyTuple_GET_SIZE(specs);
    plan->roots = calloc(plan->pattern_count ? plan->pattern_count : 1, sizeof(PNode));
    if (!plan->roots) {
        free(plan);
        return PyErr_NoMemory();
    }
    PyObject *capsule = PyCapsule_New(plan, "codelens.tags_plan", plan_free);
    if (!capsule) {
        free(plan->roots);
        free(plan);
        return NULL;
    }
    for (uint32_t i = 0; i < plan->pattern_count; i++) {
        if (pnode_read(PyTuple_GET_ITEM(specs, i), &plan->roots[i], 0) < 0) {
            Py_DECREF(capsule);
            return NULL;
        }
        int32_t type = plan->roots[i].type;
        if (type < 0) plan->any_root = 1;
        else if (type < 65536) plan->is_root[type] = 1;
    }
    return capsule;
}

typedef struct {
    uint32_t name_start, name_end, row_start, row_end;
    int has_name, has_definition;
} Binding;

typedef struct Continuation {
    TSNode node;
    const PNode *spec;
    uint32_t next_child;
    const struct Continuation *then;
} Continuation;

typedef struct {
    uint32_t *data;  /* 5 per match: pattern, name start, name end, first row, last row */
    size_t len, cap;
    uint32_t pattern;
    int failed;
} Matches;

static void emit(Matches *out, const Binding *b) {
    if (!b->has_name || !b->has_definition) return;
    if (out->len + 5 > out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 320;
        uint32_t *data = realloc(out->data, cap * sizeof(uint32_t));
        if (!data) {
            out->failed = 1;
            return;
        }
        out->data = data;
        out->cap = cap;
    }
    uint32_t *at = out->data + out->len;
    at[0] = out->pattern;
    at[1] = b->name_start;
    at[2] = b->name_end;
    at[3] = b->row_start;
    at[4] = b->row_end;
    out->len += 5;
}

static void match_node(TSNode node, const PNode *spec, Binding b, const Continuation *then,
                       Matches *out);

/* The remaining child specs of then->spec, then whatever follows it. */
static void match_rest(Binding b, const Continuation *then, Matches *out) {
    if (!then) {
        emit(out, &b);
        return;
    }
    if (then->next_child == then->spec->child_count) {
        match_rest(b, then->then, out);
        return;
    }
    const PNode *child_spec = &then->spec->children[then->next_child];
    Continuation after = {then->node, then->spec, then->next_child + 1, then->then};
    TSTreeCursor cursor = ts_tree_cursor_new(then->node);
    if (ts_tree_cursor_goto_first_child(&cursor)) {
        do {
            if (child_spec->field && ts_tree_cursor_current_field_id(&cursor) != child_spec->field)
                continue;
            match_node(ts_tree_cursor_current_node(&cursor), child_spec, b, &after, out);
        } while (ts_tree_cursor_goto_next_sibling(&cursor));
    }
    ts_tree_cursor_delete(&cursor);
}

static void match_node(TSNode node, const PNode *spec, Binding b, const Continuation *then,
                       Matches *out) {
    if (spec->type >= 0 && ts_node_symbol(node) != (TSSymbol)spec->type) return;
    if (spec->type == ANY_NAMED && !ts_node_is_named(node)) return;
    if (spec->capture == CAPTURE_NAME) {
        b.name_start = ts_node_start_byte(node);
        b.name_end = ts_node_end_byte(node);
        b.has_name = 1;
    } else if (spec->capture == CAPTURE_DEFINITION) {
        b.row_start = ts_node_start_point(node).row;
        b.row_end = ts_node_end_point(node).row;
        b.has_definition = 1;
    }
    Continuation here = {node, spec, 0, then};
    match_rest(b, &here, out);
}

static void match_definitions(const Plan *plan, TSNode node, TSSymbol kind, Matches *out) {
    for (uint32_t i = 0; i < plan->pattern_count; i++) {
        int32_t type = plan->roots[i].type;
        if (type >= 0 && type != (int32_t)kind) continue;
        Binding empty = {0};
        out->pattern = i;
        match_node(node, &plan->roots[i], empty, NULL, out);
    }
}

/* Preorder walk of the whole tree, as indexer/parse/library.py's Python walk does it. */
static int walk(TSTree *tree, Buf arrays[5], uint8_t *seen, uint8_t *seen_fields,
                size_t *count, const Plan *plan, Matches *matches) {
    TSTreeCursor cursor = ts_tree_cursor_new(ts_tree_root_node(tree));
    int64_t previous_start = 0, step = 0;
    size_t n = 0;
    int failed = 0;
    for (;;) {
        TSNode node = ts_tree_cursor_current_node(&cursor);
        TSSymbol kind = ts_node_symbol(node);
        int64_t start = ts_node_start_byte(node), end = ts_node_end_byte(node);
        TSFieldId field = ts_tree_cursor_current_field_id(&cursor);
        if (put(&arrays[0], kind) || put(&arrays[1], start - previous_start) ||
            put(&arrays[2], end - start) || put(&arrays[3], step) || put(&arrays[4], field)) {
            failed = 1;
            break;
        }
        seen[kind >> 3] |= (uint8_t)(1u << (kind & 7));
        seen_fields[field >> 3] |= (uint8_t)(1u << (field & 7));
        if (plan && (plan->any_root || plan->is_root[kind])) {
            match_definitions(plan, node, kind, matches);
            if (matches->failed) {
                failed = 1;
                break;
            }
        }
        previous_start = start;
        n++;
        if (ts_tree_cursor_goto_first_child(&cursor)) {
            step = 1;
            continue;
        }
        step = 0;
        while (!ts_tree_cursor_goto_next_sibling(&cursor)) {
            if (!ts_tree_cursor_goto_parent(&cursor)) goto done;
            step -= 1;
        }
    }
done:
    ts_tree_cursor_delete(&cursor);
    *count = n;
    return failed ? -1 : 0;
}

/* The ids whose bit is set in a 65536-bit map, ascending. */
static PyObject *ids_in(const uint8_t *bits) {
    PyObject *ids = PyList_New(0);
    if (!ids) return NULL;
    for (uint32_t k = 0; k < 65536; k++) {
        if (!(bits[k >> 3] & (1u << (k & 7)))) continue;
        PyObject *value = PyLong_FromUnsignedLong(k);
        if (!value || PyList_Append(ids, value) < 0) {
            Py_XDECREF(value);
            Py_DECREF(ids);
            return NULL;
        }
        Py_DECREF(value);
    }
    return ids;
}

/* ---- tags queries the plan cannot model, run by this core's query engine ----
 * A grammar's definition patterns (the others disabled, as indexer/parse/library.py does for
 * py-tree-sitter's query) give what its QueryCursor.matches gives: per match, the first
 * @name capture and the first node of each @definition.* capture. Text predicates (#eq?,
 * #match?, #any-of? and their variants) are refused: the caller parses that language on its
 * Python path instead, so symbols never depend on the path. */

typedef struct {
    TSQuery *query;
    uint32_t name_id;  /* the capture id of @name, or UINT32_MAX without one */
    uint8_t *is_definition;  /* per capture id: 1 for @definition.* */
} TagsQuery;

static void tags_query_free(PyObject *capsule) {
    TagsQuery *tags = PyCapsule_GetPointer(capsule, "codelens.tags_query");
    if (!tags) return;
    if (tags->query) ts_query_delete(tags->query);
    free(tags->is_definition);
    free(tags);
}

static const TSLanguage *language_of(PyObject *capsule) {
    /* the grammar packages' public language() capsule (see indexer/languages.py) */
    return PyCapsule_GetPointer(capsule, "tree_sitter.Language");
}

static int filters_text(const TSQuery *query, uint32_t pattern) {
    uint32_t steps;
    const TSQueryPredicateStep *step = ts_query_predicates_for_pattern(query, pattern, &steps);
    static const char *filters[] = {"eq?", "not-eq?", "any-eq?", "any-not-eq?", "match?",
                                    "not-match?", "any-match?", "any-not-match?", "any-of?",
                                    "not-any-of?"};
    int first = 1;
    for (uint32_t i = 0; i < steps; i++, step++) {
        if (step->type == TSQueryPredicateStepTypeDone) {
            first = 1;
            continue;
        }
        if (first && step->type == TSQueryPredicateStepTypeString) {
            uint32_t length;
            const char *name = ts_query_string_value_for_id(query, step->value_id, &length);
            for (size_t f = 0; f < sizeof filters / sizeof *filters; f++)
                if (strlen(filters[f]) == length && memcmp(filters[f], name, length) == 0)
                    return 1;
        }
        first = 0;
    }
    return 0;
}

PyDoc_STRVAR(compile_query_doc,
"compile_query(language: capsule, source: bytes) -> (capsule, capture_names: tuple[str])\n\n"
"A grammar's tags query with only its definition patterns enabled, for parse(). Raises\n"
"ValueError when it does not compile, NotImplementedError when a definition pattern has a\n"
"text predicate (#eq?, #match?, #any-of? and their variants).");

static PyObject *compile_query(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *language_obj;
    const char *text;
    Py_ssize_t text_len;
    if (!PyArg_ParseTuple(args, "Oy#", &language_obj, &text, &text_len)) return NULL;
    const TSLanguage *language = language_of(language_obj);
    if (!language) return NULL;
    uint32_t error_offset;
    TSQueryError error_type;
    TSQuery *query = ts_query_new(language, text, (uint32_t)text_len, &error_offset, &error_type);
    if (!query) {
        PyErr_Format(PyExc_ValueError, "the query does not compile (error %d at byte %u)",
                     (int)error_type, error_offset);
        return NULL;
    }
    TagsQuery *tags = calloc(1, sizeof(TagsQuery));
    uint32_t captures = ts_query_capture_count(query);
    if (tags) tags->is_definition = calloc(captures ? captures : 1, 1);
    if (!tags || !tags->is_definition) {
        free(tags);
        ts_query_delete(query);
        return PyErr_NoMemory();
    }
    tags->query = query;
    PyObject *capsule = PyCapsule_New(tags, "codelens.tags_query", tags_query_free);
    if (!capsule) {
        free(tags->is_definition);
        free(tags);
        ts_query_delete(query);
        return NULL;
    }
    for (uint32_t p = 0; p < ts_query_pattern_count(query); p++) {
        uint32_t start = ts_query_start_byte_for_pattern(query, p);
        uint32_t end = ts_query_end_byte_for_pattern(query, p);
        const char *found = NULL;
        for (uint32_t at = start; !found && at + 12 <= end; at++)
            if (memcmp(text + at, "@definition.", 12) == 0) found = text + at;
        if (!found) ts_query_disable_pattern(query, p);  /* references are not stored */
        else if (filters_text(query, p)) {
            Py_DECREF(capsule);
            PyErr_SetString(PyExc_NotImplementedError,
                            "a definition pattern has a text predicate");
            return NULL;
        }
    }
    tags->name_id = UINT32_MAX;
    PyObject *names = PyTuple_New(captures);
    if (!names) {
        Py_DECREF(capsule);
        return NULL;
    }
    for (uint32_t c = 0; c < captures; c++) {
        uint32_t length;
        const char *name = ts_query_capture_name_for_id(query, c, &length);
        if (length == 4 && memcmp(name, "name", 4) == 0) tags->name_id = c;
        tags->is_definition[c] = length > 11 && memcmp(name, "definition.", 11) == 0;
        PyObject *item = PyUnicode_FromStringAndSize(name, length);
        if (!item) {
            Py_DECREF(names);
            Py_DECREF(capsule);
            return NULL;
        }
        PyTuple_SET_ITEM(names, c, item);
    }
    PyObject *result = PyTuple_Pack(2, capsule, names);
    Py_DECREF(capsule);
    Py_DECREF(names);
    return result;
}

/* Every match of the query under root, as (capture id, name start, name end, first row,
 * last row) per definition capture: what indexer/parse/library.py's definitions() reads. */
static int query_definitions(const TagsQuery *tags, TSNode root, Matches *out) {
    TSQueryCursor *cursor = ts_query_cursor_new();
    if (!cursor) return -1;
    ts_query_cursor_exec(cursor, tags->query, root);
    TSQueryMatch match;
    while (!out->failed && ts_query_cursor_next_match(cursor, &match)) {
        const TSQueryCapture *name = NULL;
        for (uint16_t i = 0; i < match.capture_count && !name; i++)
            if (match.captures[i].index == tags->name_id) name = &match.captures[i];
        if (!name) continue;
        for (uint16_t i = 0; i < match.capture_count; i++) {
            uint32_t id = match.captures[i].index;
            int first = tags->is_definition[id];
            for (uint16_t j = 0; j < i && first; j++)
                if (match.captures[j].index == id) first = 0;
            if (!first) continue;
            TSNode node = match.captures[i].node;
            Binding b = {ts_node_start_byte(name->node), ts_node_end_byte(name->node),
                         ts_node_start_point(node).row, ts_node_end_point(node).row, 1, 1};
            out->pattern = id;
            emit(out, &b);
        }
    }
    ts_query_cursor_delete(cursor);
    return out->failed ? -1 : 0;
}

/* What indexer/parse/library.py's Python path reports for a tree with an error: the first
 * ERROR or MISSING node in preorder, descending only into subtrees that have one. */
static void first_error(TSNode root, char *out, size_t size) {
    TSTreeCursor cursor = ts_tree_cursor_new(root);
    snprintf(out, size, "syntax error");
    for (;;) {
        TSNode node = ts_tree_cursor_current_node(&cursor);
        if (ts_node_is_error(node) || ts_node_is_missing(node)) {
            unsigned line = ts_node_start_point(node).row + 1;
            if (ts_node_is_missing(node))
                snprintf(out, size, "missing %s at line %u", ts_node_type(node), line);
            else
                snprintf(out, size, "syntax error at line %u", line);
            break;
        }
        if (ts_node_has_error(node) && ts_tree_cursor_goto_first_child(&cursor)) continue;
        int moved = 0;
        while (!(moved = ts_tree_cursor_goto_next_sibling(&cursor)))
            if (!ts_tree_cursor_goto_parent(&cursor)) break;
        if (!moved) break;
    }
    ts_tree_cursor_delete(&cursor);
}

/* ---- parsing: this module's own tree-sitter core, with a deadline checked in C ----
 * The grammar comes from its package's public language() capsule; the tree never leaves
 * this file: one call parses, walks, matches the definitions and finds the first error,
 * without the GIL, and returns plain bytes, ints and strings. */

static void parser_free(PyObject *capsule) {
    TSParser *parser = PyCapsule_GetPointer(capsule, "codelens.parser");
    if (parser) ts_parser_delete(parser);
}

PyDoc_STRVAR(new_parser_doc,
"new_parser(language: capsule) -> capsule\n\n"
"A tree-sitter parser for the grammar of a language() capsule (named tree_sitter.Language),\n"
"for parse(). Raises ValueError for an ABI version this core does not take.");

static PyObject *new_parser(PyObject *module, PyObject *language_obj) {
    (void)module;
    const TSLanguage *language = language_of(language_obj);
    if (!language) return NULL;
    TSParser *parser = ts_parser_new();
    if (!parser) return PyErr_NoMemory();
    if (!ts_parser_set_language(parser, language)) {
        ts_parser_delete(parser);
        PyErr_SetString(PyExc_ValueError, "this grammar's ABI version is not supported");
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(parser, "codelens.parser", parser_free);
    if (!capsule) ts_parser_delete(parser);
    return capsule;
}

typedef struct {
    const char *text;
    uint32_t length;
} Source;

static const char *read_source(void *payload, uint32_t offset, TSPoint point,
                               uint32_t *bytes_read) {
    (void)point;
    const Source *source = payload;
    if (offset >= source->length) {
        *bytes_read = 0;
        return "";
    }
    *bytes_read = source->length - offset;
    return source->text + offset;
}

static double monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static bool past_deadline(TSParseState *state) {
    return monotonic_seconds() > *(const double *)state->payload;
}

typedef struct {
    Buf arrays[5];
    Matches matches;
    uint8_t *seen, *seen_fields;
    size_t count;
    int has_error;
    char error[256];
} Packed;

static void packed_free(Packed *packed) {
    for (int i = 0; i < 5; i++) free(packed->arrays[i].data);
    free(packed->matches.data);
    free(packed->seen);
    free(packed->seen_fields);
}

/* The walk, the definitions and the first error of a tree (no GIL needed). */
static int pack(TSTree *tree, const Plan *plan, const TagsQuery *tags, Packed *out) {
    out->seen = calloc(65536 / 8, 1);
    out->seen_fields = calloc(65536 / 8, 1);
    if (!out->seen || !out->seen_fields) return -1;
    if (walk(tree, out->arrays, out->seen, out->seen_fields, &out->count, plan,
             &out->matches) < 0)
        return -1;
    TSNode root = ts_tree_root_node(tree);
    if (!plan && tags && query_definitions(tags, root, &out->matches) < 0) return -1;
    out->has_error = ts_node_has_error(root);
    if (out->has_error) first_error(root, out->error, sizeof out->error);
    return 0;
}

static PyObject *packed_result(const Packed *packed) {
    PyObject *result = NULL, *arrays = NULL, *kinds = NULL, *fields = NULL, *found = NULL;
    size_t total = 0;
    for (int i = 0; i < 5; i++) total += 5 + packed->arrays[i].len;
    arrays = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (!arrays) goto out;
    unsigned char *start = (unsigned char *)PyBytes_AS_STRING(arrays), *at = start;
    for (int i = 0; i < 5; i++) {
        at += pack_array_header(at, packed->count);
        if (packed->arrays[i].len) memcpy(at, packed->arrays[i].data, packed->arrays[i].len);
        at += packed->arrays[i].len;
    }
    if (_PyBytes_Resize(&arrays, (Py_ssize_t)(at - start)) < 0) goto out;
    kinds = ids_in(packed->seen);
    fields = ids_in(packed->seen_fields);
    found = PyList_New((Py_ssize_t)(packed->matches.len / 5));
    if (!kinds || !fields || !found) goto out;
    for (size_t i = 0; i < packed->matches.len / 5; i++) {
        const uint32_t *m = packed->matches.data + 5 * i;
        PyObject *item = Py_BuildValue("(IIIII)", m[0], m[1], m[2], m[3], m[4]);
        if (!item) goto out;
        PyList_SET_ITEM(found, (Py_ssize_t)i, item);
    }
    if (packed->has_error)
        result = Py_BuildValue("(OnOOOs)", arrays, (Py_ssize_t)packed->count, kinds, fields,
                               found, packed->error);
    else
        result = Py_BuildValue("(OnOOOO)", arrays, (Py_ssize_t)packed->count, kinds, fields,
                               found, Py_None);
out:
    Py_XDECREF(arrays);
    Py_XDECREF(kinds);
    Py_XDECREF(fields);
    Py_XDECREF(found);
    return result;
}

PyDoc_STRVAR(parse_doc,
"parse(parser, source: bytes, timeout: float, plan=None, query=None)\n"
"    -> (arrays: bytes, node_count: int, kinds: list[int], fields: list[int], found,\n"
"        error: str | None) | None\n\n"
"Parse source with a parser from new_parser() for at most timeout seconds (None when the\n"
"deadline passed) and pack the tree: the five msgpack node arrays (kinds, start deltas,\n"
"lengths, depth deltas, field ids, in preorder), the distinct kind ids and field ids that\n"
"occur (field 0, no field, included), the definitions (with a plan from compile_tags(), a\n"
"list of (pattern, name start byte, name end byte, first row, last row) in preorder of the\n"
"node each pattern starts at; else with a query from compile_query(), the same with the\n"
"definition capture id first, in match order), and the first syntax error's message.");

static PyObject *parse(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *capsule, *source_obj, *plan_obj = Py_None, *query_obj = Py_None;
    double timeout;
    if (!PyArg_ParseTuple(args, "OSd|OO", &capsule, &source_obj, &timeout, &plan_obj,
                          &query_obj))
        return NULL;
    TSParser *parser = PyCapsule_GetPointer(capsule, "codelens.parser");
    if (!parser) return NULL;
    const Plan *plan = NULL;
    const TagsQuery *tags = NULL;
    if (plan_obj != Py_None && !(plan = PyCapsule_GetPointer(plan_obj, "codelens.tags_plan")))
        return NULL;
    if (query_obj != Py_None &&
        !(tags = PyCapsule_GetPointer(query_obj, "codelens.tags_query")))
        return NULL;
    if (PyBytes_GET_SIZE(source_obj) > (Py_ssize_t)UINT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "source over 4 GiB");
        return NULL;
    }
    Source source = {PyBytes_AS_STRING(source_obj), (uint32_t)PyBytes_GET_SIZE(source_obj)};
    TSInput input = {&source, read_source, TSInputEncodingUTF8, NULL};
    double deadline = monotonic_seconds() + timeout;
    TSParseOptions options = {&deadline, past_deadline};
    Packed packed = {0};
    int failed = 0;
    TSTree *tree;
    Py_BEGIN_ALLOW_THREADS  /* the caller holds source, parser, plan and query */
    tree = ts_parser_parse_with_options(parser, NULL, input, options);
    if (!tree) ts_parser_reset(parser);  /* a halted parse would resume on the next call */
    else {
        failed = pack(tree, plan, tags, &packed);
        ts_tree_delete(tree);
    }
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    if (!tree) result = Py_NewRef(Py_None);
    else if (failed) PyErr_NoMemory();
    else result = packed_result(&packed);
    packed_free(&packed);
    return result;
}
/* ---- tree_digest: a no-op index in one pass of readdir and fstatat ----
 * An order-independent 128-bit digest of what stat says about every entry under a root
 * (relative path, type, size, mtime, inode; a symlink's target too), skipping the names in
 * skip (at any depth) and the relative folders in prune. Two equal digests mean the walk
 * would find the same files with the same stamps, so indexer/engine.py can skip its walk.
 * The stat calls are most of the cost (~3 us each on a VM), so two threads share the
 * folders; each sums its own entries (the digest is a sum, so order does not matter). */

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#define SCAN_THREADS 2

static inline uint64_t mix64(uint64_t h) {  /* MurmurHash3's finaliser */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

typedef struct {
    uint64_t a, b;  /* FNV-1a from two bases, each finalised: one entry's 128 bits */
} Hash;

static inline void hash_bytes(Hash *h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h->a = (h->a ^ p[i]) * 0x100000001b3ULL;
        h->b = (h->b ^ p[i]) * 0x100000001b3ULL;
    }
}

typedef struct {
    uint64_t a, b, entries;
} Digest;

static void add_entry(Digest *digest, const char *rel, size_t rel_len, char type,
                      const struct stat *st, const struct stat *target) {
    Hash h = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
    hash_bytes(&h, rel, rel_len + 1);  /* with its NUL: no two paths run together */
    hash_bytes(&h, &type, 1);
    for (int i = 0; i < 2; i++) {
        const struct stat *one = i ? target : st;
        if (!one) continue;
        int64_t fields[4] = {(int64_t)one->st_size, (int64_t)one->st_mtim.tv_sec,
                             (int64_t)one->st_mtim.tv_nsec, (int64_t)one->st_ino};
        uint32_t mode = one->st_mode;
        hash_bytes(&h, fields, sizeof fields);
        hash_bytes(&h, &mode, sizeof mode);
    }
    digest->a += mix64(h.a);
    digest->b += mix64(h.b ^ 0x9e3779b97f4a7c15ULL);
    digest->entries++;
}

typedef struct {
    char **items;  /* sorted, for bsearch */
    size_t len;
} Names;

static int compare_names(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int names_contain(const Names *names, const char *name) {
    return names->len && bsearch(&name, names->items, names->len, sizeof(char *),
                                 compare_names) != NULL;
}

static void names_free(Names *names) {
    for (size_t i = 0; i < names->len; i++) free(names->items[i]);
    free(names->items);
}

static int names_from_set(PyObject *set, Names *out) {
    out->len = 0;
    out->items = calloc((size_t)PySet_GET_SIZE(set) + 1, sizeof(char *));
    if (!out->items) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *iterator = PyObject_GetIter(set), *item;
    if (!iterator) return -1;
    while ((item = PyIter_Next(iterator)) != NULL) {
        PyObject *encoded = NULL;
        if (!PyUnicode_Check(item) || !PyUnicode_FSConverter(item, &encoded)) {
            Py_DECREF(item);
            Py_DECREF(iterator);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "names must be str");
            return -1;
        }
        out->items[out->len] = strdup(PyBytes_AS_STRING(encoded));
        Py_DECREF(encoded);
        Py_DECREF(item);
        if (!out->items[out->len++]) {
            Py_DECREF(iterator);
            PyErr_NoMemory();
            return -1;
        }
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred()) return -1;
    qsort(out->items, out->len, sizeof(char *), compare_names);
    return 0;
}

typedef struct {
    const char *top;
    size_t top_len;
    const Names *skip, *prune;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    char **folders;  /* relative folders still to read */
    size_t len, cap;
    int busy;  /* threads reading a folder now */
    int failed;  /* 1: something unreadable; -1: out of memory */
} Scan;

static int scan_push(Scan *scan, const char *rel, size_t len) {  /* with scan->lock held */
    if (scan->len == scan->cap) {
        size_t cap = scan->cap ? scan->cap * 2 : 64;
        char **grown = realloc(scan->folders, cap * sizeof(char *));
        if (!grown) return -1;
        scan->folders = grown;
        scan->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, rel, len + 1);
    scan->folders[scan->len++] = copy;
    pthread_cond_signal(&scan->wake);
    return 0;
}

/* Read one folder: its entries go into the digest, its subfolders onto the scan's stack. */
static int scan_folder(Scan *scan, const char *rel, Digest *digest) {
    size_t rel_len = strlen(rel);
    char *path = malloc(scan->top_len + rel_len + 2);
    if (!path) return -1;
    memcpy(path, scan->top, scan->top_len);
    path[scan->top_len] = '/';
    memcpy(path + scan->top_len + 1, rel, rel_len + 1);
    DIR *dir = opendir(rel_len ? path : scan->top);
    free(path);
    if (!dir) return 1;
    int fd = dirfd(dir), status = 0;
    char *child = NULL;
    size_t child_cap = 0;
    struct dirent *entry;
    while (status == 0 && (entry = readdir(dir)) != NULL) {
        const char *name = entry->d_name;
        if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2]))) continue;
        size_t name_len = strlen(name);
        size_t child_len = rel_len ? rel_len + 1 + name_len : name_len;
        if (child_len + 1 > child_cap) {
            char *grown = realloc(child, child_len + 1);
            if (!grown) {
                status = -1;
                break;
            }
            child = grown;
            child_cap = child_len + 1;
        }
        if (rel_len) {
            memcpy(child, rel, rel_len);
            child[rel_len] = '/';
            memcpy(child + rel_len + 1, name, name_len + 1);
        } else {
            memcpy(child, name, name_len + 1);
        }
        struct stat st, target;
        unsigned char type = entry->d_type;
        if (type == DT_UNKNOWN || type == DT_REG || type == DT_LNK) {
            if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT) status = 1;  /* ENOENT: gone since listed */
                continue;
            }
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK
                   : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        }
        if (type == DT_DIR) {
            add_entry(digest, child, child_len, 'd', NULL, NULL);
            if (!names_contain(scan->skip, name) && !names_contain(scan->prune, child)) {
                pthread_mutex_lock(&scan->lock);
                if (scan_push(scan, child, child_len) < 0) status = -1;
                pthread_mutex_unlock(&scan->lock);
            }
        } else if (type == DT_LNK) {
            int followed = fstatat(fd, name, &target, 0) == 0;
            add_entry(digest, child, child_len, 'l', &st, followed ? &target : NULL);
        } else {
            add_entry(digest, child, child_len, type == DT_REG ? 'f' : 'o', &st, NULL);
        }
    }
    free(child);
    closedir(dir);
    return status;
}

typedef struct {
    Scan *scan;
    Digest digest;
} Worker;

static void *scan_worker(void *arg) {
    Worker *worker = arg;
    Scan *scan = worker->scan;
    pthread_mutex_lock(&scan->lock);
    for (;;) {
        while (!scan->len && scan->busy && !scan->failed)
            pthread_cond_wait(&scan->wake, &scan->lock);
        if (scan->failed || (!scan->len && !scan->busy)) break;
        char *rel = scan->folders[--scan->len];
        scan->busy++;
        pthread_mutex_unlock(&scan->lock);
        int status = scan_folder(scan, rel, &worker->digest);
        free(rel);
        pthread_mutex_lock(&scan->lock);
        scan->busy--;
        if (status && !scan->failed) scan->failed = status;
        if (!scan->busy || scan->failed) pthread_cond_broadcast(&scan->wake);
    }
    pthread_mutex_unlock(&scan->lock);
    return NULL;
}

PyDoc_STRVAR(tree_digest_doc,
"tree_digest(top: str, skip: frozenset[str], prune: frozenset[str]) -> (str, int) | None\n\n"
"The digest of every entry under top (hex) and how many entries it covers, or None if a\n"
"folder or entry could not be read. skip: names never descended into, at any depth;\n"
"prune: folders, relative to top with '/' separators, not descended into.");

static PyObject *tree_digest(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *top_obj, *skip_set, *prune_set, *top_bytes = NULL;
    if (!PyArg_ParseTuple(args, "UO!O!", &top_obj, &PyFrozenSet_Type, &skip_set,
                          &PyFrozenSet_Type, &prune_set))
        return NULL;
    Names skip = {0}, prune = {0};
    if (names_from_set(skip_set, &skip) < 0 || names_from_set(prune_set, &prune) < 0 ||
        !PyUnicode_FSConverter(top_obj, &top_bytes)) {
        names_free(&skip);
        names_free(&prune);
        return NULL;
    }
    Scan scan = {PyBytes_AS_STRING(top_bytes), (size_t)PyBytes_GET_SIZE(top_bytes), &skip,
                 &prune, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0, 0, 0};
    Worker workers[SCAN_THREADS];
    pthread_t threads[SCAN_THREADS];
    int started = 0;
    Py_BEGIN_ALLOW_THREADS
    if (scan_push(&scan, "", 0) < 0) scan.failed = -1;
    for (int i = 0; i < SCAN_THREADS && !scan.failed; i++) {
        workers[i].scan = &scan;
        workers[i].digest = (Digest){0, 0, 0};
        if (i == 0 || pthread_create(&threads[i], NULL, scan_worker, &workers[i]) == 0)
            started++;
    }
    if (!scan.failed) scan_worker(&workers[0]);  /* this thread is the first worker */
    for (int i = 1; i < started; i++) pthread_join(threads[i], NULL);
    Py_END_ALLOW_THREADS
    Digest total = {0, 0, 0};
    for (int i = 0; i < started; i++) {
        total.a += workers[i].digest.a;
        total.b += workers[i].digest.b;
        total.entries += workers[i].digest.entries;
    }
    while (scan.len) free(scan.folders[--scan.len]);
    free(scan.folders);
    pthread_mutex_destroy(&scan.lock);
    pthread_cond_destroy(&scan.wake);
    names_free(&skip);
    names_free(&prune);
    Py_DECREF(top_bytes);
    if (scan.failed < 0) return PyErr_NoMemory();
    if (scan.failed) Py_RETURN_NONE;
    char hex[33];
    snprintf(hex, sizeof hex, "%016llx%016llx", (unsigned long long)total.a,
             (unsigned long long)total.b);
    return Py_BuildValue("(sK)", hex, (unsigned long long)total.entries);
}

/* ---- token ids: the parent's map from token bytes to tokens.id, and postings arrays ----
 * Every parsed file brings hundreds of tokens (newline-joined bytes from extract_tokens); the
 * parent maps each to its id in the tokens table, sorts them for the file's facts and makes
 * its postings. In Python that was ~20% of a commit; here it is a hash table lookup each. */

typedef struct {
    uint64_t hash;
    uint32_t offset, length;
    int64_t id;  /* 0: learnt, no id yet */
} TokenEntry;

typedef struct {
    TokenEntry *entries;
    size_t slots, used;
    char *arena;
    size_t arena_len, arena_cap;
} TokenTable;

static uint64_t token_hash(const char *text, size_t len) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)text[i]) * 0x100000001b3ULL;
    return mix64(h) | 1;  /* never 0: 0 marks an empty slot */
}

static void token_table_free(PyObject *capsule) {
    TokenTable *table = PyCapsule_GetPointer(capsule, "codelens.token_table");
    if (!table) return;
    free(table->entries);
    free(table->arena);
    free(table);
}

static TokenEntry *token_find(TokenTable *table, const char *text, size_t len, uint64_t hash) {
    size_t slot = hash & (table->slots - 1);
    for (;;) {
        TokenEntry *entry = &table->entries[slot];
        if (!entry->hash) return entry;  /* the empty slot where it would go */
        if (entry->hash == hash && entry->length == len &&
            !memcmp(table->arena + entry->offset, text, len))
            return entry;
        slot = (slot + 1) & (table->slots - 1);
    }
}

static int token_grow(TokenTable *table) {
    size_t slots = table->slots * 2;
    TokenEntry *entries = calloc(slots, sizeof(TokenEntry)), *old = table->entries;
    if (!entries) return -1;
    size_t old_slots = table->slots;
    table->entries = entries;
    table->slots = slots;
    for (size_t i = 0; i < old_slots; i++) {
        if (!old[i].hash) continue;
        *token_find(table, table->arena + old[i].offset, old[i].length, old[i].hash) = old[i];
    }
    free(old);
    return 0;
}

static TokenTable *token_table(PyObject *capsule) {
    return PyCapsule_GetPointer(capsule, "codelens.token_table");
}

PyDoc_STRVAR(tokens_new_doc, "tokens_new() -> capsule\n\nAn empty map from token bytes to ids.");

static PyObject *tokens_new(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    TokenTable *table = calloc(1, sizeof(TokenTable));
    if (table) {
        table->slots = 1024;
        table->entries = calloc(table->slots, sizeof(TokenEntry));
    }
    if (!table || !table->entries) {
        free(table);
        return PyErr_NoMemory();
    }
    PyObject *capsule = PyCapsule_New(table, "codelens.token_table", token_table_free);
    if (!capsule) {
        free(table->entries);
        free(table);
    }
    return capsule;
}

/* The tokens of a newline-joined bytes object, one after the other. */
typedef struct {
    const char *at, *end;
} TokenCursor;

static int next_token(TokenCursor *cursor, const char **text, size_t *len) {
    while (cursor->at < cursor->end) {
        const char *stop = memchr(cursor->at, '\n', (size_t)(cursor->end - cursor->at));
        if (!stop) stop = cursor->end;
        *text = cursor->at;
        *len = (size_t)(stop - cursor->at);
        cursor->at = stop + 1;
        if (*len) return 1;
    }
    return 0;
}

static TokenCursor tokens_of(PyObject *joined) {
    const char *start = PyBytes_AS_STRING(joined);
    return (TokenCursor){start, start + PyBytes_GET_SIZE(joined)};
}

/* The (table, joined tokens) arguments of tokens_learn and tokens_ids. */
static TokenTable *table_and_tokens(PyObject *args, PyObject **joined) {
    PyObject *capsule;
    if (!PyArg_ParseTuple(args, "OS", &capsule, joined)) return NULL;
    return token_table(capsule);
}

PyDoc_STRVAR(tokens_learn_doc,
"tokens_learn(table, joined: bytes) -> list[bytes]\n\n"
"The tokens of joined the table has not seen, each once; they await tokens_assign.");

static PyObject *tokens_learn(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *joined;
    TokenTable *table = table_and_tokens(args, &joined);
    if (!table) return NULL;
    PyObject *learnt = PyList_New(0);
    if (!learnt) return NULL;
    int failed = 0;
    TokenCursor cursor = tokens_of(joined);
    const char *text;
    size_t len;
    while (!failed && next_token(&cursor, &text, &len)) {
        uint64_t hash = token_hash(text, len);
        TokenEntry *entry = token_find(table, text, len, hash);
        if (entry->hash) continue;
        if (table->arena_len + len > table->arena_cap) {
            size_t cap = table->arena_cap ? table->arena_cap * 2 : 1 << 16;
            while (cap < table->arena_len + len) cap *= 2;
            char *grown = realloc(table->arena, cap);
            if (!grown) {
                failed = 1;
                break;
            }
            table->arena = grown;
            table->arena_cap = cap;
        }
        memcpy(table->arena + table->arena_len, text, len);
        *entry = (TokenEntry){hash, (uint32_t)table->arena_len, (uint32_t)len, 0};
        table->arena_len += len;
        PyObject *token = PyBytes_FromStringAndSize(text, (Py_ssize_t)len);
        if (!token || PyList_Append(learnt, token) < 0) failed = 2;
        Py_XDECREF(token);
        if (!failed && ++table->used * 2 > table->slots && token_grow(table) < 0) failed = 1;
    }
    if (failed) {
        Py_DECREF(learnt);
        return failed == 1 ? PyErr_NoMemory() : NULL;
    }
    return learnt;
}

PyDoc_STRVAR(tokens_assign_doc,
"tokens_assign(table, tokens: list[bytes], ids: list[int]) -> None\n\n"
"Give learnt tokens their ids.");

static PyObject *tokens_assign(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *capsule, *tokens, *ids;
    if (!PyArg_ParseTuple(args, "OO!O!", &capsule, &PyList_Type, &tokens, &PyList_Type, &ids))
        return NULL;
    TokenTable *table = token_table(capsule);
    if (!table) return NULL;
    if (PyList_GET_SIZE(tokens) != PyList_GET_SIZE(ids)) {
        PyErr_SetString(PyExc_ValueError, "tokens and ids differ in length");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(tokens); i++) {
        PyObject *token = PyList_GET_ITEM(tokens, i);
        long long id = PyLong_AsLongLong(PyList_GET_ITEM(ids, i));
        if (id == -1 && PyErr_Occurred()) return NULL;
        if (!PyBytes_Check(token) || id <= 0) {
            PyErr_SetString(PyExc_ValueError, "tokens are bytes and ids positive");
            return NULL;
        }
        const char *text = PyBytes_AS_STRING(token);
        size_t len = (size_t)PyBytes_GET_SIZE(token);
        TokenEntry *entry = token_find(table, text, len, token_hash(text, len));
        if (!entry->hash) {
            PyErr_SetString(PyExc_KeyError, "a token was assigned before it was learnt");
            return NULL;
        }
        entry->id = id;
    }
    Py_RETURN_NONE;
}

static int compare_int64(const void *x, const void *y) {
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static size_t sort_unique(int64_t *values, size_t count) {
    if (!count) return 0;
    qsort(values, count, sizeof(int64_t), compare_int64);
    size_t kept = 1;
    for (size_t i = 1; i < count; i++)
        if (values[i] != values[kept - 1]) values[kept++] = values[i];
    return kept;
}

PyDoc_STRVAR(tokens_ids_doc,
"tokens_ids(table, joined: bytes) -> bytes\n\n"
"The ids of joined's tokens, sorted and distinct, as native int64s (array('q')).");

static PyObject *tokens_ids(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *joined;
    TokenTable *table = table_and_tokens(args, &joined);
    if (!table) return NULL;
    size_t most = 1;
    for (Py_ssize_t i = 0; i < PyBytes_GET_SIZE(joined); i++)
        most += PyBytes_AS_STRING(joined)[i] == '\n';
    int64_t *ids = malloc(most * sizeof(int64_t));
    if (!ids) return PyErr_NoMemory();
    size_t count = 0;
    int missing = 0;
    TokenCursor cursor = tokens_of(joined);
    const char *text;
    size_t len;
    while (next_token(&cursor, &text, &len)) {
        TokenEntry *entry = token_find(table, text, len, token_hash(text, len));
        if (!entry->hash || !entry->id) missing = 1;
        else ids[count++] = entry->id;
    }
    if (missing) {
        free(ids);
        PyErr_SetString(PyExc_KeyError, "a token has no id yet");
        return NULL;
    }
    count = sort_unique(ids, count);
    PyObject *result = PyBytes_FromStringAndSize((const char *)ids,
                                                 (Py_ssize_t)(count * sizeof(int64_t)));
    free(ids);
    return result;
}

PyDoc_STRVAR(postings_doc,
"postings(ids: bytes, file_id: int) -> bytes\n\n"
"id << 32 | file_id for each int64 id, as native int64s.");

static PyObject *postings(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer view;
    long long file_id;
    if (!PyArg_ParseTuple(args, "y*L", &view, &file_id)) return NULL;
    size_t count = (size_t)view.len / sizeof(int64_t);
    PyObject *result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(count * sizeof(int64_t)));
    if (result) {
        const int64_t *ids = view.buf;
        int64_t *out = (int64_t *)PyBytes_AS_STRING(result);
        for (size_t i = 0; i < count; i++) out[i] = (int64_t)((uint64_t)ids[i] << 32) | file_id;
    }
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(deltas_doc,
"deltas(ids: bytes) -> bytes\n\n"
"msgpack of the list of differences between consecutive int64 ids (the first from 0), as\n"
"msgpack-python would write it.");

static PyObject *deltas(PyObject *module, PyObject *arg) {
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    size_t count = (size_t)view.len / sizeof(int64_t);
    unsigned char *out = malloc(5 + 9 * count);
    PyObject *result = NULL;
    if (out) {
        const int64_t *ids = view.buf;
        size_t len = pack_array_header(out, count);
        int64_t previous = 0;
        for (size_t i = 0; i < count; i++) {
            len += pack_int(out + len, ids[i] - previous);
            previous = ids[i];
        }
        result = PyBytes_FromStringAndSize((const char *)out, (Py_ssize_t)len);
        free(out);
    } else {
        PyErr_NoMemory();
    }
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(sort_int64_doc,
"sort_int64(values: bytes) -> bytes\n\nNative int64s, sorted and distinct.");

static PyObject *sort_int64(PyObject *module, PyObject *arg) {
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    size_t count = (size_t)view.len / sizeof(int64_t);
    PyObject *result = PyBytes_FromStringAndSize(view.buf, (Py_ssize_t)(count * sizeof(int64_t)));
    PyBuffer_Release(&view);
    if (!result) return NULL;
    size_t kept = sort_unique((int64_t *)PyBytes_AS_STRING(result), count);
    if (_PyBytes_Resize(&result, (Py_ssize_t)(kept * sizeof(int64_t))) < 0) return NULL;
    return result;
}

/* ---- tokens: what indexer/tokens.py's extract_tokens does with a regex and a set ---- */

static inline int word_start(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80;
}

static inline int word_char(unsigned char c) {
    return word_start(c) || (c >= '0' && c <= '9');
}

typedef struct {
    uint32_t start;
    uint32_t len;
} Span;

PyDoc_STRVAR(extract_tokens_doc,
"extract_tokens(source: bytes, max_len: int) -> bytes\n\n"
"The distinct words of source (regex [A-Za-z_\\x80-\\xff][A-Za-z0-9_\\x80-\\xff]+, at most\n"
"max_len bytes), as they are in source, joined by newlines, in no set order.");

static PyObject *extract_tokens(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer view;
    Py_ssize_t max_len;
    if (!PyArg_ParseTuple(args, "y*n", &view, &max_len)) return NULL;
    const unsigned char *text = view.buf;
    size_t n = (size_t)view.len, count = 0, cap = 0, slots = 0;
    Span *spans = NULL;
    uint32_t *table = NULL;  /* index + 1 into spans, 0 = empty */
    PyObject *result = NULL;
    int failed = n > UINT32_MAX;
    if (!failed) {
        Py_BEGIN_ALLOW_THREADS  /* the buffer view keeps source alive */
        for (size_t i = 0; i < n && !failed;) {
            if (!word_start(text[i])) { i++; continue; }
            size_t j = i + 1;
            while (j < n && word_char(text[j])) j++;
            if (j - i >= 2 && j - i <= (size_t)max_len) {
                if (count == cap) {
                    cap = cap ? cap * 2 : 256;
                    Span *grown = realloc(spans, cap * sizeof(Span));
                    if (!grown) { failed = 1; break; }
                    spans = grown;
                }
                spans[count].start = (uint32_t)i;
                spans[count].len = (uint32_t)(j - i);
                count++;
            }
            i = j;
        }
        /* keep the first of each distinct word: an open-addressing set over the spans */
        slots = 64;
        while (slots < count * 2) slots *= 2;
        if (!failed && !(table = calloc(slots, sizeof(uint32_t)))) failed = 1;
        size_t kept = 0;
        for (size_t k = 0; k < count && !failed; k++) {
            const unsigned char *word = text + spans[k].start;
            uint32_t hash = 2166136261u;
            for (uint32_t b = 0; b < spans[k].len; b++) hash = (hash ^ word[b]) * 16777619u;
            size_t slot = hash & (slots - 1);
            for (;;) {
                uint32_t entry = table[slot];
                if (entry == 0) {
                    spans[kept] = spans[k];
                    table[slot] = (uint32_t)++kept;
                    break;
                }
                Span other = spans[entry - 1];
                if (other.len == spans[k].len && !memcmp(text + other.start, word, other.len))
                    break;
                slot = (slot + 1) & (slots - 1);
            }
        }
        count = kept;
        Py_END_ALLOW_THREADS
    }
    if (failed) {
        PyErr_NoMemory();
        goto out;
    }
    size_t total = 0;
    for (size_t k = 0; k < count; k++) total += spans[k].len + 1;
    result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(total ? total - 1 : 0));
    if (!result) goto out;
    char *at = PyBytes_AS_STRING(result);
    for (size_t k = 0; k < count; k++) {
        if (k) *at++ = '\n';
        memcpy(at, text + spans[k].start, spans[k].len);
        at += spans[k].len;
    }
out:
    free(spans);
    free(table);
    PyBuffer_Release(&view);
    return result;
}

/* ---- matching: subtree ends of a decoded tree ---- */

PyDoc_STRVAR(subtree_ends_doc,
"subtree_ends(depths: list[int]) -> list[int]\n\n"
"For each node of a preorder walk given by its depths, the index just past its subtree\n"
"(indexer/match/tree.py has the same in Python).");

static PyObject *subtree_ends(PyObject *module, PyObject *depths) {
    (void)module;
    if (!PyList_Check(depths)) {
        PyErr_SetString(PyExc_TypeError, "subtree_ends() takes a list of depths");
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(depths);
    Py_ssize_t *stack = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(count ? count : 1));
    PyObject *ends = PyList_New(count);
    if (!stack || !ends) {
        PyMem_Free(stack);
        Py_XDECREF(ends);
        return PyErr_NoMemory();
    }
    PyObject *total = PyLong_FromSsize_t(count);
    if (!total) goto fail;
    for (Py_ssize_t i = 0; i < count; i++) {  /* every slot set before any early return */
        Py_INCREF(total);
        PyList_SET_ITEM(ends, i, total);
    }
    Py_DECREF(total);
    Py_ssize_t height = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        long depth = PyLong_AsLong(PyList_GET_ITEM(depths, i));
        if (depth < 0 && PyErr_Occurred()) goto fail;
        if (depth < 0) depth = 0;
        while (height > depth) {
            PyObject *at = PyLong_FromSsize_t(i);
            if (!at) goto fail;
            Py_ssize_t open = stack[--height];
            Py_SETREF(((PyListObject *)ends)->ob_item[open], at);
        }
        stack[height++] = i;
    }
    PyMem_Free(stack);
    return ends;
fail:
    PyMem_Free(stack);
    Py_DECREF(ends);
    return NULL;
}

PyDoc_STRVAR(parents_doc,
"parents(depths: list[int]) -> list[int]\n\n"
"For each node of a preorder walk given by its depths, the index of its parent (-1 for\n"
"the root): indexer/match/tree.py has the same in Python.");

static PyObject *parents(PyObject *module, PyObject *depths) {
    (void)module;
    if (!PyList_Check(depths)) {
        PyErr_SetString(PyExc_TypeError, "parents() takes a list of depths");
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(depths);
    Py_ssize_t *stack = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(count ? count : 1));
    PyObject *out = PyList_New(count);
    if (!stack || !out) {
        PyMem_Free(stack);
        Py_XDECREF(out);
        return PyErr_NoMemory();
    }
    Py_ssize_t height = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        long depth = PyLong_AsLong(PyList_GET_ITEM(depths, i));
        if (depth == -1 && PyErr_Occurred()) {
            PyMem_Free(stack);
            Py_DECREF(out);  /* the unset slots are NULL: list dealloc skips them */
            return NULL;
        }
        if (depth < 0) depth = 0;
        if (height > depth) height = depth;
        PyObject *parent = PyLong_FromSsize_t(height ? stack[height - 1] : -1);
        if (!parent) {
            PyMem_Free(stack);
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, parent);
        stack[height++] = i;
    }
    PyMem_Free(stack);
    return out;
}

/* ---- decoding: the integer arrays of an AST blob, read in one pass ---- */

PyDoc_STRVAR(unpack_tree_doc,
"unpack_tree(raw: bytes, offset: int) -> (kinds, starts, ends, depths, fields, after)\n\n"
"The five msgpack integer arrays of an AST blob's uncompressed bytes (indexer/codec.py),\n"
"read from ``offset``: starts and depths summed from their deltas, ends = starts + lengths,\n"
"and after[i] the index just past node i's subtree (what subtree_ends gives). kinds, depths\n"
"and fields are lists; starts, ends and after the native int64 bytes of an array('q') (a\n"
"search reads few of them: no Python int is made for the others). ValueError for bytes\n"
"that are not five equally long integer arrays.");

typedef struct {
    const unsigned char *at;
    const unsigned char *end;
} Reader;

static int read_array_length(Reader *r, Py_ssize_t *length) {
    if (r->at >= r->end) return -1;
    unsigned char b = *r->at++;
    if ((b & 0xf0) == 0x90) { *length = b & 0x0f; return 0; }
    size_t need = b == 0xdc ? 2 : b == 0xdd ? 4 : 0;
    if (!need || (size_t)(r->end - r->at) < need) return -1;
    uint64_t u = 0;
    for (size_t i = 0; i < need; i++) u = (u << 8) | r->at[i];
    r->at += need;
    *length = (Py_ssize_t)u;
    return 0;
}

static int read_int(Reader *r, int64_t *value) {
    if (r->at >= r->end) return -1;
    unsigned char b = *r->at++;
    if (b < 0x80) { *value = b; return 0; }
    if (b >= 0xe0) { *value = (int8_t)b; return 0; }
    size_t need;
    switch (b) {
        case 0xcc: case 0xd0: need = 1; break;
        case 0xcd: case 0xd1: need = 2; break;
        case 0xce: case 0xd2: need = 4; break;
        case 0xcf: case 0xd3: need = 8; break;
        default: return -1;
    }
    if ((size_t)(r->end - r->at) < need) return -1;
    uint64_t u = 0;
    for (size_t i = 0; i < need; i++) u = (u << 8) | r->at[i];
    r->at += need;
    if (b >= 0xd0) {  /* signed */
        *value = need == 1 ? (int8_t)u : need == 2 ? (int16_t)u : need == 4 ? (int32_t)u
                                                                        : (int64_t)u;
    } else {
        if (u > (uint64_t)INT64_MAX) return -1;
        *value = (int64_t)u;
    }
    return 0;
}

/* one array of ``count`` integers into ``out`` (summed as it goes when ``running``) */
static int read_ints(Reader *r, Py_ssize_t count, int64_t *out, int running) {
    Py_ssize_t length;
    if (read_array_length(r, &length) < 0 || length != count) return -1;
    int64_t total = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        int64_t value;
        if (read_int(r, &value) < 0) return -1;
        total = running ? total + value : value;
        out[i] = total;
    }
    return 0;
}

static PyObject *list_of(const int64_t *values, Py_ssize_t count) {
    PyObject *list = PyList_New(count);
    if (!list) return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyLong_FromLongLong(values[i]);
        if (!item) { Py_DECREF(list); return NULL; }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

static PyObject *unpack_tree(PyObject *module, PyObject *args) {
    (void)module;
    Py_buffer raw;
    Py_ssize_t offset;
    if (!PyArg_ParseTuple(args, "y*n", &raw, &offset)) return NULL;
    PyObject *result = NULL;
    int64_t *arrays = NULL;
    Py_ssize_t *stack = NULL;
    Reader r = {(const unsigned char *)raw.buf, (const unsigned char *)raw.buf + raw.len};
    Py_ssize_t count;
    if (offset < 0 || offset > raw.len) goto malformed;
    r.at += offset;
    const unsigned char *first = r.at;
    if (read_array_length(&r, &count) < 0 || count < 0 || count > raw.len) goto malformed;
    r.at = first;
    /* kinds, starts, ends, depths, fields, after */
    arrays = PyMem_Malloc(sizeof(int64_t) * 6 * (size_t)(count ? count : 1));
    stack = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(count ? count : 1));
    if (!arrays || !stack) { PyErr_NoMemory(); goto done; }
    int64_t *kinds = arrays, *starts = arrays + count, *ends = arrays + 2 * count;
    int64_t *depths = arrays + 3 * count, *fields = arrays + 4 * count;
    int64_t *after = arrays + 5 * count;
    if (read_ints(&r, count, kinds, 0) < 0 || read_ints(&r, count, starts, 1) < 0 ||
        read_ints(&r, count, ends, 0) < 0 || read_ints(&r, count, depths, 1) < 0 ||
        read_ints(&r, count, fields, 0) < 0) goto malformed;
    Py_ssize_t height = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        ends[i] += starts[i];
        after[i] = count;
        int64_t depth = depths[i] < 0 ? 0 : depths[i];
        while (height > depth) after[stack[--height]] = i;
        stack[height++] = i;
    }
    result = PyTuple_New(6);
    if (!result) goto done;
    for (int k = 0; k < 6; k++) {  /* offsets as raw int64 (array('q')): few are read */
        const int64_t *values = arrays + (Py_ssize_t)k * count;
        PyObject *item = (k == 1 || k == 2 || k == 5)
            ? PyBytes_FromStringAndSize((const char *)values, (Py_ssize_t)sizeof(int64_t) * count)
            : list_of(values, count);
        if (!item) { Py_CLEAR(result); goto done; }
        PyTuple_SET_ITEM(result, k, item);
    }
    goto done;
malformed:
    PyErr_SetString(PyExc_ValueError, "not the integer arrays of an AST blob");
done:
    PyMem_Free(arrays);
    PyMem_Free(stack);
    PyBuffer_Release(&raw);
    return result;
}

static PyMethodDef methods[] = {
    {"compile_tags", compile_tags, METH_O, compile_tags_doc},
    {"compile_query", compile_query, METH_VARARGS, compile_query_doc},
    {"new_parser", new_parser, METH_O, new_parser_doc},
    {"parse", parse, METH_VARARGS, parse_doc},
    {"extract_tokens", extract_tokens, METH_VARARGS, extract_tokens_doc},
    {"tree_digest", tree_digest, METH_VARARGS, tree_digest_doc},
    {"tokens_new", tokens_new, METH_NOARGS, tokens_new_doc},
    {"tokens_learn", tokens_learn, METH_VARARGS, tokens_learn_doc},
    {"tokens_assign", tokens_assign, METH_VARARGS, tokens_assign_doc},
    {"tokens_ids", tokens_ids, METH_VARARGS, tokens_ids_doc},
    {"postings", postings, METH_VARARGS, postings_doc},
    {"deltas", deltas, METH_O, deltas_doc},
    {"sort_int64", sort_int64, METH_O, sort_int64_doc},
    {"subtree_ends", subtree_ends, METH_O, subtree_ends_doc},
    {"parents", parents, METH_O, parents_doc},
    {"unpack_tree", unpack_tree, METH_VARARGS, unpack_tree_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "indexer._native",
    "C helpers for codelens, with the tree-sitter core of one py-tree-sitter release.", -1,
    methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *module = PyModule_Create(&module_def);
    /* API_VERSION: 2 since parse() packs trees itself (indexer/native.py checks it) */
    if (module && (PyModule_AddStringConstant(module, "TREE_SITTER_VERSION",
                                              CODELENS_TS_VERSION) < 0 ||
                   PyModule_AddIntConstant(module, "API_VERSION", 2) < 0)) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}

/* SPDX-License-Identifier: MIT */
/* The one description of a CPython build's memory layout that the walker uses.
 *
 * Every per-version difference the walker cares about is data in this struct: byte offsets
 * (-1 when the field does not exist on that version), sizes to read, and a few enums that
 * select a decoder (frame model, line-table format). Tables for 3.9-3.12 are compiled in
 * (layouts/tables.c); 3.13+ are filled from the target's own _Py_DebugOffsets
 * (layouts/debug_offsets.c). Pure data: nothing here does I/O. */
#ifndef TC_LAYOUT_H
#define TC_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "tc/common.h"

/* How frames are linked. */
enum tc_frame_model {
	TC_FRAMES_OBJECT = 1, /* 3.9, 3.10: PyFrameObject chain via f_back, f_lasti */
	TC_FRAMES_INTERP = 2  /* 3.11+: _PyInterpreterFrame chain via previous, instr pointer */
};

/* How co_linetable / co_lnotab is encoded. */
enum tc_linetable_format {
	TC_LT_LNOTAB = 1,    /* 3.9: (addr delta, signed line delta) byte pairs */
	TC_LT_LINETABLE = 2, /* 3.10: (addr delta, signed line delta, -128 = none) pairs */
	TC_LT_LOCATIONS = 3  /* 3.11+: location table (PEP 657 varint entries) */
};

struct tc_layout {
	uint32_t version_hex; /* PY_VERSION_HEX, e.g. 0x030c01f0 for 3.12.1 final */
	bool debug;           /* Py_DEBUG build */
	bool free_threaded;   /* Py_GIL_DISABLED build */
	enum tc_frame_model frame_model;
	enum tc_linetable_format linetable;

	/* _PyRuntimeState */
	struct {
		int32_t interpreters_head; /* PyInterpreterState * */
		int32_t main_thread;       /* unsigned long thread ident of the main thread, -1 unknown */
		int32_t gil;               /* embedded struct _gil_runtime_state (3.9-3.11), else -1 */
		int32_t tstate_current;    /* gilstate.tstate_current (3.9-3.11), else -1 */
	} runtime;

	/* PyInterpreterState */
	struct {
		int32_t size;          /* bytes to read to cover every field below */
		int32_t next;
		int32_t threads_head;
		int32_t threads_main;  /* PyThreadState * of the main thread (3.14+), else -1 */
		int32_t gil_ptr;       /* interp->ceval.gil: struct _gil_runtime_state * (3.12+), else -1 */
		int32_t code_generation; /* uint64 _code_object_generation (3.14+), else -1 */
	} interp;

	/* struct _gil_runtime_state, wherever it lives */
	struct {
		int32_t locked;      /* int */
		int32_t last_holder; /* PyThreadState * */
	} gil;

	/* PyThreadState */
	struct {
		int32_t size;
		int32_t next;
		int32_t interp;
		int32_t frame;            /* 3.9/3.10: PyFrameObject *frame, else -1 */
		int32_t cframe;           /* 3.11/3.12: _PyCFrame *cframe, else -1 */
		int32_t root_cframe;    /* embedded _PyCFrame root_cframe (3.11/3.12): tstate->cframe
					   points at it exactly when no Python frame runs, else -1 */
		int32_t current_frame;    /* 3.13+: _PyInterpreterFrame *current_frame, else -1 */
		int32_t thread_id;        /* unsigned long (pthread_t) */
		int32_t native_thread_id; /* unsigned long, -1 before 3.11 */
		int32_t holds_gil;        /* int (3.15+ where present), else -1 */
		int32_t base_frame;       /* the embedded sentinel frame at the bottom of every
					   * chain (3.15+: _PyThreadStateImpl.base_frame), else -1 */
	} tstate;

	/* _PyCFrame (3.11/3.12) */
	struct {
		int32_t current_frame; /* _PyInterpreterFrame * */
	} cframe;

	/* PyFrameObject (3.9/3.10) */
	struct {
		int32_t size;
		int32_t f_back;
		int32_t f_code;
		int32_t f_lasti;  /* int: 3.9 byte offset, 3.10 code-unit index */
		int32_t f_lineno; /* int */
		int32_t f_trace;  /* PyObject * (3.9: f_lineno is valid only while tracing) */
	} frameobj;

	/* _PyInterpreterFrame (3.11+) */
	struct {
		int32_t size;       /* bytes to read (covers owner) */
		int32_t previous;
		int32_t code;       /* f_code (3.11/3.12) or f_executable (3.13+) */
		int32_t instr;      /* prev_instr (3.11/3.12) or instr_ptr (3.13+) */
		int32_t owner;      /* char */
		int32_t tlbc_index; /* int32 (free-threaded 3.14+), else -1 */
		uint8_t owner_generator;   /* FRAME_OWNED_BY_GENERATOR */
		uint8_t owner_first_shim;  /* owners >= this are not Python frames (CSTACK/INTERPRETER) */
		uint64_t code_tag_mask;    /* bits to clear from the code pointer (3.14+ stackrefs) */
	} iframe;

	/* PyCodeObject */
	struct {
		int32_t size;           /* bytes to read (covers every field below but the bytecode) */
		int32_t filename;       /* PyObject * (str) */
		int32_t name;           /* PyObject * (str) */
		int32_t qualname;       /* PyObject * (str), -1 before 3.11 */
		int32_t linetable;      /* PyObject * (bytes): co_lnotab / co_linetable */
		int32_t firstlineno;    /* int */
		int32_t code_adaptive;  /* start of the bytecode inside the object (3.11+), else -1 */
		int32_t firsttraceable; /* int _co_firsttraceable (3.11+ where known), else -1 */
		int32_t flags;          /* int co_flags (3.9-3.13), else -1 */
		/* The identity span: bytes of the code object, immutable for its lifetime, that a
		 * new code object at a reused address would not repeat (3.12/3.13: they include
		 * co_version, a counter every new code object takes the next value of; 3.9-3.11
		 * have no such counter: the span is every field from co_argcount to the line
		 * table, and the name string is compared too). Read on every walk that meets the
		 * code object; 0 length where the interpreter's code-object generation (3.14+)
		 * says when cached code objects may have been freed. */
		int32_t ident_off, ident_len;
		bool ident_name;        /* compare the name string's bytes as well (3.9-3.11) */
	} code;

	/* PyObject / PyVarObject */
	struct {
		int32_t ob_type;
	} object;

	/* PyBytesObject */
	struct {
		int32_t ob_size;
		int32_t ob_sval;
	} bytes;

	/* PyASCIIObject / PyCompactUnicodeObject */
	struct {
		int32_t length;         /* Py_ssize_t length (code points) */
		int32_t state;          /* uint32 state bit-field */
		int32_t ascii_data;     /* sizeof(PyASCIIObject): data of compact ASCII strings */
		int32_t compact_data;   /* sizeof(PyCompactUnicodeObject): data of other compact strings */
		uint8_t kind_shift;     /* state: kind is 3 bits at this shift */
		uint8_t compact_bit;    /* state: bit index of 'compact' */
		uint8_t ascii_bit;      /* state: bit index of 'ascii' */
	} unicode;
};

/* Fill OUT with the compiled-in layout for a 3.9-3.12 interpreter. VERSION_HEX is the full
 * PY_VERSION_HEX; DEBUG selects the Py_DEBUG variant. Returns 0, or -TC_EVERSION when no
 * table covers that version (the caller reports the supported range). */
int tc_layout_from_table(uint32_t version_hex, bool debug, struct tc_layout *out);

/* Fill L->code.flags and the identity span (ident_off, ident_len, ident_name) from the
 * other code fields and the version. Both layout sources call it last. */
void tc_layout_code_identity(struct tc_layout *l);

/* What the walker's fixed buffers hold: a thread state, a frame (interpreter frame or frame
 * object), a code object, and a str object's header (up to its ASCII data). */
#define TC_WALK_TSTATE_MAX 1024
#define TC_WALK_FRAME_MAX 256
#define TC_WALK_CODE_MAX 1024
#define TC_WALK_STR_HDR_MAX 96
#define TC_WALK_IDENT_MAX 128 /* a code object's identity span (tc_layout_code_identity) */

/* 0 when every structure L describes fits the walker's buffers (and a str's length field lies
 * within its header), else -TC_EINVAL. Checked once, when a layout is chosen at attach and
 * when a walker is made, so the walk itself checks no offset. */
int tc_layout_walkable(const struct tc_layout *l);

/* Supported range of compiled-in tables, for messages: "3.9" .. "3.12". */
extern const char tc_layout_table_range[];

#endif

/* SPDX-License-Identifier: MIT */
/* Aggregation for `tachyon-c top`: per-thread counters per function and per line, refresh
 * windows, snapshots and their queries (see top_model.h). No ncurses, no locks.
 *
 * Frame ids from the profile are dense, so the hot path is array indexing: frame id -> line
 * entry (ext[]), line entry -> function entry, then one hash lookup per (thread, entry)
 * counter. Entries are found by content (file, qualname, line) only the first time an id is
 * seen. Recursion is counted once per stack in "total" with a per-entry stamp of the stack
 * being counted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/top_model.h"

#include "daemon/alloc_monitor.h"
#include "tc/common.h"

#define MAX_EXT_IDS (1u << 20) /* frame ids past this count as "[other]" (4 MiB map) */
#define MAX_DT 1.0             /* weight of one instant at most (a stalled sampler) */
#define OTHER_SLOT TC_TOP_MAX_THREADS
#define NSLOTS (TC_TOP_MAX_THREADS + 1)

enum { KIND_FUNC = 0, KIND_LINE = 1 };

struct line_ent {
	const char *file, *qualname;
	int32_t line, first_line;
	int32_t func;
};

struct func_ent {
	const char *file, *qualname;
	int32_t first_line;
};

struct cell {
	uint64_t key; /* slot << 33 | kind << 32 | entry */
	uint32_t win_own, win_total;
	double own_time, total_time;
};

struct slot {
	uint64_t native_id, thread_id;
	bool main, win_seen;
	uint32_t win_samples, win_gil_known, win_gil, win_cpu_known, win_cpu;
	double time;
};

/* Open-addressing index of int32 positions (-1 empty), power-of-two capacity. */
struct index {
	int32_t *v;
	size_t cap;
};

struct tc_top_model {
	size_t max_lines, max_cells;
	double interval;

	int32_t *ext; /* frame id -> line entry, -1 not resolved yet */
	size_t next;

	struct line_ent *lines;
	uint32_t *line_stamp;
	size_t nlines, cap_lines, cap_lstamp;
	struct index line_ix;

	struct func_ent *funcs;
	uint32_t *func_stamp;
	size_t nfuncs, cap_funcs, cap_fstamp;
	struct index func_ix;

	struct cell *cells;
	size_t ncells, cap_cells;
	size_t nreserved; /* "[other]" counters of threads, outside the bound */
	struct index cell_ix;

	struct slot slots[NSLOTS];
	size_t nslots;     /* slots in use, the overflow slot not counted */
	bool other_used;   /* the overflow slot received a thread */

	uint32_t serial;   /* stamp of the stack being counted */

	/* the current instant */
	double dt;
	double prev_time;
	bool have_prev, inst_gil_known, inst_gil;
	size_t nthreads_total;

	/* the window */
	double win_start;  /* < 0: set by the first instant */
	uint64_t win_instants, win_failed, win_gil_known, win_gil;

	double reset_start; /* < 0: set by the first instant */
	uint64_t samples, failed, missed;
	uint64_t base_samples, base_failed, base_missed;
};

struct acc {
	uint64_t own, total;
	double own_time, total_time;
	bool present;
};

struct tc_top_snap {
	struct line_ent *lines;
	size_t nlines, cap_lines;
	struct func_ent *funcs;
	size_t nfuncs, cap_funcs;
	struct cell *cells;
	size_t ncells, cap_cells;
	struct slot slots[NSLOTS];
	struct tc_top_thread_info threads[NSLOTS];
	size_t nthreads;       /* entries of threads[] */
	int slot_of[NSLOTS];   /* threads[i] is slots[slot_of[i]] */

	double time, window, since_reset;
	uint64_t samples, failed, missed;
	uint64_t win_instants, win_failed, win_gil_known, win_gil;
	size_t nthreads_total;

	struct acc *acc;
	size_t cap_acc;
	struct tc_top_row *rows;
	size_t cap_rows;
};

/* ---- small helpers ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	/* FNV-1a */
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static bool str_eq(const char *a, const char *b)
{
	if (a == b)
		return true;
	if (!a || !b)
		return false;
	return strcmp(a, b) == 0;
}

static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*v, n * elem);
	if (!p)
		return -TC_ENOMEM;
	*v = p;
	*cap = n;
	return 0;
}

/* grow() that zeroes the new part */
static int grow_zero(void **v, size_t *cap, size_t need, size_t elem)
{
	size_t old = *cap;
	if (grow(v, cap, need, elem))
		return -TC_ENOMEM;
	if (*cap > old)
		memset((char *)*v + old * elem, 0, (*cap - old) * elem);
	return 0;
}

static int index_init(struct index *ix, size_t cap)
{
	int32_t *v = malloc(cap * sizeof *v);
	if (!v)
		return -TC_ENOMEM;
	memset(v, 0xff, cap * sizeof *v);
	free(ix->v);
	ix->v = v;
	ix->cap = cap;
	return 0;
}

/* ---- entries ---- */

static uint64_t line_hash(const char *file, const char *qualname, int32_t line)
{
	return mix64(hash_str(hash_str(0xcbf29ce484222325ULL, file), qualname) ^ (uint32_t)line);
}

static uint64_t func_hash(const char *file, const char *qualname)
{
	return mix64(hash_str(hash_str(0x84222325cbf29ce4ULL, file), qualname));
}

/* Rebuild an index of N items after growth; HASH(i) gives item i's hash. */
static int rehash_lines(struct tc_top_model *m, size_t cap)
{
	if (index_init(&m->line_ix, cap))
		return -TC_ENOMEM;
	for (size_t i = 0; i < m->nlines; i++) {
		const struct line_ent *e = &m->lines[i];
		size_t h = line_hash(e->file, e->qualname, e->line) & (cap - 1);
		while (m->line_ix.v[h] >= 0)
			h = (h + 1) & (cap - 1);
		m->line_ix.v[h] = (int32_t)i;
	}
	return 0;
}

static int rehash_funcs(struct tc_top_model *m, size_t cap)
{
	if (index_init(&m->func_ix, cap))
		return -TC_ENOMEM;
	for (size_t i = 0; i < m->nfuncs; i++) {
		const struct func_ent *e = &m->funcs[i];
		size_t h = func_hash(e->file, e->qualname) & (cap - 1);
		while (m->func_ix.v[h] >= 0)
			h = (h + 1) & (cap - 1);
		m->func_ix.v[h] = (int32_t)i;
	}
	return 0;
}

/* Function entry for (FILE, QUALNAME), created when new. Returns its index or -TC_ENOMEM. */
static int32_t func_entry(struct tc_top_model *m, const char *file, const char *qualname,
			  int32_t first_line)
{
	size_t mask = m->func_ix.cap - 1;
	size_t h = func_hash(file, qualname) & mask;
	for (int32_t i; (i = m->func_ix.v[h]) >= 0; h = (h + 1) & mask) {
		if (str_eq(m->funcs[i].file, file) && str_eq(m->funcs[i].qualname, qualname))
			return i;
	}
	if ((m->nfuncs + 1) * 2 > m->func_ix.cap) {
		if (rehash_funcs(m, m->func_ix.cap * 2))
			return -TC_ENOMEM;
		return func_entry(m, file, qualname, first_line);
	}
	if (grow_zero((void **)&m->func_stamp, &m->cap_fstamp, m->nfuncs + 1, sizeof *m->func_stamp) ||
	    grow((void **)&m->funcs, &m->cap_funcs, m->nfuncs + 1, sizeof *m->funcs))
		return -TC_ENOMEM;
	int32_t i = (int32_t)m->nfuncs++;
	m->funcs[i] = (struct func_ent){file, qualname, first_line};
	m->func_ix.v[h] = i;
	return i;
}

/* Line entry for D, created when new and under the bound, else 0 ("[other]"). Returns the
 * index, or -TC_ENOMEM. */
static int32_t line_entry(struct tc_top_model *m, const struct tc_top_frame_desc *d)
{
	size_t mask = m->line_ix.cap - 1;
	size_t h = line_hash(d->file, d->qualname, d->line) & mask;
	for (int32_t i; (i = m->line_ix.v[h]) >= 0; h = (h + 1) & mask) {
		const struct line_ent *e = &m->lines[i];
		if (i > 0 && e->line == d->line && str_eq(e->file, d->file) &&
		    str_eq(e->qualname, d->qualname))
			return i;
	}
	if (m->nlines >= m->max_lines + 1)
		return 0;
	if ((m->nlines + 1) * 2 > m->line_ix.cap) {
		if (rehash_lines(m, m->line_ix.cap * 2))
			return -TC_ENOMEM;
		return line_entry(m, d);
	}
	int32_t f = func_entry(m, d->file, d->qualname, d->first_line);
	if (f < 0)
		return f;
	if (grow_zero((void **)&m->line_stamp, &m->cap_lstamp, m->nlines + 1, sizeof *m->line_stamp) ||
	    grow((void **)&m->lines, &m->cap_lines, m->nlines + 1, sizeof *m->lines))
		return -TC_ENOMEM;
	int32_t i = (int32_t)m->nlines++;
	m->lines[i] = (struct line_ent){d->file, d->qualname, d->line, d->first_line, f};
	m->line_ix.v[h] = i;
	return i;
}

/* Line entry of frame id ID (resolving it on first sight); 0 for "[other]". */
static int32_t line_of(struct tc_top_model *m, int32_t id, tc_top_lookup_fn lookup, void *ctx)
{
	if (id < 0 || (uint32_t)id >= MAX_EXT_IDS)
		return 0;
	if ((size_t)id >= m->next) {
		size_t old = m->next;
		if (grow((void **)&m->ext, &m->next, (size_t)id + 1, sizeof *m->ext))
			return 0;
		memset(m->ext + old, 0xff, (m->next - old) * sizeof *m->ext);
	}
	if (m->ext[id] >= 0)
		return m->ext[id];
	struct tc_top_frame_desc d;
	int32_t li = 0;
	if (lookup && lookup(ctx, id, &d) == 0) {
		li = line_entry(m, &d);
		if (li < 0)
			return 0; /* out of memory: count as other, try again next time */
	}
	m->ext[id] = li;
	return li;
}

/* ---- counters ---- */

static uint64_t cell_key(size_t slot, int kind, int32_t entry)
{
	return ((uint64_t)slot << 33) | ((uint64_t)kind << 32) | (uint32_t)entry;
}

static int rehash_cells(struct tc_top_model *m, size_t cap)
{
	if (index_init(&m->cell_ix, cap))
		return -TC_ENOMEM;
	for (size_t i = 0; i < m->ncells; i++) {
		size_t h = mix64(m->cells[i].key) & (cap - 1);
		while (m->cell_ix.v[h] >= 0)
			h = (h + 1) & (cap - 1);
		m->cell_ix.v[h] = (int32_t)i;
	}
	return 0;
}

/* Counter of (SLOT, KIND, ENTRY); past the bound (unless FORCE) that thread's "[other]"
 * counter. NULL only when out of memory. */
static struct cell *cell_get(struct tc_top_model *m, size_t slot, int kind, int32_t entry,
			     bool force)
{
	uint64_t key = cell_key(slot, kind, entry);
	size_t mask = m->cell_ix.cap - 1;
	size_t h = mix64(key) & mask;
	for (int32_t i; (i = m->cell_ix.v[h]) >= 0; h = (h + 1) & mask) {
		if (m->cells[i].key == key)
			return &m->cells[i];
	}
	if (!force && m->ncells - m->nreserved >= m->max_cells)
		return entry == 0 ? NULL : cell_get(m, slot, kind, 0, true);
	if ((m->ncells + 1) * 2 > m->cell_ix.cap) {
		if (rehash_cells(m, m->cell_ix.cap * 2))
			return NULL;
		return cell_get(m, slot, kind, entry, force);
	}
	if (grow((void **)&m->cells, &m->cap_cells, m->ncells + 1, sizeof *m->cells))
		return NULL;
	int32_t i = (int32_t)m->ncells++;
	m->cells[i] = (struct cell){.key = key};
	m->cell_ix.v[h] = i;
	m->nreserved += force;
	return &m->cells[i];
}

/* ---- threads ---- */

static size_t slot_of(struct tc_top_model *m, const struct tc_top_thread_sample *t, int *err)
{
	for (size_t i = 0; i < m->nslots; i++) {
		if (m->slots[i].native_id == t->native_id && m->slots[i].thread_id == t->thread_id)
			return i;
	}
	size_t s = m->nslots < TC_TOP_MAX_THREADS ? m->nslots : OTHER_SLOT;
	if (s == OTHER_SLOT && m->other_used)
		return s;
	/* the "[other]" counters of a thread exist from the start, outside the bound */
	if (!cell_get(m, s, KIND_FUNC, 0, true) || !cell_get(m, s, KIND_LINE, 0, true)) {
		*err = -TC_ENOMEM;
		return OTHER_SLOT;
	}
	struct slot *sl = &m->slots[s];
	memset(sl, 0, sizeof *sl);
	if (s == OTHER_SLOT) {
		m->other_used = true;
	} else {
		sl->native_id = t->native_id;
		sl->thread_id = t->thread_id;
		sl->main = t->main;
		m->nslots++;
	}
	return s;
}

/* ---- the model ---- */

static int model_init(struct tc_top_model *m)
{
	struct index l = {0}, f = {0}, c = {0};
	if (index_init(&l, 256) || index_init(&f, 256) || index_init(&c, 1024)) {
		free(l.v);
		free(f.v);
		free(c.v);
		if (!m->line_ix.v || !m->func_ix.v || !m->cell_ix.v)
			return -TC_ENOMEM;
		/* a reset without memory for small indexes keeps the old ones, emptied */
		memset(m->line_ix.v, 0xff, m->line_ix.cap * sizeof *m->line_ix.v);
		memset(m->func_ix.v, 0xff, m->func_ix.cap * sizeof *m->func_ix.v);
		memset(m->cell_ix.v, 0xff, m->cell_ix.cap * sizeof *m->cell_ix.v);
	} else {
		free(m->line_ix.v);
		free(m->func_ix.v);
		free(m->cell_ix.v);
		m->line_ix = l;
		m->func_ix = f;
		m->cell_ix = c;
	}
	m->nlines = m->nfuncs = m->ncells = m->nreserved = 0;
	/* entry 0 of each table is "[other]" */
	struct tc_top_frame_desc other = {"", TC_TOP_OTHER_QUALNAME, -1, -1};
	if (line_entry(m, &other) != 0 || m->lines[0].func != 0)
		return -TC_ENOMEM;
	memset(m->slots, 0, sizeof m->slots);
	m->nslots = 0;
	m->other_used = false;
	if (m->ext)
		memset(m->ext, 0xff, m->next * sizeof *m->ext);
	m->serial = 1;
	if (m->line_stamp)
		memset(m->line_stamp, 0, m->cap_lstamp * sizeof *m->line_stamp);
	if (m->func_stamp)
		memset(m->func_stamp, 0, m->cap_fstamp * sizeof *m->func_stamp);
	m->have_prev = false;
	m->dt = m->interval;
	m->win_start = -1;
	m->reset_start = -1;
	m->win_instants = m->win_failed = m->win_gil_known = m->win_gil = 0;
	m->base_samples = m->samples;
	m->base_failed = m->failed;
	m->base_missed = m->missed;
	return 0;
}

struct tc_top_model *tc_top_model_new(size_t max_entries, double interval)
{
	struct tc_top_model *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->max_lines = max_entries ? max_entries : TC_TOP_DEFAULT_ENTRIES;
	if (m->max_lines > INT32_MAX / 8)
		m->max_lines = INT32_MAX / 8;
	m->max_cells = m->max_lines * 4;
	m->interval = interval > 0 ? interval : 0.01;
	if (model_init(m)) {
		tc_top_model_free(m);
		return NULL;
	}
	return m;
}

void tc_top_model_free(struct tc_top_model *m)
{
	if (!m)
		return;
	free(m->ext);
	free(m->lines);
	free(m->line_stamp);
	free(m->line_ix.v);
	free(m->funcs);
	free(m->func_stamp);
	free(m->func_ix.v);
	free(m->cells);
	free(m->cell_ix.v);
	free(m);
}

void tc_top_model_reset(struct tc_top_model *m)
{
	/* The arrays keep their capacity (bounded), so this cannot fail once the model exists:
	 * "[other]" goes back into room already allocated. */
	(void)model_init(m);
}

void tc_top_model_instant(struct tc_top_model *m, double time, bool failed,
			  size_t nthreads_total)
{
	double dt = m->interval;
	if (m->have_prev) {
		dt = time - m->prev_time;
		if (dt < 0)
			dt = 0;
		if (dt > MAX_DT)
			dt = MAX_DT;
	}
	m->dt = dt;
	m->prev_time = time;
	m->have_prev = true;
	if (m->win_start < 0)
		m->win_start = time - m->interval;
	if (m->reset_start < 0)
		m->reset_start = time - m->interval;
	m->win_instants++;
	m->inst_gil_known = m->inst_gil = false;
	if (failed) {
		m->win_failed++;
		return;
	}
	m->nthreads_total = nthreads_total;
}

void tc_top_model_counts(struct tc_top_model *m, uint64_t samples, uint64_t failed,
			 uint64_t missed)
{
	m->samples = samples;
	m->failed = failed;
	m->missed = missed;
}

/* Count one entry of the stack being counted: OWN when innermost, TOTAL when its first
 * occurrence in the stack. Counters past the bound fold into "[other]", which must still
 * count once per stack in total: OTHER_DONE remembers it per kind. */
static void count(struct tc_top_model *m, size_t slot, int kind, int32_t entry, bool own,
		  bool total, double dt, bool other_done[2], int *err)
{
	if (!own && !total)
		return;
	struct cell *c = cell_get(m, slot, kind, entry, false);
	if (!c) {
		*err = -TC_ENOMEM;
		return;
	}
	if ((uint32_t)c->key == 0) {
		if (other_done[kind])
			total = false;
		else if (total)
			other_done[kind] = true;
	}
	if (own) {
		c->win_own++;
		c->own_time += dt;
	}
	if (total) {
		c->win_total++;
		c->total_time += dt;
	}
}

int tc_top_model_add(struct tc_top_model *m, const struct tc_top_thread_sample *t,
		     tc_top_lookup_fn lookup, void *ctx)
{
	int err = 0;
	size_t s = slot_of(m, t, &err);
	if (err)
		return err;
	struct slot *sl = &m->slots[s];
	const double dt = m->dt;
	sl->win_seen = true;
	sl->win_samples++;
	sl->time += dt;
	if (t->holds_gil >= 0) {
		sl->win_gil_known++;
		sl->win_gil += t->holds_gil > 0;
		if (!m->inst_gil_known) {
			m->inst_gil_known = true;
			m->win_gil_known++;
		}
		if (t->holds_gil > 0 && !m->inst_gil) {
			m->inst_gil = true;
			m->win_gil++;
		}
	}
	if (t->on_cpu >= 0) {
		sl->win_cpu_known++;
		sl->win_cpu += t->on_cpu > 0;
	}
	if (t->n == 0)
		return 0;
	if (++m->serial == 0) {
		memset(m->line_stamp, 0, m->cap_lstamp * sizeof *m->line_stamp);
		memset(m->func_stamp, 0, m->cap_fstamp * sizeof *m->func_stamp);
		m->serial = 1;
	}
	const uint32_t serial = m->serial;
	bool other_done[2] = {false, false};
	for (size_t j = 0; j < t->n; j++) {
		int32_t li = line_of(m, t->frames[j], lookup, ctx);
		int32_t fi = m->lines[li].func;
		bool own = j == 0;
		bool ltot = m->line_stamp[li] != serial;
		bool ftot = m->func_stamp[fi] != serial;
		m->line_stamp[li] = serial;
		m->func_stamp[fi] = serial;
		count(m, s, KIND_LINE, li, own, ltot, dt, other_done, &err);
		count(m, s, KIND_FUNC, fi, own, ftot, dt, other_done, &err);
	}
	return err;
}

/* ---- snapshots ---- */

struct tc_top_snap *tc_top_snap_new(void)
{
	return calloc(1, sizeof(struct tc_top_snap));
}

void tc_top_snap_free(struct tc_top_snap *s)
{
	if (!s)
		return;
	free(s->lines);
	free(s->funcs);
	free(s->cells);
	free(s->acc);
	free(s->rows);
	free(s);
}

int tc_top_model_snap(struct tc_top_model *m, double now, struct tc_top_snap *s)
{
	s->nlines = s->nfuncs = s->ncells = s->nthreads = 0;
	if (grow((void **)&s->lines, &s->cap_lines, m->nlines, sizeof *s->lines) ||
	    grow((void **)&s->funcs, &s->cap_funcs, m->nfuncs, sizeof *s->funcs) ||
	    grow((void **)&s->cells, &s->cap_cells, m->ncells, sizeof *s->cells))
		return -TC_ENOMEM;
	/* an empty model has NULL arrays, and memcpy(NULL, ..., 0) is undefined (UBSan) */
	if (m->nlines)
		memcpy(s->lines, m->lines, m->nlines * sizeof *s->lines);
	if (m->nfuncs)
		memcpy(s->funcs, m->funcs, m->nfuncs * sizeof *s->funcs);
	if (m->ncells)
		memcpy(s->cells, m->cells, m->ncells * sizeof *s->cells);
	s->nlines = m->nlines;
	s->nfuncs = m->nfuncs;
	s->ncells = m->ncells;
	memcpy(s->slots, m->slots, sizeof s->slots);
	for (size_t i = 0; i < NSLOTS; i++) {
		if (i >= m->nslots && !(i == OTHER_SLOT && m->other_used))
			continue;
		const struct slot *sl = &m->slots[i];
		s->slot_of[s->nthreads] = (int)i;
		s->threads[s->nthreads++] = (struct tc_top_thread_info){
			.native_id = sl->native_id, .thread_id = sl->thread_id, .main = sl->main,
			.seen = sl->win_seen, .time = sl->time};
	}
	s->time = now;
	s->window = m->win_start >= 0 && now > m->win_start ? now - m->win_start : 0;
	s->since_reset = m->reset_start >= 0 && now > m->reset_start ? now - m->reset_start : 0;
	s->samples = m->samples - m->base_samples;
	s->failed = m->failed - m->base_failed;
	s->missed = m->missed - m->base_missed;
	s->win_instants = m->win_instants;
	s->win_failed = m->win_failed;
	s->win_gil_known = m->win_gil_known;
	s->win_gil = m->win_gil;
	s->nthreads_total = m->nthreads_total;

	/* close the window */
	for (size_t i = 0; i < m->ncells; i++)
		m->cells[i].win_own = m->cells[i].win_total = 0;
	for (size_t i = 0; i < NSLOTS; i++) {
		struct slot *sl = &m->slots[i];
		sl->win_seen = false;
		sl->win_samples = sl->win_gil_known = sl->win_gil = 0;
		sl->win_cpu_known = sl->win_cpu = 0;
	}
	m->win_instants = m->win_failed = m->win_gil_known = m->win_gil = 0;
	m->win_start = now;
	return 0;
}

static bool slot_selected(const struct tc_top_snap *s, size_t slot, const struct tc_top_query *q)
{
	if (!q || !q->one_thread)
		return true;
	return s->slots[slot].native_id == q->native_id && s->slots[slot].thread_id == q->thread_id;
}

static bool selected_slot_index(const struct tc_top_snap *s, size_t slot, const struct tc_top_query *q)
{
	/* only slots that were ever in use appear in threads[] */
	for (size_t i = 0; i < s->nthreads; i++) {
		if ((size_t)s->slot_of[i] == slot)
			return slot_selected(s, slot, q);
	}
	return false;
}

static const char *ci_strstr(const char *hay, const char *needle)
{
	if (!hay)
		return NULL;
	size_t n = strlen(needle);
	for (; *hay; hay++) {
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	}
	return n == 0 ? hay : NULL;
}

static double row_key(const struct tc_top_row *r, enum tc_top_sort k)
{
	switch (k) {
	case TC_TOP_SORT_TOTAL:
		return (double)r->total;
	case TC_TOP_SORT_OWN_TIME:
		return r->own_time;
	case TC_TOP_SORT_TOTAL_TIME:
		return r->total_time;
	default:
		return (double)r->own;
	}
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct tc_top_row *x = a, *y = b;
	enum tc_top_sort k = *(const enum tc_top_sort *)arg;
	/* the chosen column first, then the others in column order, then names: stable frames */
	double kx = row_key(x, k), ky = row_key(y, k);
	if (kx != ky)
		return kx < ky ? 1 : -1;
	for (int o = 0; o < TC_TOP_NSORT; o++) {
		kx = row_key(x, (enum tc_top_sort)o);
		ky = row_key(y, (enum tc_top_sort)o);
		if (kx != ky)
			return kx < ky ? 1 : -1;
	}
	int c = strcmp(x->qualname ? x->qualname : "", y->qualname ? y->qualname : "");
	if (c)
		return c;
	c = strcmp(x->file ? x->file : "", y->file ? y->file : "");
	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

size_t tc_top_snap_rows(struct tc_top_snap *s, const struct tc_top_query *q,
			const struct tc_top_row **rows)
{
	*rows = NULL;
	const int kind = q->by_line ? KIND_LINE : KIND_FUNC;
	const size_t nent = q->by_line ? s->nlines : s->nfuncs;
	if (grow((void **)&s->acc, &s->cap_acc, nent ? nent : 1, sizeof *s->acc))
		return 0;
	memset(s->acc, 0, nent * sizeof *s->acc);
	uint64_t denom = 0;
	bool sel[NSLOTS];
	for (size_t i = 0; i < NSLOTS; i++) {
		sel[i] = selected_slot_index(s, i, q);
		if (sel[i])
			denom += s->slots[i].win_samples;
	}
	for (size_t i = 0; i < s->ncells; i++) {
		const struct cell *c = &s->cells[i];
		size_t slot = (size_t)(c->key >> 33);
		if ((int)((c->key >> 32) & 1) != kind || slot >= NSLOTS || !sel[slot])
			continue;
		uint32_t e = (uint32_t)c->key;
		if (e >= nent)
			continue;
		struct acc *a = &s->acc[e];
		a->own += c->win_own;
		a->total += c->win_total;
		a->own_time += c->own_time;
		a->total_time += c->total_time;
		if (c->win_own || c->win_total || c->own_time > 0 || c->total_time > 0)
			a->present = true;
	}
	size_t n = 0;
	for (size_t e = 0; e < nent; e++)
		n += s->acc[e].present;
	if (grow((void **)&s->rows, &s->cap_rows, n ? n : 1, sizeof *s->rows))
		return 0;
	const char *filter = q->filter && *q->filter ? q->filter : NULL;
	n = 0;
	for (size_t e = 0; e < nent; e++) {
		const struct acc *a = &s->acc[e];
		if (!a->present)
			continue;
		const char *file, *qualname;
		int32_t line;
		if (q->by_line) {
			file = s->lines[e].file;
			qualname = s->lines[e].qualname;
			line = s->lines[e].line;
		} else {
			file = s->funcs[e].file;
			qualname = s->funcs[e].qualname;
			line = s->funcs[e].first_line;
		}
		if (filter && !ci_strstr(qualname, filter) && !ci_strstr(file, filter))
			continue;
		struct tc_top_row *r = &s->rows[n++];
		r->file = file;
		r->qualname = qualname;
		r->line = line;
		r->own = a->own;
		r->total = a->total;
		r->own_pct = denom ? 100.0 * (double)a->own / (double)denom : 0;
		r->total_pct = denom ? 100.0 * (double)a->total / (double)denom : 0;
		r->own_time = a->own_time;
		r->total_time = a->total_time;
	}
	enum tc_top_sort k = q->sort < TC_TOP_NSORT ? q->sort : TC_TOP_SORT_OWN;
	qsort_r(s->rows, n, sizeof *s->rows, cmp_rows, &k);
	*rows = s->rows;
	return n;
}

void tc_top_snap_summary(const struct tc_top_snap *s, const struct tc_top_query *q,
			 struct tc_top_summary *out)
{
	memset(out, 0, sizeof *out);
	out->time = s->time;
	out->window = s->window;
	out->since_reset = s->since_reset;
	out->samples = s->samples;
	out->failed = s->failed;
	out->missed = s->missed;
	out->win_instants = s->win_instants;
	out->win_failed = s->win_failed;
	out->rate = s->window > 0 ? (double)s->win_instants / s->window : 0;
	out->threads_total = s->nthreads_total;
	uint64_t gk = 0, g = 0, ck = 0, c = 0;
	for (size_t i = 0; i < NSLOTS; i++) {
		if (!selected_slot_index(s, i, q))
			continue;
		const struct slot *sl = &s->slots[i];
		out->win_thread_samples += sl->win_samples;
		out->threads_seen += sl->win_seen;
		gk += sl->win_gil_known;
		g += sl->win_gil;
		ck += sl->win_cpu_known;
		c += sl->win_cpu;
	}
	if (!q || !q->one_thread) {
		/* all threads: the share of instants in which some thread held the GIL */
		gk = s->win_gil_known;
		g = s->win_gil;
	}
	out->gil = gk ? (double)g / (double)gk : -1;
	out->cpu = ck ? (double)c / (double)ck : -1;
	out->idle = ck ? 1.0 - out->cpu : -1;
}

size_t tc_top_snap_nthreads(const struct tc_top_snap *s)
{
	return s->nthreads;
}

const struct tc_top_thread_info *tc_top_snap_thread(const struct tc_top_snap *s, size_t i)
{
	return i < s->nthreads ? &s->threads[i] : NULL;
}

/* ---- memory ---- */

void tc_top_memstate_init(struct tc_top_memstate *st)
{
	memset(st, 0, sizeof *st);
	st->last_collections = -1;
	st->last = (struct tc_top_memory){-1, -1, -1, -1, -1, -1};
}

void tc_top_memory_from_reading(struct tc_top_memstate *st, const struct tc_alloc_reading *r,
				struct tc_top_memory *out)
{
	const struct tc_alloc_walk *w = &r->walk;

	if (r->seq && r->seq == st->seq) {
		*out = st->last;
		return;
	}
	*out = (struct tc_top_memory){-1, -1, -1, -1, -1, -1};
	out->rss = w->sum.rss_bytes; /* -1 when unknown */
	out->rss_anon = w->sum.rss_anon_bytes;
	if (r->walked && !w->why && w->bytes_in_use >= 0)
		out->pymalloc_bytes = w->bytes_in_use;
	if (!w->sum.why_pymalloc)
		out->arenas = w->sum.arenas_current;
	if (!w->sum.why_gc) {
		int64_t c = 0;
		for (int g = 0; g < 3; g++)
			c += w->sum.gen[g].collections >= 0 ? w->sum.gen[g].collections : 0;
		if (st->last_collections >= 0 && r->time > st->last_time && c >= st->last_collections)
			out->gc_per_sec = (double)(c - st->last_collections) / (r->time - st->last_time);
		st->last_collections = c;
		st->last_time = r->time;
	}
	if (r->ticks)
		out->gc_running = (double)r->collecting / r->ticks;
	st->seq = r->seq;
	st->last = *out;
}

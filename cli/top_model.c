/* SPDX-License-Identifier: MIT */
/* Aggregation for `tachyon-c top`: per-thread counters per function and per line, refresh
 * windows, copies into snapshots (see top_model.h; the queries of a snapshot are in
 * top_query.c), and the arithmetic of the memory line. No ncurses, no locks, no I/O.
 *
 * Frame ids from the profile are dense, so the hot path is array indexing: frame id -> line
 * entry (ext[]), line entry -> function entry, then one hash lookup per (thread, entry)
 * counter. Entries are found by content (file, qualname, line) only the first time an id is
 * seen. Recursion is counted once per stack in "total" with a per-entry stamp of the stack
 * being counted. */
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/vec.h"
#include "cli/top_model.h"
#include "cli/top_model_int.h"
#include "daemon/alloc_monitor.h"
#include "tc/common.h"

#define MAX_EXT_IDS (1u << 20) /* frame ids past this count as "[other]" (4 MiB map) */
#define MAX_DT 1.0             /* weight of one instant at most (a stalled sampler) */

/* ---- small helpers ---- */

static bool str_eq(const char *a, const char *b)
{
	if (a == b)
		return true;
	if (!a || !b)
		return false;
	return strcmp(a, b) == 0;
}

/* Hash of a possibly NULL string (NULL hashes like ""; str_eq still tells them apart). */
static uint64_t str_hash(const char *s)
{
	return tc_hash_str(s ? s : "");
}

/* tc_vec_reserve that zeroes the new part */
static int reserve_zero(void **v, size_t *cap, size_t elem, size_t need)
{
	size_t old = *cap;
	if (tc_vec_reserve(v, cap, elem, need))
		return -TC_ENOMEM;
	if (*cap > old)
		memset((char *)*v + old * elem, 0, (*cap - old) * elem);
	return 0;
}

/* Empty IX for a new start: a fresh small table when there is memory for one (a reset gives
 * back what the old counts held), else the old table emptied in place. */
static void hindex_restart(struct tc_hindex *ix)
{
	struct tc_hindex fresh = {0};
	if (tc_hindex_reserve(&fresh) == 0) {
		tc_hindex_free(ix);
		*ix = fresh;
	} else if (ix->slots) {
		memset(ix->slots, 0, ix->cap * sizeof *ix->slots);
		ix->used = 0;
	}
}

/* The same for the counter map, sized for EXPECT entries. */
static void intmap_restart(struct tc_intmap *map, size_t expect)
{
	struct tc_intmap fresh;
	if (tc_intmap_init(&fresh, expect) == 0) {
		tc_intmap_free(map);
		*map = fresh;
	} else {
		tc_intmap_clear(map);
	}
}

/* ---- entries ---- */

/* Index hashes (the low bits pick the slot, so fully mixed). */
static uint32_t func_hash(const char *file, const char *qualname)
{
	return (uint32_t)tc_hash_fmix(tc_hash_combine(str_hash(file), str_hash(qualname)));
}

static uint32_t line_hash(const char *file, const char *qualname, int32_t line)
{
	uint64_t h = tc_hash_combine(str_hash(file), str_hash(qualname));
	return (uint32_t)tc_hash_fmix(tc_hash_combine(h, (uint32_t)line));
}

/* Function entry for (FILE, QUALNAME), created when new. Returns its index or -TC_ENOMEM. */
static int32_t func_entry(struct tc_top_model *m, const char *file, const char *qualname,
			  int32_t first_line)
{
	const uint32_t h = func_hash(file, qualname);
	for (size_t cur = TC_HINDEX_START, i; tc_hindex_next(&m->func_ix, h, &cur, &i);) {
		if (str_eq(m->funcs[i].file, file) && str_eq(m->funcs[i].qualname, qualname))
			return (int32_t)i;
	}
	if (tc_hindex_reserve(&m->func_ix) ||
	    reserve_zero((void **)&m->func_stamp, &m->cap_fstamp, sizeof *m->func_stamp, m->nfuncs + 1) ||
	    tc_vec_reserve((void **)&m->funcs, &m->cap_funcs, sizeof *m->funcs, m->nfuncs + 1))
		return -TC_ENOMEM;
	int32_t i = (int32_t)m->nfuncs++;
	m->funcs[i] = (struct func_ent){file, qualname, first_line};
	tc_hindex_insert(&m->func_ix, h, (size_t)i);
	return i;
}

/* Line entry for D, created when new and under the bound, else 0 ("[other]"). Returns the
 * index, or -TC_ENOMEM. */
static int32_t line_entry(struct tc_top_model *m, const struct tc_top_frame_desc *d)
{
	const uint32_t h = line_hash(d->file, d->qualname, d->line);
	for (size_t cur = TC_HINDEX_START, i; tc_hindex_next(&m->line_ix, h, &cur, &i);) {
		const struct line_ent *e = &m->lines[i];
		if (i > 0 && e->line == d->line && str_eq(e->file, d->file) &&
		    str_eq(e->qualname, d->qualname))
			return (int32_t)i;
	}
	if (m->nlines >= m->max_lines + 1)
		return 0;
	if (tc_hindex_reserve(&m->line_ix))
		return -TC_ENOMEM;
	int32_t f = func_entry(m, d->file, d->qualname, d->first_line);
	if (f < 0)
		return f;
	if (reserve_zero((void **)&m->line_stamp, &m->cap_lstamp, sizeof *m->line_stamp, m->nlines + 1) ||
	    tc_vec_reserve((void **)&m->lines, &m->cap_lines, sizeof *m->lines, m->nlines + 1))
		return -TC_ENOMEM;
	int32_t i = (int32_t)m->nlines++;
	m->lines[i] = (struct line_ent){d->file, d->qualname, d->line, d->first_line, f};
	tc_hindex_insert(&m->line_ix, h, (size_t)i);
	return i;
}

/* Line entry of frame id ID (resolving it on first sight); 0 for "[other]". */
static int32_t line_of(struct tc_top_model *m, int32_t id, tc_top_lookup_fn lookup, void *ctx)
{
	if (id < 0 || (uint32_t)id >= MAX_EXT_IDS)
		return 0;
	if ((size_t)id >= m->next) {
		size_t old = m->next;
		if (tc_vec_reserve((void **)&m->ext, &m->next, sizeof *m->ext, (size_t)id + 1))
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

/* Counter of (SLOT, KIND, ENTRY); past the bound (unless FORCE) that thread's "[other]"
 * counter. NULL only when out of memory. */
static struct cell *cell_get(struct tc_top_model *m, size_t slot, int kind, int32_t entry,
			     bool force)
{
	const uint64_t key = cell_key(slot, kind, entry);
	uint32_t i;
	if (tc_intmap_get(&m->cell_ix, key, &i))
		return &m->cells[i];
	if (!force && m->ncells - m->nreserved >= m->max_cells)
		return entry == 0 ? NULL : cell_get(m, slot, kind, 0, true);
	if (tc_vec_reserve((void **)&m->cells, &m->cap_cells, sizeof *m->cells, m->ncells + 1) ||
	    tc_intmap_put(&m->cell_ix, key, (uint32_t)m->ncells))
		return NULL;
	i = (uint32_t)m->ncells++;
	m->cells[i] = (struct cell){.key = key};
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
	/* a reset keeps the arrays (bounded) but starts the indexes small again */
	hindex_restart(&m->line_ix);
	hindex_restart(&m->func_ix);
	intmap_restart(&m->cell_ix, 512);
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
	tc_hindex_free(&m->line_ix);
	free(m->funcs);
	free(m->func_stamp);
	tc_hindex_free(&m->func_ix);
	free(m->cells);
	tc_intmap_free(&m->cell_ix);
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

int tc_top_model_snap(struct tc_top_model *m, double now, struct tc_top_snap *s)
{
	s->nlines = s->nfuncs = s->ncells = s->nthreads = 0;
	if (tc_vec_reserve((void **)&s->lines, &s->cap_lines, sizeof *s->lines, m->nlines) ||
	    tc_vec_reserve((void **)&s->funcs, &s->cap_funcs, sizeof *s->funcs, m->nfuncs) ||
	    tc_vec_reserve((void **)&s->cells, &s->cap_cells, sizeof *s->cells, m->ncells))
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

/* SPDX-License-Identifier: MIT */
/* Queries of a `top` snapshot (see top_model.h): rows per function or per line for one
 * thread or all, filtered (case-insensitive substring) and sorted, the header's summary, and
 * the threads. Everything here reads a snapshot the UI thread owns: no lock, no I/O. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/vec.h"
#include "cli/top_model.h"
#include "cli/top_model_int.h"
#include "tc/common.h"

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
	if (tc_vec_reserve((void **)&s->acc, &s->cap_acc, sizeof *s->acc, nent ? nent : 1))
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
	if (tc_vec_reserve((void **)&s->rows, &s->cap_rows, sizeof *s->rows, n ? n : 1))
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

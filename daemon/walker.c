/* SPDX-License-Identifier: MIT */
/* The walker. See walker.h. */
#include "daemon/walker.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/hindex.h"
#include "base/vec.h"

#include "daemon/source.h"
#include "daemon/walk_ctx.h"
#include "layouts/layout.h"

/* (code, instruction offset, known line) -> profile frame id: entries in an array, found
 * through a hash index (base/hindex.h). */
struct fkey {
	tc_raddr code;
	int64_t addr;
	uint32_t serial; /* which code object was at CODE (tc_raw_frame.serial) */
	int32_t lineno;
	int32_t id;
};

struct fmap {
	struct fkey *v;
	size_t cap, n;
	struct tc_hindex ix;
};

/* Entries at most; then the memo starts over (profile ids stay valid). */
#define FMAP_MAX (1u << 20)

struct tc_walker {
	struct tc_walk_ctx x;          /* target, readers, walk memo */
	struct tc_remote *own;         /* the walker's own reader of a live target (x.rd.mem) */
	struct tc_walker_opts o;
	struct tc_code_cache *cc;
	struct tc_snapshot snap;       /* snap.memo: the chain memo */
	/* resolution into one profile */
	const struct tc_profile *bound;/* the profile FM and FC hold ids of */
	uint64_t code_gen;             /* code-object generation FM and FC are valid for */
	struct fmap fm;
	struct tc_frame_cache *fc;     /* last stack of each thread, with ids and nodes */
	int32_t *lv_ids, *lv_nodes;    /* levels of a stack the frame cache cannot hold */
	size_t cap_lv_ids, cap_lv_nodes;
	int32_t trunc_id;              /* frame id of the TC_TRUNCATED_NAME marker, -1 until used */
	int32_t unconf_id;             /* frame id of the TC_UNCONFIRMED_NAME marker, -1 until used */
	uint64_t frame_hits, frame_misses, retries;
};

static uint32_t fhash(const struct tc_raw_frame *f)
{
	uint64_t h = tc_hash_pair(f->code ^ ((uint64_t)f->serial << 48), (uint64_t)f->addr);
	return (uint32_t)tc_hash_fmix(h ^ (uint32_t)f->lineno);
}

static bool fkey_is(const struct fkey *k, const struct tc_raw_frame *f)
{
	return k->code == f->code && k->addr == f->addr && k->lineno == f->lineno &&
	       k->serial == f->serial;
}

/* The id memoised for F, or -1. */
static int32_t fmap_get(const struct fmap *m, const struct tc_raw_frame *f, uint32_t h)
{
	for (size_t cur = TC_HINDEX_START, pos; tc_hindex_next(&m->ix, h, &cur, &pos);)
		if (fkey_is(&m->v[pos], f))
			return m->v[pos].id;
	return -1;
}

static void fmap_clear(struct fmap *m)
{
	tc_hindex_free(&m->ix);
	m->n = 0;
}

/* Memoise ID for F (not there yet). */
static int fmap_put(struct fmap *m, const struct tc_raw_frame *f, uint32_t h, int32_t id)
{
	if (m->n >= FMAP_MAX)
		fmap_clear(m);
	int err = tc_vec_reserve((void **)&m->v, &m->cap, sizeof *m->v, m->n + 1);
	if (!err)
		err = tc_hindex_reserve(&m->ix);
	if (err)
		return err;
	m->v[m->n] = (struct fkey){f->code, f->addr, f->serial, f->lineno, id};
	tc_hindex_insert(&m->ix, h, m->n++);
	return 0;
}

int tc_walker_new(const struct tc_target *t, const struct tc_walker_opts *o,
		  struct tc_walker **out)
{
	*out = NULL;
	/* the walk checks no offset: every structure must fit its buffers */
	if (tc_layout_walkable(&t->layout) != 0)
		return -TC_EINVAL;
	struct tc_walker *w = calloc(1, sizeof *w);
	int err = -TC_ENOMEM;
	if (!w)
		return err;
	tc_walk_ctx_init(&w->x, t);
	if (o)
		w->o = *o;
	if (!w->o.tries)
		w->o.tries = TC_WALKER_TRIES;
	w->trunc_id = w->unconf_id = -1;
	/* a reader of its own (its scratch iovecs and counters are not shared with another
	 * walker's thread); an image (tests) has no process to open again */
	if (tc_remote_pid(t->mem) > 0) {
		err = tc_remote_open(t->pid, &w->own);
		if (err)
			goto fail;
		w->x.rd.mem = w->own;
	}
	if (!w->o.direct) {
		err = tc_prefetch_new(w->x.rd.mem, 0, 0, &w->x.rd.pf);
		if (!err)
			err = tc_page_cache_new(w->x.rd.mem, 0, &w->x.rd.pc);
		if (err)
			goto fail;
	}
	err = -TC_ENOMEM;
	w->cc = tc_code_cache_new(w->o.code_cache_max);
	if (!w->cc)
		goto fail;
	if (!w->o.no_chain_memo && !(w->snap.memo = tc_chain_memo_new()))
		goto fail;
	if (!w->o.no_frame_cache && !(w->fc = tc_frame_cache_new()))
		goto fail;
	*out = w;
	return 0;
fail:
	tc_walker_free(w);
	return err;
}

void tc_walker_free(struct tc_walker *w)
{
	if (!w)
		return;
	tc_chain_memo_free(w->snap.memo);
	tc_snapshot_free(&w->snap);
	tc_code_cache_free(w->cc);
	tc_frame_cache_free(w->fc);
	tc_prefetch_free(w->x.rd.pf);
	tc_page_cache_free(w->x.rd.pc);
	tc_remote_free(w->own);
	free(w->fm.v);
	tc_hindex_free(&w->fm.ix);
	free(w->lv_ids);
	free(w->lv_nodes);
	free(w);
}

const struct tc_target *tc_walker_target(const struct tc_walker *w)
{
	return w->x.t;
}

/* Is a thread's stack cut for a reason a new walk may not meet (a frame read mid-change), or
 * torn (its second read disagreed)? A stack deeper than the walker follows is cut the same way
 * every time. */
static bool any_torn(const struct tc_snapshot *s)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].torn || (s->threads[i].truncated && !s->threads[i].deep))
			return true;
	return false;
}

int tc_walker_take(struct tc_walker *w, unsigned flags, const struct tc_snapshot **out)
{
	int err = 0;
	w->snap.flags = flags;
	for (unsigned attempt = 0; attempt < w->o.tries; attempt++) {
		if (attempt) {
			w->retries++;
			w->snap.flags &= ~(unsigned)TC_UNWIND_CACHED_HEAD;
		}
		err = tc_unwind(&w->x, w->cc, &w->snap);
		/* a stack cut mid-change is walked again; after the last try the other threads
		 * are kept and that one is recorded as cut, never as whole (or left out when
		 * its second read still disagreed) */
		if (err == 0 && attempt + 1 < w->o.tries && any_torn(&w->snap))
			err = -TC_ECORRUPT;
		if (err == 0 || err == -TC_ESRCH || err == -TC_EPERM || err == -TC_ENOMEM)
			break;
	}
	*out = err ? NULL : &w->snap;
	return err;
}

int tc_walker_resolve(struct tc_walker *w, const struct tc_raw_frame *f,
		      const struct tc_code_info **ci, int32_t *line)
{
	int err = tc_code_cache_get(w->cc, &w->x, f->code, ci);
	if (err)
		return err;
	*line = f->lineno;
	if (*line < 0 && f->addr != INT64_MIN)
		*line = tc_code_line(&w->x.t->layout, *ci, f->addr);
	return 0;
}

/* Profile frame id of a raw frame. */
static int frame_id(struct tc_walker *w, struct tc_profile *p, const struct tc_raw_frame *f,
		    int32_t *id)
{
	const uint32_t h = fhash(f);
	int32_t known = fmap_get(&w->fm, f, h);
	if (known >= 0) {
		w->frame_hits++;
		*id = known;
		return 0;
	}
	w->frame_misses++;
	const struct tc_code_info *ci;
	int32_t line;
	int err = tc_walker_resolve(w, f, &ci, &line);
	if (err)
		return err;
	int32_t pid = tc_profile_frame(p, ci->filename, ci->name, ci->qualname, line,
				       ci->firstlineno);
	if (pid < 0)
		return pid;
	err = fmap_put(&w->fm, f, h, pid);
	if (err)
		return err;
	*id = pid;
	return 0;
}

/* Forget every frame id (they belong to another profile, or code objects were freed). */
static void forget_ids(struct tc_walker *w)
{
	fmap_clear(&w->fm);
	if (w->fc) {
		tc_frame_cache_free(w->fc);
		w->fc = tc_frame_cache_new(); /* NULL: sample without it */
	}
}

void tc_walker_begin_record(struct tc_walker *w, struct tc_profile *p, uint64_t sample)
{
	if (w->bound != p) {
		w->bound = p;
		w->trunc_id = w->unconf_id = -1;
		if (w->fm.n)
			forget_ids(w);
	}
	/* The walk saw a new code-object generation (3.14+: code objects were freed, and an
	 * address may now hold another one): the (code, offset) memo and the frame cache go.
	 * The walk has already emptied the code cache. Frame ids in the profile stay valid. */
	if (w->snap.code_generation != w->code_gen) {
		w->code_gen = w->snap.code_generation;
		forget_ids(w);
	}
	if (w->fc)
		tc_frame_cache_begin(w->fc, sample);
}

/* The id of marker frame NAME, interned on first use into *ID. */
static int marker(struct tc_profile *p, const char *name, int32_t *id)
{
	if (*id < 0)
		*id = tc_profile_frame(p, name, name, name, -1, -1);
	return *id < 0 ? *id : 0;
}

int tc_walker_intern(struct tc_walker *w, struct tc_profile *p, const struct tc_thread_stack *ts,
		     int32_t *leaf, const int32_t **ids_bu)
{
	const struct tc_raw_frame *f = w->snap.frames + ts->first;
	size_t n = ts->n, keep = 0;
	int err;
	/* a cut stack starts at the marker frame, and is not cached (its bottom is not the
	 * thread's bottom); an unconfirmed top ends at the other marker (not cached either) */
	const size_t mark = ts->truncated ? 1 : 0, top = ts->top_unconfirmed ? 1 : 0;
	struct tc_fc_thread *th = w->fc && !mark && !top ?
		tc_frame_cache_thread(w->fc, ts->tstate, ts->thread_id) : NULL;
	if (th) {
		keep = tc_frame_cache_match(th, f, n);
		if (tc_frame_cache_reserve(w->fc, th, n) != 0) {
			th = NULL;
			keep = 0;
		}
	}
	int32_t *ids, *nodes;
	if (th) {
		ids = th->ids;
		nodes = th->nodes;
	} else {
		if (tc_vec_reserve((void **)&w->lv_ids, &w->cap_lv_ids, sizeof *ids, n + mark + top) ||
		    tc_vec_reserve((void **)&w->lv_nodes, &w->cap_lv_nodes, sizeof *nodes,
				   n + mark + top))
			return -TC_ENOMEM;
		ids = w->lv_ids;
		nodes = w->lv_nodes;
	}
	int32_t node = keep ? nodes[keep - 1] : TC_PROFILE_ROOT;
	if (mark) {
		if ((err = marker(p, TC_TRUNCATED_NAME, &w->trunc_id)) != 0)
			return err;
		ids[0] = w->trunc_id;
		node = tc_profile_node(p, node, w->trunc_id);
		if (node < 0)
			return node;
		nodes[0] = node;
		ids++;
		nodes++;
	}
	for (size_t lv = keep; lv < n; lv++) {
		err = frame_id(w, p, &f[n - 1 - lv], &ids[lv]);
		if (!err) {
			node = tc_profile_node(p, node, ids[lv]);
			if (node < 0)
				err = node;
		}
		if (err) {
			if (th)
				th->n = 0; /* levels were overwritten: nothing cached is valid */
			return err;
		}
		nodes[lv] = node;
	}
	if (top) {
		if ((err = marker(p, TC_UNCONFIRMED_NAME, &w->unconf_id)) != 0)
			return err;
		ids[n] = w->unconf_id;
		node = tc_profile_node(p, node, w->unconf_id);
		if (node < 0)
			return node;
		nodes[n] = node;
	}
	if (th)
		tc_frame_cache_store(w->fc, th, f, n, keep);
	*leaf = node;
	*ids_bu = ids - mark;
	return 0;
}

void tc_walker_get_stats(const struct tc_walker *w, struct tc_source_stats *out)
{
	memset(out, 0, sizeof *out);
	tc_remote_get_stats(w->x.rd.mem, &out->io);
	if (w->x.rd.pf)
		tc_prefetch_get_stats(w->x.rd.pf, &out->pf);
	if (w->x.rd.pc)
		tc_page_cache_get_stats(w->x.rd.pc, &out->pages);
	tc_code_cache_get_stats(w->cc, &out->code);
	if (w->fc)
		tc_frame_cache_get_stats(w->fc, &out->fc);
	if (w->snap.memo)
		tc_chain_memo_get_stats(w->snap.memo, &out->chain);
	out->frame_hits = w->frame_hits;
	out->frame_misses = w->frame_misses;
	out->retries = w->retries;
}

size_t tc_walker_batch(const struct tc_walker *w, tc_raddr *addr, size_t *len, size_t max)
{
	return w->x.rd.pf ? tc_prefetch_batch(w->x.rd.pf, addr, len, max) : 0;
}

/* The walker as a sample source. */
static int src_take(struct tc_source *s, unsigned flags, const struct tc_snapshot **out)
{
	return tc_walker_take(s->impl, flags, out);
}

static void src_begin_record(struct tc_source *s, struct tc_profile *p, uint64_t sample)
{
	tc_walker_begin_record(s->impl, p, sample);
}

static int src_intern(struct tc_source *s, struct tc_profile *p, const struct tc_thread_stack *ts,
		      int32_t *leaf, const int32_t **ids_bu)
{
	return tc_walker_intern(s->impl, p, ts, leaf, ids_bu);
}

static bool src_execed(struct tc_source *s)
{
	return tc_target_execed(tc_walker_target(s->impl));
}

static void src_get_stats(struct tc_source *s, struct tc_source_stats *out)
{
	tc_walker_get_stats(s->impl, out);
}

static const struct tc_source_ops walker_ops = {
	.take = src_take,
	.begin_record = src_begin_record,
	.intern = src_intern,
	.execed = src_execed,
	.get_stats = src_get_stats,
};

void tc_walker_source(struct tc_walker *w, struct tc_source *out)
{
	*out = (struct tc_source){.ops = &walker_ops, .impl = w, .pid = w->x.t->pid};
}

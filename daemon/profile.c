/* SPDX-License-Identifier: MIT */
/* Aggregation of samples into interned frames and stacks, with per-thread counts.
 *
 * Interning, each an open-addressing index over an append-only array: strings (every
 * distinct string stored once, so equal strings share one pointer), frames (file, name,
 * qualname, line, first_line -> frame id), stack nodes (parent node, frame id -> node id: a
 * stack is the node of its innermost frame, and all stacks form one tree rooted at node 0,
 * the empty stack), threads, and per thread its stacks (node -> count). Keys that are
 * integers (nodes, a thread's stacks) use base/intmap; keys compared by content (strings,
 * frames, threads) base/hindex. Both keep their tables at most half full and grow them only
 * when a new key is inserted: recording a sample whose frames and stack were all seen before
 * hashes, compares and adds, nothing else. A caller that knows the node of a stack's lower
 * part (the sampler does, for the part of a stack unchanged since the last sample) interns
 * only the frames above it.
 *
 * Growth is unbounded for now: a profile holds every distinct stack it was given. */
#include "daemon/profile.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/hindex.h"
#include "base/intmap.h"
#include "base/vec.h"
#include "tc/common.h"

#define TC_UNKNOWN_STR "<unknown>"

/* A node of the stack tree: the stack made of FRAME on top of the stack PARENT. */
struct tc_node {
	int32_t parent; /* -1 for the root */
	int32_t frame;  /* -1 for the root */
	uint32_t depth; /* frames in the stack */
};

/* A distinct stack of one thread, with its count. */
struct tc_stack {
	int32_t node;
	uint64_t count;
};

struct tc_thread {
	uint64_t native_id;
	uint64_t ident;
	uint64_t total;
	struct tc_stack *stacks;
	size_t nstacks, capstacks;
	struct tc_intmap index; /* node -> position in stacks */
};

/* Frames of one stack, materialised for a reader (tc_profile_thread_stack). */
struct tc_scratch {
	int32_t *ids;
	size_t cap;
};

struct tc_profile {
	struct tc_profile_meta meta; /* strings owned */
	struct tc_profile_stats stats;

	char **strs; /* interned strings, owned */
	size_t nstrs, capstrs;
	struct tc_hindex str_index;

	struct tc_pframe *frames; /* strings point into strs */
	size_t nframes, capframes;
	struct tc_hindex frame_index;

	struct tc_node *nodes; /* nodes[0] is the root: the empty stack */
	size_t nnodes, capnodes;
	struct tc_intmap node_index; /* (parent, frame) -> node */

	struct tc_thread *threads;
	size_t nthreads, capthreads;
	struct tc_hindex thread_index;

	struct tc_scratch *scratch;

	uint64_t total;
};

/* ---- hashing ---- */

/* A 64-bit hash folded to the 32 bits an index slot keeps. */
static uint32_t tc_fold(uint64_t h)
{
	return (uint32_t)tc_hash_fmix(h);
}

/* Hash of a frame key by content, so a lookup needs no interning first. */
static uint32_t tc_hash_frame(const char *file, const char *name, const char *qualname,
			      int32_t line, int32_t first_line)
{
	uint64_t h = tc_hash_str(file);
	h = tc_hash_combine(h, tc_hash_str(name));
	h = tc_hash_combine(h, tc_hash_str(qualname));
	h = tc_hash_combine(h, (uint32_t)line);
	h = tc_hash_combine(h, (uint32_t)first_line);
	return tc_fold(h);
}

/* Hash of a thread key. */
static uint32_t tc_hash_thread(uint64_t native_id, uint64_t ident)
{
	return tc_fold(tc_hash_combine(native_id, ident));
}

/* Key of a node in the node map: its parent and frame, both non-negative. */
static uint64_t tc_node_key(int32_t parent, int32_t frame)
{
	return (uint64_t)(uint32_t)parent << 32 | (uint32_t)frame;
}

/* ---- strings ---- */

/* Return the profile's copy of S, adding it on first sight, or NULL on allocation failure. */
static const char *tc_intern(struct tc_profile *p, const char *s)
{
	uint32_t hash = tc_fold(tc_hash_str(s));
	char *copy = NULL;
	const char *ret = NULL;

	for (size_t cur = TC_HINDEX_START, pos; tc_hindex_next(&p->str_index, hash, &cur, &pos);) {
		if (!strcmp(p->strs[pos], s)) {
			ret = p->strs[pos];
			goto out;
		}
	}
	if (p->nstrs >= UINT32_MAX - 1)
		goto out;
	if (tc_vec_reserve((void **)&p->strs, &p->capstrs, sizeof(*p->strs), p->nstrs + 1) ||
	    tc_hindex_reserve(&p->str_index))
		goto out;
	copy = strdup(s);
	if (!copy)
		goto out;
	p->strs[p->nstrs] = copy;
	tc_hindex_insert(&p->str_index, hash, p->nstrs);
	p->nstrs++;
	ret = copy;
out:
	return ret;
}

/* strdup that keeps NULL as NULL. Sets *FAILED when a non-NULL string could not be copied. */
static char *tc_dup_opt(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

/* ---- the profile ---- */

/* Meta strings are duplicated; a NULL META gives zeros and NULL strings. */
struct tc_profile *tc_profile_new(const struct tc_profile_meta *meta)
{
	struct tc_profile *p = calloc(1, sizeof(*p));
	bool failed = false;

	if (!p)
		goto out;
	p->scratch = calloc(1, sizeof(*p->scratch));
	p->nodes = malloc(16 * sizeof(*p->nodes));
	if (!p->scratch || !p->nodes)
		failed = true;
	else {
		p->capnodes = 16;
		p->nodes[0] = (struct tc_node){-1, -1, 0};
		p->nnodes = 1;
	}
	if (meta) {
		p->meta.pid = meta->pid;
		p->meta.rate_hz = meta->rate_hz;
		p->meta.python_version = tc_dup_opt(meta->python_version, &failed);
		p->meta.command = tc_dup_opt(meta->command, &failed);
		p->meta.mode = tc_dup_opt(meta->mode, &failed);
	}
	if (failed) {
		tc_profile_free(p);
		p = NULL;
	}
out:
	return p;
}

/* Frees every interned string, frame, thread and stack, then P. */
void tc_profile_free(struct tc_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nthreads; i++) {
		free(p->threads[i].stacks);
		tc_intmap_free(&p->threads[i].index);
	}
	free(p->nodes);
	tc_intmap_free(&p->node_index);
	if (p->scratch)
		free(p->scratch->ids);
	free(p->scratch);
	free(p->threads);
	tc_hindex_free(&p->thread_index);
	free(p->frames);
	tc_hindex_free(&p->frame_index);
	for (size_t i = 0; i < p->nstrs; i++)
		free(p->strs[i]);
	free(p->strs);
	tc_hindex_free(&p->str_index);
	free((char *)p->meta.python_version);
	free((char *)p->meta.command);
	free((char *)p->meta.mode);
	free(p);
}

/* Probe by content first; strings are interned only for a new frame. */
int32_t tc_profile_frame(struct tc_profile *p, const char *file, const char *name,
			 const char *qualname, int32_t line, int32_t first_line)
{
	struct tc_pframe f;
	uint32_t hash;
	int32_t ret = -TC_ENOMEM;

	file = file ? file : TC_UNKNOWN_STR;
	name = name ? name : TC_UNKNOWN_STR;
	qualname = qualname ? qualname : TC_UNKNOWN_STR;
	hash = tc_hash_frame(file, name, qualname, line, first_line);

	for (size_t cur = TC_HINDEX_START, pos; tc_hindex_next(&p->frame_index, hash, &cur, &pos);) {
		const struct tc_pframe *g = &p->frames[pos];

		if (g->line == line && g->first_line == first_line && !strcmp(g->qualname, qualname) &&
		    !strcmp(g->name, name) && !strcmp(g->file, file)) {
			ret = (int32_t)pos;
			goto out;
		}
	}

	/* Frame ids are int32_t: refuse the 2^31st distinct frame as if memory ran out. */
	if (p->nframes >= INT32_MAX)
		goto out;
	f.file = tc_intern(p, file);
	f.name = tc_intern(p, name);
	f.qualname = tc_intern(p, qualname);
	f.line = line;
	f.first_line = first_line;
	if (!f.file || !f.name || !f.qualname)
		goto out;
	if (tc_vec_reserve((void **)&p->frames, &p->capframes, sizeof(*p->frames), p->nframes + 1) ||
	    tc_hindex_reserve(&p->frame_index))
		goto out;
	p->frames[p->nframes] = f;
	tc_hindex_insert(&p->frame_index, hash, p->nframes);
	ret = (int32_t)p->nframes++;
out:
	return ret;
}

/* Return the thread keyed by (NATIVE_ID, IDENT), creating it on first sight; NULL when
 * out of memory. */
static struct tc_thread *tc_profile_thread(struct tc_profile *p, uint64_t native_id,
					   uint64_t ident)
{
	uint32_t hash = tc_hash_thread(native_id, ident);
	struct tc_thread *t = NULL;

	for (size_t cur = TC_HINDEX_START, pos; tc_hindex_next(&p->thread_index, hash, &cur, &pos);) {
		struct tc_thread *c = &p->threads[pos];

		if (c->native_id == native_id && c->ident == ident) {
			t = c;
			goto out;
		}
	}
	if (p->nthreads >= UINT32_MAX - 1 ||
	    tc_vec_reserve((void **)&p->threads, &p->capthreads, sizeof(*p->threads), p->nthreads + 1) ||
	    tc_hindex_reserve(&p->thread_index))
		goto out;
	t = &p->threads[p->nthreads];
	memset(t, 0, sizeof(*t));
	t->native_id = native_id;
	t->ident = ident;
	tc_hindex_insert(&p->thread_index, hash, p->nthreads);
	p->nthreads++;
out:
	return t;
}

/* A frame id must name an interned frame; a parent must be an existing node. */
int32_t tc_profile_node(struct tc_profile *p, int32_t parent, int32_t frame)
{
	uint64_t key;
	uint32_t id;

	if (frame < 0 || (size_t)frame >= p->nframes || parent < 0 || (size_t)parent >= p->nnodes)
		return -TC_EINVAL;
	key = tc_node_key(parent, frame);
	if (tc_intmap_get(&p->node_index, key, &id))
		return (int32_t)id;
	if (p->nnodes >= INT32_MAX ||
	    tc_vec_reserve((void **)&p->nodes, &p->capnodes, sizeof(*p->nodes), p->nnodes + 1) ||
	    tc_intmap_put(&p->node_index, key, (uint32_t)p->nnodes))
		return -TC_ENOMEM;
	p->nodes[p->nnodes] = (struct tc_node){parent, frame, p->nodes[parent].depth + 1};
	return (int32_t)p->nnodes++;
}

int tc_profile_add_node(struct tc_profile *p, uint64_t native_tid, uint64_t thread_id,
			int32_t node, uint64_t weight)
{
	struct tc_thread *t;
	struct tc_stack *s;
	uint32_t pos;

	if (node < 0 || (size_t)node >= p->nnodes)
		return -TC_EINVAL;
	t = tc_profile_thread(p, native_tid, thread_id);
	if (!t)
		return -TC_ENOMEM;
	if (tc_intmap_get(&t->index, (uint32_t)node, &pos)) {
		s = &t->stacks[pos];
		goto found;
	}
	if (t->nstacks >= UINT32_MAX - 1 ||
	    tc_vec_reserve((void **)&t->stacks, &t->capstacks, sizeof(*t->stacks), t->nstacks + 1) ||
	    tc_intmap_put(&t->index, (uint32_t)node, (uint32_t)t->nstacks))
		return -TC_ENOMEM;
	s = &t->stacks[t->nstacks];
	s->node = node;
	s->count = 0;
	t->nstacks++;
found:
	s->count += weight;
	t->total += weight;
	p->total += weight;
	return 0;
}

/* Ids are checked before anything changes, so a bad call records nothing (nodes made for a
 * valid lower part may stay: they are not stacks of any thread until counted). */
int tc_profile_add(struct tc_profile *p, uint64_t native_tid, uint64_t thread_id,
		   const int32_t *frames, size_t n, uint64_t weight)
{
	int32_t node = 0;

	for (size_t k = 0; k < n; k++)
		if (frames[k] < 0 || (size_t)frames[k] >= p->nframes)
			return -TC_EINVAL;
	for (size_t k = n; k-- > 0;) {
		node = tc_profile_node(p, node, frames[k]);
		if (node < 0)
			return node;
	}
	return tc_profile_add_node(p, native_tid, thread_id, node, weight);
}

/* The sampler writes through this pointer; sinks read it. */
struct tc_profile_stats *tc_profile_stats(struct tc_profile *p)
{
	return &p->stats;
}

/* Borrowed; strings owned by P. */
const struct tc_profile_meta *tc_profile_get_meta(const struct tc_profile *p)
{
	return &p->meta;
}

/* Number of distinct frames interned so far. */
size_t tc_profile_nframes(const struct tc_profile *p)
{
	return p->nframes;
}

/* Returns NULL for an id outside 0 .. nframes - 1. */
const struct tc_pframe *tc_profile_get_frame(const struct tc_profile *p, int32_t id)
{
	if (id < 0 || (size_t)id >= p->nframes)
		return NULL;
	return &p->frames[id];
}

/* Number of distinct (native id, ident) threads seen. */
size_t tc_profile_nthreads(const struct tc_profile *p)
{
	return p->nthreads;
}

/* Accessors of thread I below return 0 for I out of range. */
uint64_t tc_profile_thread_native_id(const struct tc_profile *p, size_t i)
{
	return i < p->nthreads ? p->threads[i].native_id : 0;
}

/* Python thread ident of thread I. */
uint64_t tc_profile_thread_ident(const struct tc_profile *p, size_t i)
{
	return i < p->nthreads ? p->threads[i].ident : 0;
}

/* Sum of the weights recorded on thread I. */
uint64_t tc_profile_thread_total(const struct tc_profile *p, size_t i)
{
	return i < p->nthreads ? p->threads[i].total : 0;
}

/* Number of distinct stacks of thread I. */
size_t tc_profile_thread_nstacks(const struct tc_profile *p, size_t i)
{
	return i < p->nthreads ? p->threads[i].nstacks : 0;
}

/* Out of range: returns 0 with *FRAMES NULL and *N 0. The frames are written into the
 * profile's scratch buffer (a separate allocation, hence writable through a const P). */
uint64_t tc_profile_thread_stack(const struct tc_profile *p, size_t i, size_t j,
				 const int32_t **frames, size_t *n)
{
	const struct tc_stack *s;
	struct tc_scratch *sc = p->scratch;
	size_t depth;

	*frames = NULL;
	*n = 0;
	if (i >= p->nthreads || j >= p->threads[i].nstacks)
		return 0;
	s = &p->threads[i].stacks[j];
	depth = p->nodes[s->node].depth;
	if (tc_vec_reserve((void **)&sc->ids, &sc->cap, sizeof(*sc->ids), depth))
		return 0; /* reported as an empty, uncounted stack */
	/* from the innermost frame down the parent links: innermost first */
	size_t k = 0;
	for (int32_t nd = s->node; nd > 0; nd = p->nodes[nd].parent)
		sc->ids[k++] = p->nodes[nd].frame;
	*frames = depth ? sc->ids : NULL;
	*n = depth;
	return s->count;
}

/* Frames in the stack NODE; 0 for the root or an unknown node. */
size_t tc_profile_node_depth(const struct tc_profile *p, int32_t node)
{
	return node > 0 && (size_t)node < p->nnodes ? p->nodes[node].depth : 0;
}

/* Sum of all weights over all threads. */
uint64_t tc_profile_total(const struct tc_profile *p)
{
	return p->total;
}

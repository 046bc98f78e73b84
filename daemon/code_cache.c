/* SPDX-License-Identifier: MIT */
/* Code-object cache. See code_cache.h.
 *
 * Entries live in a fixed array, indexed by the code object's address (base/intmap). A code
 * object is immutable for its lifetime in the parts read here (names, file, first line,
 * line table), so an entry stays right until the object is freed and its address reused for
 * another code object. 3.14+ count such frees (the interpreter's code-object generation) and
 * the walker empties the cache when the count moves. Before 3.14 each entry keeps a hash of
 * the object's identity span (layouts/code_ident.c: on 3.12/3.13 it holds co_version, which
 * every new code object takes from a counter; on 3.9-3.11 every immutable field and the
 * name's bytes), and the walker's lookup compares it once per walk with bytes read in that
 * walk's batch: a mismatch decodes the object afresh under a new serial, which every raw
 * frame carries, so the memos keyed by raw frames (frame ids, the frame cache) cannot mix
 * two objects.
 *
 * Bounded: when full, the least recently used half is dropped (entries carry the tick of
 * their last use) and the rest indexed again, so an insertion costs O(1) amortised. Entries
 * are dense, so clearing is O(entries), not O(capacity). */
#include "daemon/code_cache.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/intmap.h"
#include "layouts/linetable.h"
#include "layouts/unicode.h"

/* Longest line table accepted (a 100k-line module has a few hundred KB). */
#define MAX_LINETABLE (4u << 20)

struct tc_code_cache {
	struct tc_code_info *ent;   /* max_entries entries, the first n in use */
	struct tc_intmap index;     /* address -> entry; sized for max_entries, never grows */
	size_t max_entries;
	size_t n;
	uint64_t tick;              /* uses so far; entries keep the tick of their last use */
	struct tc_code_info *last; /* the entry returned last: recursion asks for it again */
	uint64_t walk;              /* walks begun (tc_code_cache_begin_walk) */
	uint32_t next_serial;
	struct tc_code_cache_stats st;
};

struct tc_code_cache *tc_code_cache_new(size_t max_entries)
{
	struct tc_code_cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->max_entries = max_entries ? max_entries : 4096;
	c->ent = calloc(c->max_entries, sizeof *c->ent);
	if (!c->ent || c->max_entries > UINT32_MAX ||
	    tc_intmap_init(&c->index, c->max_entries) != 0) {
		free(c->ent);
		free(c);
		return NULL;
	}
	return c;
}

static void info_release(struct tc_code_info *ci)
{
	free(ci->name);
	free(ci->qualname);
	free(ci->filename);
	free(ci->linetable);
	memset(ci, 0, sizeof *ci);
}

void tc_code_cache_clear(struct tc_code_cache *c)
{
	for (size_t i = 0; i < c->n; i++)
		info_release(&c->ent[i]);
	c->n = 0;
	tc_intmap_clear(&c->index);
	c->last = NULL;
	c->st.flushes++;
}

void tc_code_cache_free(struct tc_code_cache *c)
{
	if (!c)
		return;
	tc_code_cache_clear(c);
	free(c->ent);
	tc_intmap_free(&c->index);
	free(c);
}

/* Cold-path read: through the walker's page cache when it has one. */
static inline int cread(struct tc_walk_ctx *x, tc_raddr addr, void *buf, size_t len)
{
	return tc_read(&x->rd, TC_READ_COLD, addr, buf, len);
}

/* Decode the str object at ADDR into a new UTF-8 string (*OUT, caller frees). */
static int read_str(struct tc_walk_ctx *x, tc_raddr addr, char **out)
{
	const struct tc_layout *l = &x->t->layout;
	uint8_t hdr[TC_WALK_STR_HDR_MAX];
	uint8_t *data = NULL;
	char *s = NULL;
	uint32_t off;
	unsigned kind;
	size_t len;
	int err;

	*out = NULL;
	if (!addr)
		return -TC_ECORRUPT;
	/* The PyASCIIObject part holds length and state; a short ASCII name may end right
	 * after it (at the end of a mapping), so read no more than that (it fits HDR: the
	 * walker checked the layout, tc_layout_walkable). */
	err = cread(x, addr, hdr, (size_t)l->unicode.ascii_data);
	if (err)
		return err;
	err = tc_unicode_header(l, hdr, (size_t)l->unicode.ascii_data, &off, &kind, &len);
	if (err)
		return -TC_ECORRUPT;
	data = malloc(len * kind + 1);
	s = malloc(len * 4 + 1);
	if (!data || !s) {
		err = -TC_ENOMEM;
		goto out;
	}
	if (len) {
		err = cread(x, addr + off, data, len * kind);
		if (err)
			goto out;
	}
	int n = tc_unicode_to_utf8(data, kind, len, s, len * 4 + 1);
	if (n < 0) {
		err = -TC_ECORRUPT;
		goto out;
	}
	*out = s;
	s = NULL;
	err = 0;
out:
	free(data);
	free(s);
	return err;
}

/* Copy of the bytes object at ADDR (*OUT, *LEN; caller frees). */
static int read_bytes(struct tc_walk_ctx *x, tc_raddr addr, uint8_t **out, size_t *len)
{
	const struct tc_layout *l = &x->t->layout;
	int64_t size;
	int err;

	*out = NULL;
	*len = 0;
	if (!addr)
		return -TC_ECORRUPT;
	err = cread(x, addr + (tc_raddr)l->bytes.ob_size, &size, sizeof size);
	if (err)
		return err;
	if (size < 0 || (uint64_t)size > MAX_LINETABLE)
		return -TC_ECORRUPT;
	uint8_t *b = malloc((size_t)size + 1);
	if (!b)
		return -TC_ENOMEM;
	if (size > 0) {
		err = cread(x, addr + (tc_raddr)l->bytes.ob_sval, b, (size_t)size);
		if (err) {
			free(b);
			return err;
		}
	}
	*out = b;
	*len = (size_t)size;
	return 0;
}

/* Bytes of a name string compared for identity: from its length field on, the header and
 * up to 48 bytes of characters (names longer than that differ in their first 48 bytes or
 * in their length, which is in the span). */
#define NAME_SPAN_MAX 96

/* CI->name_addr's span: its length in CI->name_len and its hash in CI->name_ident. */
static int name_span(struct tc_walk_ctx *x, struct tc_code_info *ci)
{
	const struct tc_layout *l = &x->t->layout;
	uint8_t b[NAME_SPAN_MAX];
	uint32_t off;
	unsigned kind;
	size_t len;
	size_t hdr = (size_t)l->unicode.ascii_data, from = (size_t)l->unicode.length;
	int err = cread(x, ci->name_addr, b, hdr);
	if (err)
		return err;
	if (tc_unicode_header(l, b, hdr, &off, &kind, &len) != 0)
		return -TC_ECORRUPT;
	size_t end = (size_t)off + len * kind;
	if (end > sizeof b)
		end = sizeof b;
	if (end < hdr)
		end = hdr;
	if (end > hdr) {
		err = cread(x, ci->name_addr + hdr, b + hdr, end - hdr);
		if (err)
			return err;
	}
	ci->name_len = (uint32_t)(end - from);
	ci->name_ident = tc_hash_bytes(b + from, ci->name_len);
	return 0;
}

/* Read and validate the code object at ADDR into CI. */
static int load(struct tc_walk_ctx *x, tc_raddr addr, struct tc_code_info *ci)
{
	const struct tc_layout *l = &x->t->layout;
	uint8_t buf[TC_WALK_CODE_MAX];
	int err;

	err = cread(x, addr, buf, (size_t)l->code.size);
	if (err)
		return err;
	if (x->t->code_type && tc_get_u64(buf, (size_t)l->object.ob_type) != x->t->code_type)
		return -TC_ECORRUPT;
	ci->addr = addr;
	ci->flags = l->code.flags >= 0 ? (int32_t)tc_get_u32(buf, (size_t)l->code.flags) : -1;
	ci->ident = tc_hash_bytes(buf + l->code.ident_off, (size_t)l->code.ident_len);
	ci->name_addr = tc_get_u64(buf, (size_t)l->code.name);
	ci->name_len = 0;
	ci->name_ident = 0;
	ci->firstlineno = (int32_t)tc_get_u32(buf, (size_t)l->code.firstlineno);
	ci->firsttraceable = l->code.firsttraceable >= 0 ?
		(int32_t)tc_get_u32(buf, (size_t)l->code.firsttraceable) : -1;
	ci->memo_addr = INT64_MIN;
	ci->code_bytes = -1;
	if (l->code.code_adaptive >= 0) {
		/* 3.11+: a code object is a PyVarObject whose size counts 2-byte code units */
		int64_t units = (int64_t)tc_get_u64(buf, (size_t)l->bytes.ob_size);
		if (units <= 0 || units > (INT64_C(1) << 30))
			return -TC_ECORRUPT;
		ci->code_bytes = units * 2;
	}
	err = read_str(x, tc_get_u64(buf, (size_t)l->code.filename), &ci->filename);
	if (!err)
		err = read_str(x, tc_get_u64(buf, (size_t)l->code.name), &ci->name);
	if (!err && l->code.qualname >= 0)
		err = read_str(x, tc_get_u64(buf, (size_t)l->code.qualname), &ci->qualname);
	else if (!err) {
		ci->qualname = strdup(ci->name);
		if (!ci->qualname)
			err = -TC_ENOMEM;
	}
	if (!err)
		err = read_bytes(x, tc_get_u64(buf, (size_t)l->code.linetable), &ci->linetable,
				 &ci->linetable_len);
	if (!err && l->code.ident_name)
		err = name_span(x, ci);
	if (err)
		info_release(ci);
	return err;
}

static int cmp_tick_desc(const void *a, const void *b)
{
	const struct tc_code_info *x = a, *y = b;
	return x->last_used < y->last_used ? 1 : x->last_used > y->last_used ? -1 : 0;
}

/* Full: keep the most recently used half, indexed again. */
static void evict_half(struct tc_code_cache *c)
{
	size_t n = c->n, keep = n / 2;

	qsort(c->ent, n, sizeof *c->ent, cmp_tick_desc);
	for (size_t i = keep; i < n; i++)
		info_release(&c->ent[i]);
	tc_intmap_clear(&c->index);
	for (size_t i = 0; i < keep; i++)
		tc_intmap_put(&c->index, c->ent[i].addr, (uint32_t)i); /* no growth: cannot fail */
	c->n = keep;
	c->last = NULL;
	c->st.evictions += n - keep;
}

int tc_code_cache_get(struct tc_code_cache *c, struct tc_walk_ctx *x, tc_raddr addr,
		      const struct tc_code_info **out)
{
	uint32_t i;

	if (!addr)
		return -TC_ECORRUPT;
	c->tick++;
	if (c->last && c->last->addr == addr) {
		c->st.hits++;
		c->last->last_used = c->tick;
		*out = c->last;
		return 0;
	}
	if (tc_intmap_get(&c->index, addr, &i)) {
		c->st.hits++;
		c->ent[i].last_used = c->tick;
		*out = c->last = &c->ent[i];
		return 0;
	}
	c->st.misses++;
	if (c->n >= c->max_entries)
		evict_half(c);
	struct tc_code_info *ci = &c->ent[c->n];
	int err = load(x, addr, ci);
	if (err) {
		c->st.failures++;
		return err;
	}
	err = tc_intmap_put(&c->index, addr, (uint32_t)c->n); /* sized for max_entries */
	if (err) {
		info_release(ci);
		c->st.failures++;
		return err;
	}
	c->n++;
	if (++c->next_serial == 0)
		c->next_serial = 1;
	ci->serial = c->next_serial;
	ci->checked = c->walk;
	ci->last_used = c->tick;
	*out = c->last = ci;
	return 0;
}

uint64_t tc_code_cache_changes(const struct tc_code_cache *c)
{
	return c->st.misses + c->st.replaced + c->st.flushes;
}

void tc_code_cache_begin_walk(struct tc_code_cache *c)
{
	c->walk++;
}

/* Reads of the identity check: this walk's batch when the walker has one. */
static inline int wread(struct tc_walk_ctx *x, tc_raddr addr, void *buf, size_t len)
{
	return tc_read(&x->rd, TC_READ_HOT, addr, buf, len);
}

/* Is the object at CI->addr still the one CI was decoded from? 1 yes, 0 no, or a read
 * error (negative). */
static int same_object(struct tc_walk_ctx *x, const struct tc_code_info *ci)
{
	const struct tc_layout *l = &x->t->layout;
	uint8_t b[NAME_SPAN_MAX > TC_WALK_IDENT_MAX ? NAME_SPAN_MAX : TC_WALK_IDENT_MAX];
	size_t n = (size_t)l->code.ident_len;
	int err = wread(x, ci->addr + (tc_raddr)l->code.ident_off, b, n);
	if (err)
		return err;
	if (tc_hash_bytes(b, n) != ci->ident)
		return 0;
	if (!l->code.ident_name)
		return 1;
	err = wread(x, ci->name_addr + (tc_raddr)l->unicode.length, b, ci->name_len);
	if (err)
		return err;
	return tc_hash_bytes(b, ci->name_len) == ci->name_ident;
}

int tc_code_cache_get_checked(struct tc_code_cache *c, struct tc_walk_ctx *x, tc_raddr addr,
			      const struct tc_code_info **out)
{
	const uint64_t misses = c->st.misses;
	int err = tc_code_cache_get(c, x, addr, out);
	if (err)
		return err;
	struct tc_code_info *ci = (struct tc_code_info *)*out;
	if (x->t->layout.code.ident_len <= 0)
		return 0;
	if (c->st.misses != misses) {
		/* Decoded just now, from reads made after the walk's batch: the frame that
		 * names this object was read earlier. If the object at ADDR changed in between,
		 * the frame belongs to the one before: this walk is torn (the entry stays, right
		 * for the object there now). */
		int same = same_object(x, ci);
		if (same < 0)
			return same;
		return same ? 0 : -TC_ECORRUPT;
	}
	if (ci->checked == c->walk) /* compared in this walk already */
		return 0;
	c->st.checks++;
	int same = same_object(x, ci);
	if (same < 0)
		return same;
	ci->checked = c->walk;
	if (same)
		return 0;
	/* another code object at this address: decode it in place, under a new serial */
	c->st.replaced++;
	uint64_t used = ci->last_used;
	info_release(ci);
	err = load(x, addr, ci);
	if (err) {
		/* the entry cannot stay half-empty under its address: start over (rare: the
		 * object changed again while it was decoded) */
		c->st.failures++;
		tc_code_cache_clear(c);
		return err;
	}
	if (++c->next_serial == 0)
		c->next_serial = 1;
	ci->serial = c->next_serial;
	ci->checked = c->walk;
	ci->last_used = used;
	*out = ci;
	/* decoded from reads made after the batch: if the object changed again since, the
	 * frame belongs to an earlier one (torn; the entry stays, right for the object now) */
	same = same_object(x, ci);
	if (same < 0)
		return same;
	return same ? 0 : -TC_ECORRUPT;
}

int32_t tc_code_line(const struct tc_layout *l, const struct tc_code_info *ci, int64_t addr)
{
	struct tc_code_info *m = (struct tc_code_info *)ci;
	if (ci->memo_addr == addr)
		return ci->memo_line;
	struct tc_location loc;
	if (tc_linetable_lookup(l->linetable, ci->linetable, ci->linetable_len, ci->firstlineno,
				addr, &loc) != 0)
		return -1;
	m->memo_addr = addr;
	m->memo_line = loc.line;
	return loc.line;
}

void tc_code_cache_get_stats(const struct tc_code_cache *c, struct tc_code_cache_stats *out)
{
	*out = c->st;
	out->entries = c->n;
	out->capacity = c->max_entries;
}

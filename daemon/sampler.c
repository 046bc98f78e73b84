/* SPDX-License-Identifier: MIT */
/* The sampling loop. See sampler.h.
 *
 * Deadlines are absolute (clock_nanosleep with TIMER_ABSTIME on CLOCK_MONOTONIC), so the
 * rate does not drift with the cost of each walk; when the sampler falls behind (a stall,
 * a huge stack) the missed slots are skipped and counted, never caught up in a burst. A
 * torn walk (the target changed under the reader) is retried at once, up to three times,
 * then counted as failed:
 * a stack that did not exist in the target is never recorded. */
#include "daemon/sampler.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

#include "daemon/code_cache.h"
#include "daemon/frame_cache.h"
#include "daemon/unwind.h"
#include "reader/proc.h"

/* (code, instruction offset, known line) -> profile frame id. */
struct fkey {
	tc_raddr code;
	int64_t addr;
	uint32_t serial; /* which code object was at CODE (tc_raw_frame.serial) */
	int32_t lineno;
	int32_t id; /* -1: empty slot */
};

struct fmap {
	struct fkey *v;
	size_t cap, n;
};

#define FMAP_MAX (1u << 20)

/* Walks per sampling instant: a torn read is retried at once (the retry reads a fresh
 * snapshot), then the instant counts as failed. */
#define TC_SAMPLE_TRIES 4

static uint64_t fhash(tc_raddr code, uint32_t serial, int64_t addr, int32_t lineno)
{
	uint64_t h = (code ^ ((uint64_t)serial << 48)) * 0x9E3779B97F4A7C15ull;
	h ^= (uint64_t)addr * 0xC2B2AE3D27D4EB4Full;
	h ^= (uint64_t)(uint32_t)lineno * 0x165667B19E3779F9ull;
	return h ^ (h >> 29);
}

static int fmap_init(struct fmap *m, size_t cap)
{
	m->v = malloc(cap * sizeof *m->v);
	if (!m->v)
		return -TC_ENOMEM;
	for (size_t i = 0; i < cap; i++)
		m->v[i].id = -1;
	m->cap = cap;
	m->n = 0;
	return 0;
}

/* Slot for the key: found (id >= 0) or the empty slot where it belongs. */
static struct fkey *fmap_slot(struct fmap *m, const struct tc_raw_frame *f)
{
	size_t i = fhash(f->code, f->serial, f->addr, f->lineno) & (m->cap - 1);
	while (m->v[i].id >= 0) {
		struct fkey *k = &m->v[i];
		if (k->code == f->code && k->addr == f->addr && k->lineno == f->lineno &&
		    k->serial == f->serial)
			return k;
		i = (i + 1) & (m->cap - 1);
	}
	return &m->v[i];
}

static void fmap_clear(struct fmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		m->v[i].id = -1;
	m->n = 0;
}

static int fmap_grow(struct fmap *m)
{
	struct fmap n;
	if (m->cap >= FMAP_MAX) {
		/* bounded: forget the memo (profile ids stay valid) */
		fmap_clear(m);
		return 0;
	}
	int err = fmap_init(&n, m->cap * 2);
	if (err)
		return err;
	for (size_t i = 0; i < m->cap; i++) {
		struct fkey *k = &m->v[i];
		if (k->id >= 0) {
			struct tc_raw_frame f = {k->code, k->addr, k->lineno, k->serial};
			*fmap_slot(&n, &f) = *k;
			n.n++;
		}
	}
	free(m->v);
	*m = n;
	return 0;
}

struct run {
	uint64_t frame_hits, frame_misses, frames, retries;
	struct tc_target *t;
	struct tc_profile *p;
	struct tc_code_cache *cc;
	struct tc_snapshot snap;
	struct fmap fm;
	int32_t *ids;
	size_t cap_ids;
	struct tc_sample_thread *obs; /* for the observer */
	size_t cap_obs;
	struct tc_frame_cache *fc;    /* last stack of each thread, with ids and nodes */
	int32_t *lv_ids, *lv_nodes;   /* levels of a stack the frame cache cannot hold */
	size_t cap_lv_ids, cap_lv_nodes;
	uint64_t code_gen;            /* code-object generation the memos are valid for */
	int32_t trunc_id;             /* frame id of the TC_TRUNCATED_NAME marker, -1 until used */
	int32_t unconf_id;            /* frame id of the TC_UNCONFIRMED_NAME marker, -1 until used */
	const struct tc_sampler_opts *o;
};

/* Profile frame id of a raw frame. */
static int frame_id(struct run *r, const struct tc_raw_frame *f, int32_t *id)
{
	struct fkey *k = fmap_slot(&r->fm, f);
	if (k->id >= 0) {
		r->frame_hits++;
		*id = k->id;
		return 0;
	}
	r->frame_misses++;
	const struct tc_code_info *ci;
	int err = tc_code_cache_get(r->cc, r->t, f->code, &ci);
	if (err)
		return err;
	int32_t line = f->lineno;
	if (line < 0 && f->addr != INT64_MIN)
		line = tc_code_line(&r->t->layout, ci, f->addr);
	int32_t pid = tc_profile_frame(r->p, ci->filename, ci->name, ci->qualname, line,
				       ci->firstlineno);
	if (pid < 0)
		return pid;
	if ((r->fm.n + 1) * 2 > r->fm.cap) {
		err = fmap_grow(&r->fm);
		if (err)
			return err;
		k = fmap_slot(&r->fm, f);
	}
	*k = (struct fkey){f->code, f->addr, f->serial, f->lineno, pid};
	r->fm.n++;
	*id = pid;
	return 0;
}

/* Is a thread's stack cut for a reason a new walk may not meet (a frame read mid-change), or
 * torn (its second read disagreed)? A stack deeper than the walker follows is cut the same way
 * every time. Torn stacks get every try: measured on an idle machine, where a busy thread
 * moves between any two reads (3.15 mixed workload: 1.4 retries, 5.9 syscalls per sample),
 * two tries instead of four left 2.5x as many impossible stacks on 3.9. */
static bool any_torn(const struct tc_snapshot *s)
{
	for (size_t i = 0; i < s->nthreads; i++)
		if (s->threads[i].torn || (s->threads[i].truncated && !s->threads[i].deep))
			return true;
	return false;
}

static int8_t run_state(struct run *r, const struct tc_thread_stack *ts)
{
	if (!ts->native_id)
		return -1;
	char c = tc_proc_thread_state(r->t->pid, (pid_t)ts->native_id);
	return c == 'R' ? 1 : c ? 0 : -1;
}

static bool wanted(struct run *r, const struct tc_thread_stack *ts, int8_t on_cpu)
{
	if (r->o->main_only && !ts->main)
		return false;
	switch (r->o->mode) {
	case TC_MODE_GIL:
		return ts->holds_gil == 1;
	case TC_MODE_CPU:
		return on_cpu == 1;
	default:
		return true;
	}
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

/* Intern the stack of TS into the profile and return its node in *LEAF. Levels (from the
 * bottom) that the frame cache shows unchanged since this thread's last sample keep their
 * frame ids and nodes; only the levels above are resolved. *IDS_BU gets the frame ids
 * bottom-up (valid until the next call). */
static int intern_stack(struct run *r, const struct tc_thread_stack *ts, int32_t *leaf,
			const int32_t **ids_bu)
{
	const struct tc_raw_frame *f = r->snap.frames + ts->first;
	size_t n = ts->n, keep = 0;
	/* a cut stack starts at the marker frame, and is not cached (its bottom is not the
	 * thread's bottom); an unconfirmed top ends at the other marker (not cached either) */
	const size_t mark = ts->truncated ? 1 : 0, top = ts->top_unconfirmed ? 1 : 0;
	struct tc_fc_thread *th = r->fc && !mark && !top ?
		tc_frame_cache_thread(r->fc, ts->tstate, ts->thread_id) : NULL;
	if (th) {
		keep = tc_frame_cache_match(th, f, n);
		if (tc_frame_cache_reserve(r->fc, th, n) != 0) {
			th = NULL;
			keep = 0;
		}
	}
	int32_t *ids, *nodes;
	if (th) {
		ids = th->ids;
		nodes = th->nodes;
	} else {
		if (grow((void **)&r->lv_ids, &r->cap_lv_ids, n + mark + top, sizeof *ids) ||
		    grow((void **)&r->lv_nodes, &r->cap_lv_nodes, n + mark + top, sizeof *nodes))
			return -TC_ENOMEM;
		ids = r->lv_ids;
		nodes = r->lv_nodes;
	}
	int32_t node = keep ? nodes[keep - 1] : TC_PROFILE_ROOT;
	if (mark) {
		if (r->trunc_id < 0) {
			r->trunc_id = tc_profile_frame(r->p, TC_TRUNCATED_NAME, TC_TRUNCATED_NAME,
						       TC_TRUNCATED_NAME, -1, -1);
			if (r->trunc_id < 0)
				return r->trunc_id;
		}
		ids[0] = r->trunc_id;
		node = tc_profile_node(r->p, node, r->trunc_id);
		if (node < 0)
			return node;
		nodes[0] = node;
		ids++;
		nodes++;
	}
	for (size_t lv = keep; lv < n; lv++) {
		int err = frame_id(r, &f[n - 1 - lv], &ids[lv]);
		if (!err) {
			node = tc_profile_node(r->p, node, ids[lv]);
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
		if (r->unconf_id < 0) {
			r->unconf_id = tc_profile_frame(r->p, TC_UNCONFIRMED_NAME, TC_UNCONFIRMED_NAME,
							TC_UNCONFIRMED_NAME, -1, -1);
			if (r->unconf_id < 0)
				return r->unconf_id;
		}
		ids[n] = r->unconf_id;
		node = tc_profile_node(r->p, node, r->unconf_id);
		if (node < 0)
			return node;
		nodes[n] = node;
	}
	if (th)
		tc_frame_cache_store(r->fc, th, f, n, keep);
	*leaf = node;
	*ids_bu = ids - mark;
	return 0;
}

/* Record the snapshot (and hand it to the observer). */
static int record(struct run *r, double when)
{
	const bool observe = r->o->on_sample != NULL;
	const bool cpu = r->o->mode == TC_MODE_CPU || r->o->want_cpu;
	size_t used = 0, nt = 0;
	/* The walk saw a new code-object generation (3.14+: code objects were freed, and an
	 * address may now hold another one): the (code, offset) memo and the frame cache go.
	 * The walker has already emptied the code cache. Frame ids in the profile stay valid. */
	if (r->snap.code_generation != r->code_gen) {
		r->code_gen = r->snap.code_generation;
		fmap_clear(&r->fm);
		if (r->fc) {
			tc_frame_cache_free(r->fc);
			r->fc = tc_frame_cache_new(); /* NULL: sample without it */
		}
	}
	if (r->fc)
		tc_frame_cache_begin(r->fc, tc_profile_stats(r->p)->samples);
	for (size_t i = 0; i < r->snap.nthreads; i++) {
		const struct tc_thread_stack *ts = &r->snap.threads[i];
		r->frames += ts->n;
		int8_t on_cpu = cpu && !(r->o->main_only && !ts->main) ? run_state(r, ts) : -1;
		if (!wanted(r, ts, on_cpu))
			continue;
		/* still read inconsistently after the last try: left out, and counted */
		if (ts->left_out) {
			tc_profile_stats(r->p)->torn++;
			continue;
		}
		if (ts->torn)
			tc_profile_stats(r->p)->unverified++;
		int32_t leaf;
		const int32_t *ids_bu;
		int err = intern_stack(r, ts, &leaf, &ids_bu);
		/* a code object the walk used and the cache let go of since, freed in the target
		 * meanwhile: this thread's stack is lost, not the recording */
		if (err == -TC_ECORRUPT || err == -TC_EFAULT) {
			tc_profile_stats(r->p)->torn++;
			continue;
		}
		if (!err)
			err = tc_profile_add_node(r->p, ts->native_id, ts->thread_id, leaf, 1);
		if (err)
			return err;
		if (ts->truncated)
			tc_profile_stats(r->p)->truncated++;
		if (ts->top_unconfirmed)
			tc_profile_stats(r->p)->unconfirmed++;
		if (!observe)
			continue;
		/* the observer gets every thread's ids side by side, innermost first (an
		 * unconfirmed top's marker first, a cut stack's marker last) */
		const size_t n = ts->n + (ts->truncated ? 1 : 0) + (ts->top_unconfirmed ? 1 : 0);
		err = grow((void **)&r->ids, &r->cap_ids, used + n, sizeof *r->ids);
		if (!err)
			err = grow((void **)&r->obs, &r->cap_obs, nt + 1, sizeof *r->obs);
		if (err)
			return err;
		for (size_t k = 0; k < n; k++)
			r->ids[used + k] = ids_bu[n - 1 - k];
		r->obs[nt++] = (struct tc_sample_thread){
			.native_id = ts->native_id, .thread_id = ts->thread_id, .main = ts->main,
			.holds_gil = ts->holds_gil, .on_cpu = on_cpu,
			.frames = NULL, .n = n};
		used += n;
	}
	if (observe) {
		/* ids may have moved while growing: point at them only now */
		size_t off = 0;
		for (size_t k = 0; k < nt; k++) {
			r->obs[k].frames = r->ids + off;
			off += r->obs[k].n;
		}
		struct tc_sample smp = {.time = when, .threads = r->obs, .nthreads = nt,
					.nthreads_total = r->snap.nthreads};
		r->o->on_sample(r->o->ctx, &smp);
	}
	return 0;
}

static double now_mono(void);

/* One sampling instant: walk (retrying a torn walk) and record. */
static int sample_once(struct run *r, struct tc_profile_stats *st)
{
	int err = 0;
	/* wall and cpu modes do not need the GIL state; a retry re-reads everything */
	bool gil = r->o->mode == TC_MODE_GIL || r->o->want_gil;
	r->snap.flags = TC_UNWIND_CACHED_HEAD | (gil ? 0 : TC_UNWIND_NO_GIL);
	for (int attempt = 0; attempt < TC_SAMPLE_TRIES; attempt++) {
		if (attempt) {
			r->retries++;
			r->snap.flags &= ~(unsigned)TC_UNWIND_CACHED_HEAD;
		}
		err = tc_unwind(r->t, r->cc, &r->snap);
		/* a stack cut mid-change is walked again; after the last try the other threads
		 * are kept and that one is recorded as cut, never as whole (or left out when
		 * its second read still disagreed) */
		if (err == 0 && attempt + 1 < TC_SAMPLE_TRIES && any_torn(&r->snap))
			err = -TC_ECORRUPT;
		if (err == 0 || err == -TC_ESRCH || err == -TC_EPERM || err == -TC_ENOMEM)
			break;
	}
	if (err == -TC_EFAULT || err == -TC_ECORRUPT || err == -TC_EINVAL) {
		/* A read that faults on a process that is exiting is its last sample. */
		if (tc_proc_check(r->t->pid) == -TC_ESRCH)
			return -TC_ESRCH;
		st->failed++;
		if (r->o->on_sample) {
			struct tc_sample smp = {.time = now_mono(), .failed = true};
			r->o->on_sample(r->o->ctx, &smp);
		}
		return 0;
	}
	if (err)
		return err;
	return record(r, now_mono());
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void ts_add_ns(struct timespec *ts, int64_t ns)
{
	int64_t t = (int64_t)ts->tv_nsec + ns;
	ts->tv_sec += t / 1000000000;
	ts->tv_nsec = t % 1000000000;
}

static int64_t ts_diff_ns(const struct timespec *a, const struct timespec *b)
{
	return ((int64_t)a->tv_sec - b->tv_sec) * 1000000000 + ((int64_t)a->tv_nsec - b->tv_nsec);
}

int tc_sampler_run(struct tc_target *t, const struct tc_sampler_opts *o, struct tc_profile *p)
{
	struct tc_profile_stats *st = tc_profile_stats(p);
	struct run r = {.t = t, .p = p, .o = o, .trunc_id = -1, .unconf_id = -1};
	int err;

	r.cc = tc_code_cache_new(0);
	r.fc = tc_frame_cache_new();
	r.snap.memo = tc_chain_memo_new();
	if (!r.cc || !r.fc || !r.snap.memo || fmap_init(&r.fm, 4096) != 0) {
		err = -TC_ENOMEM;
		goto out;
	}
	/* Wake-ups as close to the deadline as the kernel allows (default slack is 50 us). */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

	/* rate 0: back to back (bench), no sleeping at all */
	bool b2b = o->rate_hz <= 0;
	int64_t interval = b2b ? 0 : (int64_t)llround(1e9 / o->rate_hz);
	if (!b2b && interval < 1000)
		interval = 1000;
	struct rusage ru0;
	getrusage(RUSAGE_SELF, &ru0);
	struct tc_remote_stats io0;
	tc_remote_get_stats(t->mem, &io0);
	struct tc_prefetch_stats pf0 = {0};
	if (t->pf)
		tc_prefetch_get_stats(t->pf, &pf0);
	struct timespec next, now;
	clock_gettime(CLOCK_MONOTONIC, &next);
	struct timespec end = next;
	if (o->duration > 0)
		ts_add_ns(&end, (int64_t)llround(o->duration * 1e9));
	double t0 = now_mono();
	double next_exec_check = t0 + 1.0;
	st->start_time = now_real();
	err = 0;
	while (!(o->stop && *o->stop)) {
		if (o->duration > 0 && now_mono() - t0 >= o->duration)
			break;
		int rc = 0;
		/* the recording ends at its duration, not at the first slot after it */
		bool last = false;
		struct timespec wake = next;
		if (!b2b && o->duration > 0 && ts_diff_ns(&next, &end) >= 0) {
			wake = end;
			last = true;
		}
		while (!b2b) {
			rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, NULL);
			if (rc != EINTR || (o->stop && *o->stop))
				break;
		}
		if ((o->stop && *o->stop) || last)
			break;
		st->samples++;
		uint64_t failed = st->failed;
		err = sample_once(&r, st);
		/* a process that called execve runs another program (maybe another Python):
		 * nothing known about it holds. Checked once a second, and at once when a
		 * sample fails. */
		if (!err && (st->failed != failed || now_mono() >= next_exec_check)) {
			next_exec_check = now_mono() + 1.0;
			if (tc_target_execed(t)) {
				st->target_execed = true;
				break;
			}
		}
		if (err == -TC_ESRCH) {
			st->target_exited = true;
			err = 0;
			break;
		}
		if (err)
			break;
		if (b2b)
			continue;
		/* The next slot is [next, next + interval). Late into it (a slow wake-up or
		 * sample), it is still taken at once: late, but in its own slot. Slots that
		 * passed whole are skipped and counted, never made up in a burst. */
		ts_add_ns(&next, interval);
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t behind = ts_diff_ns(&now, &next);
		if (behind >= interval) {
			int64_t skip = behind / interval;
			st->missed += (uint64_t)skip;
			ts_add_ns(&next, skip * interval);
		}
	}
	st->duration = now_mono() - t0;
	if (o->report) {
		struct tc_sampler_report *rep = o->report;
		struct rusage ru1;
		getrusage(RUSAGE_SELF, &ru1);
		memset(rep, 0, sizeof *rep);
		tc_remote_get_stats(t->mem, &rep->io);
		rep->io.syscalls -= io0.syscalls;
		rep->io.reads -= io0.reads;
		rep->io.bytes -= io0.bytes;
		if (t->pf) {
			tc_prefetch_get_stats(t->pf, &rep->pf);
			rep->pf.walks -= pf0.walks;
			rep->pf.hits -= pf0.hits;
			rep->pf.misses -= pf0.misses;
			rep->pf.batch_ranges -= pf0.batch_ranges;
			rep->pf.batch_bytes -= pf0.batch_bytes;
			rep->pf.batch_failures -= pf0.batch_failures;
		}
		tc_code_cache_get_stats(r.cc, &rep->code);
		if (r.fc)
			tc_frame_cache_get_stats(r.fc, &rep->fc);
		tc_chain_memo_get_stats(r.snap.memo, &rep->chain);
		if (t->pc)
			tc_page_cache_get_stats(t->pc, &rep->pages);
		rep->frame_hits = r.frame_hits;
		rep->frame_misses = r.frame_misses;
		rep->frames = r.frames;
		rep->retries = r.retries;
		rep->cpu_user = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
				(double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) * 1e-6;
		rep->cpu_sys = (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
			       (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) * 1e-6;
	}
out:
	tc_chain_memo_free(r.snap.memo);
	tc_snapshot_free(&r.snap);
	tc_code_cache_free(r.cc);
	free(r.fm.v);
	free(r.ids);
	free(r.obs);
	free(r.lv_ids);
	free(r.lv_nodes);
	tc_frame_cache_free(r.fc);
	return err;
}

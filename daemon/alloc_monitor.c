/* SPDX-License-Identifier: MIT */
/* The allocator monitor (see alloc_monitor.h): one thread, one reader of the target, readings
 * at absolute deadlines, GC ticks in between, the latest reading kept under a mutex. */
#include "daemon/alloc_monitor.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "reader/remote.h"
#include "tc/common.h"

struct tc_alloc_monitor {
	struct tc_alloc *a;
	struct tc_remote *mem;            /* this monitor's own */
	struct tc_alloc_monitor_cfg cfg;
	pthread_t th;
	bool started;
	/* under MU */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	double interval, next_read;
	double t_start;                   /* when started */
	int err;
	struct tc_alloc_reading latest;
	/* the monitor's thread only */
	uint32_t ticks, collecting;
	uint64_t seq;
	struct tc_alloc_reading cur;
};

static struct timespec to_timespec(double t)
{
	struct timespec ts = {(time_t)floor(t), 0};

	ts.tv_nsec = (long)((t - floor(t)) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	return ts;
}

int tc_alloc_monitor_new(struct tc_alloc *a, struct tc_remote *mem, struct tc_alloc_monitor **out)
{
	struct tc_alloc_monitor *m = calloc(1, sizeof *m);
	pthread_condattr_t ca;

	if (!m) {
		tc_remote_free(mem);
		tc_alloc_free(a);
		return -TC_ENOMEM;
	}
	m->a = a;
	m->mem = mem;
	pthread_mutex_init(&m->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = m;
	return 0;
}

int tc_alloc_monitor_open(struct tc_target *t, struct tc_alloc_monitor **out)
{
	struct tc_alloc *a = NULL;
	struct tc_remote *mem = NULL;
	int err = tc_alloc_open(t, &a);

	if (!err)
		err = tc_remote_open(t->pid, &mem);
	if (err) {
		tc_alloc_free(a);
		return err;
	}
	return tc_alloc_monitor_new(a, mem, out);
}

const struct tc_alloc *tc_alloc_monitor_alloc(const struct tc_alloc_monitor *m)
{
	return m->a;
}

/* Count a summary that knew the GC's state. */
static void note_gc(struct tc_alloc_monitor *m, const struct tc_alloc_summary *s)
{
	if (s->gc_collecting < 0)
		return;
	m->ticks++;
	m->collecting += s->gc_collecting == 1;
}

static void tick(struct tc_alloc_monitor *m)
{
	struct tc_alloc_summary s;

	if (tc_alloc_summary(m->a, m->mem, &s) == 0)
		note_gc(m, &s);
}

/* One reading: into CUR, through the callback, then published as the latest. */
static int reading(struct tc_alloc_monitor *m)
{
	struct tc_alloc_reading *r = &m->cur;
	int err = m->cfg.walk ? tc_alloc_walk(m->a, m->mem, &r->walk)
			      : tc_alloc_summary(m->a, m->mem, &r->walk.sum);

	if (err)
		return err;
	note_gc(m, &r->walk.sum);
	r->seq = ++m->seq;
	r->time = tc_now_s();
	r->elapsed = r->time - m->t_start;
	r->walked = m->cfg.walk;
	r->ticks = m->ticks;
	r->collecting = m->collecting;
	m->ticks = m->collecting = 0;
	if (m->cfg.on_reading) {
		err = m->cfg.on_reading(m->cfg.ctx, m->a, r);
		if (err)
			return err;
	}
	pthread_mutex_lock(&m->mu);
	m->latest = *r;
	pthread_mutex_unlock(&m->mu);
	return 0;
}

static void *monitor_main(void *arg)
{
	struct tc_alloc_monitor *m = arg;
	double next_tick = 0;
	int err = 0;

	pthread_mutex_lock(&m->mu);
	m->next_read = tc_now_s(); /* the first reading at once */
	while (!m->done) {
		double now = tc_now_s();

		if (now >= m->next_read) {
			pthread_mutex_unlock(&m->mu);
			err = reading(m);
			pthread_mutex_lock(&m->mu);
			if (err)
				break;
			m->next_read += m->interval;
			next_tick = tc_now_s() + m->cfg.tick;
			continue;
		}
		if (m->cfg.tick > 0 && now >= next_tick) {
			pthread_mutex_unlock(&m->mu);
			tick(m);
			pthread_mutex_lock(&m->mu);
			next_tick = tc_now_s() + m->cfg.tick;
			continue;
		}
		double until = m->cfg.tick > 0 && next_tick < m->next_read ? next_tick : m->next_read;
		struct timespec ts = to_timespec(until);

		pthread_cond_timedwait(&m->cv, &m->mu, &ts);
	}
	m->err = err;
	bool last = m->done && !err && m->cfg.last_reading;
	pthread_mutex_unlock(&m->mu);
	if (last) {
		err = reading(m);
		if (err && err != -TC_ESRCH) {
			pthread_mutex_lock(&m->mu);
			m->err = err;
			pthread_mutex_unlock(&m->mu);
		}
	}
	return NULL;
}

int tc_alloc_monitor_start(struct tc_alloc_monitor *m, const struct tc_alloc_monitor_cfg *cfg)
{
	sigset_t old;
	int err;

	m->cfg = *cfg;
	m->cfg.block = NULL; /* borrowed: used only here */
	m->interval = cfg->interval > 0 ? cfg->interval : 1.0;
	m->done = false;
	m->err = 0;
	m->t_start = tc_now_s();
	if (cfg->block)
		pthread_sigmask(SIG_BLOCK, cfg->block, &old);
	err = pthread_create(&m->th, NULL, monitor_main, m);
	if (cfg->block)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err == 0)
		m->started = true;
	return err;
}

void tc_alloc_monitor_set_interval(struct tc_alloc_monitor *m, double interval)
{
	if (!(interval > 0))
		return;
	pthread_mutex_lock(&m->mu);
	m->interval = interval;
	double now = tc_now_s();

	if (m->next_read > now + interval)
		m->next_read = now + interval;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

uint64_t tc_alloc_monitor_latest(struct tc_alloc_monitor *m, struct tc_alloc_reading *out)
{
	uint64_t seq;

	pthread_mutex_lock(&m->mu);
	seq = m->latest.seq;
	if (seq)
		*out = m->latest;
	pthread_mutex_unlock(&m->mu);
	return seq;
}

int tc_alloc_monitor_stop(struct tc_alloc_monitor *m)
{
	int err;

	if (m->started) {
		pthread_mutex_lock(&m->mu);
		m->done = true;
		pthread_cond_signal(&m->cv);
		pthread_mutex_unlock(&m->mu);
		pthread_join(m->th, NULL);
		m->started = false;
	}
	pthread_mutex_lock(&m->mu);
	err = m->err;
	pthread_mutex_unlock(&m->mu);
	return err;
}

void tc_alloc_monitor_free(struct tc_alloc_monitor *m)
{
	if (!m)
		return;
	tc_alloc_monitor_stop(m);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	tc_remote_free(m->mem);
	tc_alloc_free(m->a);
	free(m);
}

/* SPDX-License-Identifier: MIT */
/* The life of one output (sink.h): open, samples, finish, free, and the sampler observer
 * that feeds a sink while chaining whatever observer was there before. */
#include "daemon/sinks/sink.h"

#include <stdlib.h>

#include "tc/common.h"

int tc_sink_open(const struct tc_sink_format *fmt, FILE *out, const struct tc_sink_opts *o,
		 struct tc_sink **sp)
{
	struct tc_sink *s;
	int err;

	*sp = NULL;
	if (!fmt || !fmt->finish)
		return -TC_EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -TC_ENOMEM;
	s->fmt = fmt;
	s->out = out;
	if (o)
		s->opts = *o;
	if (fmt->open) {
		err = fmt->open(s, out, &s->opts);
		if (err) {
			tc_sink_free(s);
			return err;
		}
	}
	*sp = s;
	return 0;
}

int tc_sink_sample(struct tc_sink *s, const struct tc_sample *smp)
{
	if (!s->err && !s->finished && s->fmt->sample)
		s->err = s->fmt->sample(s, smp);
	return s->err;
}

/* tc_sampler_opts.on_sample while a sink observes: the sink first, then the chained one. */
static void tc_sink_on_sample(void *ctx, const struct tc_sample *smp)
{
	struct tc_sink *s = ctx;

	tc_sink_sample(s, smp);
	if (s->next)
		s->next(s->next_ctx, smp);
}

void tc_sink_observe(struct tc_sink *s, struct tc_sampler_opts *so)
{
	if (!s->fmt->sample)
		return;
	s->next = so->on_sample;
	s->next_ctx = so->ctx;
	so->on_sample = tc_sink_on_sample;
	so->ctx = s;
}

int tc_sink_finish(struct tc_sink *s, const struct tc_profile *p)
{
	if (s->finished)
		return -TC_EINVAL;
	s->finished = true;
	if (s->err)
		return s->err;
	return s->fmt->finish(s, p);
}

void tc_sink_free(struct tc_sink *s)
{
	if (!s)
		return;
	if (s->fmt->free)
		s->fmt->free(s);
	free(s);
}

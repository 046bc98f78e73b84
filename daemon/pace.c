/* SPDX-License-Identifier: MIT */
/* The sampler's slot policy. See pace.h. */
#include "daemon/pace.h"

#include <math.h>

void tc_pace_start(struct tc_pace *p, int64_t now, double rate_hz, double duration)
{
	p->interval = rate_hz > 0 ? (int64_t)llround(1e9 / rate_hz) : 0;
	if (rate_hz > 0 && p->interval < 1000)
		p->interval = 1000;
	p->next = now;
	p->end = duration > 0 ? now + (int64_t)llround(duration * 1e9) : INT64_MAX;
	p->missed = 0;
}

bool tc_pace_wake(const struct tc_pace *p, int64_t *wake)
{
	if (p->next >= p->end) {
		*wake = p->end;
		return true;
	}
	*wake = p->next;
	return false;
}

void tc_pace_done(struct tc_pace *p, int64_t now)
{
	if (!p->interval)
		return;
	p->next += p->interval;
	int64_t behind = now - p->next;
	if (behind >= p->interval) {
		int64_t skip = behind / p->interval;
		p->missed += (uint64_t)skip;
		p->next += skip * p->interval;
	}
}

/* SPDX-License-Identifier: MIT */
/* The sampler's slot policy, apart from any clock so it can be tested with a fake one.
 *
 * Time is cut into slots of 1/rate from the start; each slot gets one sample, taken at its
 * start (absolute deadlines: the rate does not drift with the cost of each sample). A sample
 * that ends late into the next slot (a slow wake-up or walk) is followed at once: late, but in
 * its own slot. Slots that passed whole are skipped and counted, never made up in a burst. A
 * recording with a duration ends at it, not at the first slot after it. */
#ifndef TC_PACE_H
#define TC_PACE_H

#include <stdbool.h>
#include <stdint.h>

struct tc_pace {
	int64_t interval; /* ns per slot; 0: back to back (no sleeping, no slots) */
	int64_t next;     /* start of the next slot, ns on the caller's clock */
	int64_t end;      /* end of the recording; INT64_MAX: none */
	uint64_t missed;  /* slots skipped because they passed whole */
};

/* Start at NOW with RATE_HZ (<= 0: back to back) for DURATION seconds (<= 0: no end). An
 * interval below 1 us is raised to 1 us. */
void tc_pace_start(struct tc_pace *p, int64_t now, double rate_hz, double duration);

/* When to wake up for the next sample (*WAKE); true when that wake-up is the recording's end
 * (no sample follows it). */
bool tc_pace_wake(const struct tc_pace *p, int64_t *wake);

/* The sample of the current slot ended at NOW: on to the next slot. */
void tc_pace_done(struct tc_pace *p, int64_t now);

#endif

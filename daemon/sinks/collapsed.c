/* SPDX-License-Identifier: MIT */
/* Collapsed ("folded") stacks, the input of flamegraph.pl, also read by speedscope and the
 * Firefox Profiler. One line per distinct (thread, stack):
 *
 *     tid:NATIVE_ID;FILE:QUALNAME:LINE;...;FILE:QUALNAME:LINE COUNT
 *
 * root first: the thread, then the outermost frame, down to the innermost. A thread whose
 * stack had no Python frames gives "tid:NATIVE_ID COUNT". When the native id is unknown (0)
 * the root is the Python thread ident in hex, "tid:0x7f3a...", which cannot be mistaken for
 * a decimal native id. An unknown LINE is written "?". Stacks with a zero count are left out.
 *
 * Escaping, chosen so that common names print untouched and the format stays reversible:
 * in FILE and QUALNAME, ';' -> "%3B", '%' itself -> "%25", and every control character
 * (C0 such as newline "%0A" or ESC "%1B", DEL "%7F", a C1 control as its two UTF-8 bytes
 * "%C2%9B") and every byte that is not UTF-8 -> "%XX" (daemon/sinks/escape.h); in QUALNAME
 * also ':' -> "%3A". A reader therefore takes COUNT after the last space, splits the rest on
 * ';', splits each frame on its last two ':' (LINE, then QUALNAME; FILE may contain ':') and
 * percent-decodes the bytes. Spaces and other UTF-8 pass as is, and no terminal control
 * sequence from the target reaches the file. */
#include "daemon/sinks/sinks.h"
#include "daemon/sinks/escape.h"

#include <inttypes.h>

#include "tc/common.h"

/* Write the root label of thread I. */
static void tc_collapsed_root(const struct tc_profile *p, size_t i, FILE *out)
{
	uint64_t native = tc_profile_thread_native_id(p, i);

	if (native)
		fprintf(out, "tid:%" PRIu64, native);
	else
		fprintf(out, "tid:0x%" PRIx64, tc_profile_thread_ident(p, i));
}

/* Threads in order of first appearance, their stacks likewise. */
int tc_sink_collapsed(const struct tc_profile *p, FILE *out)
{
	int err = 0;

	for (size_t i = 0; i < tc_profile_nthreads(p); i++) {
		for (size_t j = 0; j < tc_profile_thread_nstacks(p, i); j++) {
			const int32_t *ids;
			size_t n;
			uint64_t count = tc_profile_thread_stack(p, i, j, &ids, &n);

			if (!count)
				continue;
			tc_collapsed_root(p, i, out);
			/* Stored innermost first; the format wants the root first. */
			for (size_t k = n; k-- > 0;) {
				const struct tc_pframe *f = tc_profile_get_frame(p, ids[k]);

				putc(';', out);
				tc_esc_collapsed(f->file, false, out);
				putc(':', out);
				tc_esc_collapsed(f->qualname, true, out);
				if (f->line >= 0)
					fprintf(out, ":%" PRId32, f->line);
				else
					fputs(":?", out);
			}
			fprintf(out, " %" PRIu64 "\n", count);
		}
		if (ferror(out))
			break;
	}
	if (fflush(out) || ferror(out))
		err = -TC_EIO;
	return err;
}

static int tc_collapsed_finish(struct tc_sink *s, const struct tc_profile *p)
{
	return tc_sink_collapsed(p, s->out);
}

const struct tc_sink_format tc_format_collapsed = {
	.name = "collapsed",
	.aliases = (const char *const[]){ "folded", NULL }, /* flamegraph.pl's name for it */
	.exts = (const char *const[]){ "txt", "folded", "collapsed", NULL },
	.help = "folded stacks with their counts, for flamegraph.pl",
	.finish = tc_collapsed_finish,
};

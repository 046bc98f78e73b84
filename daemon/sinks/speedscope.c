/* SPDX-License-Identifier: MIT */
/* The speedscope file format (https://www.speedscope.app/file-format-schema.json): every
 * interned frame in "shared.frames" (index = frame id; name = qualname, file, line when
 * known), then one "sampled" profile per thread, named "Thread NATIVE_ID (ident 0x...)",
 * whose samples are the thread's distinct stacks, root first, weighted by their counts
 * (unit "none": a weight is a number of samples). The busiest thread is the active profile.
 *
 * The JSON is streamed by hand rather than built as a cJSON tree: a long recording holds
 * millions of frame ids and the tree would cost tens of bytes per number. Strings are escaped
 * per RFC 8259 by tc_esc_json (daemon/sinks/escape.h): control characters, DEL and C1 included
 * as \u00NN so the file is safe to print, and invalid byte sequences (say, a lone surrogate
 * encoded by a lenient decoder) become U+FFFD, since JSON text must be UTF-8. */
#include "daemon/sinks/sinks.h"
#include "daemon/sinks/escape.h"

#include <inttypes.h>
#include <stdbool.h>

#include "tc/common.h"

#define TC_SPEEDSCOPE_SCHEMA "https://www.speedscope.app/file-format-schema.json"

/* Write S as a JSON string literal, quotes included. */
static void tc_json_str(FILE *out, const char *s)
{
	putc('"', out);
	tc_esc_json(s, out);
	putc('"', out);
}

/* Write the profile-level "name": the target's command line when known, and its pid. */
static void tc_speedscope_name(const struct tc_profile *p, FILE *out)
{
	const struct tc_profile_meta *m = tc_profile_get_meta(p);

	putc('"', out);
	if (m->command && m->command[0]) {
		tc_esc_json(m->command, out);
		fprintf(out, " (pid %d)\"", m->pid);
	} else {
		fprintf(out, "pid %d\"", m->pid);
	}
}

/* Write thread I's name, e.g. "Thread 4242 (ident 0x7f3a12345700)". */
static void tc_speedscope_thread_name(const struct tc_profile *p, size_t i, FILE *out)
{
	uint64_t native = tc_profile_thread_native_id(p, i);
	uint64_t ident = tc_profile_thread_ident(p, i);

	if (native)
		fprintf(out, "\"Thread %" PRIu64 " (ident 0x%" PRIx64 ")\"", native, ident);
	else
		fprintf(out, "\"Thread ? (ident 0x%" PRIx64 ")\"", ident);
}

/* Write thread I as a "sampled" profile object. */
static void tc_speedscope_thread(const struct tc_profile *p, size_t i, FILE *out)
{
	size_t nstacks = tc_profile_thread_nstacks(p, i);
	bool first = true;

	fputs("{\"type\":\"sampled\",\"name\":", out);
	tc_speedscope_thread_name(p, i, out);
	fprintf(out, ",\"unit\":\"none\",\"startValue\":0,\"endValue\":%" PRIu64 ",\n\"samples\":[",
		tc_profile_thread_total(p, i));
	for (size_t j = 0; j < nstacks; j++) {
		const int32_t *ids;
		size_t n;

		if (!tc_profile_thread_stack(p, i, j, &ids, &n))
			continue;
		fputs(first ? "\n[" : ",\n[", out);
		first = false;
		for (size_t k = n; k-- > 0;)
			fprintf(out, k == n - 1 ? "%" PRId32 : ",%" PRId32, ids[k]);
		putc(']', out);
	}
	fputs("],\n\"weights\":[", out);
	first = true;
	for (size_t j = 0; j < nstacks; j++) {
		const int32_t *ids;
		size_t n;
		uint64_t count = tc_profile_thread_stack(p, i, j, &ids, &n);

		if (!count)
			continue;
		fprintf(out, first ? "%" PRIu64 : ",%" PRIu64, count);
		first = false;
	}
	fputs("]}", out);
}

/* Frames first (ids are indexes into them), then one profile per thread. */
int tc_sink_speedscope(const struct tc_profile *p, FILE *out)
{
	size_t nthreads = tc_profile_nthreads(p), nframes = tc_profile_nframes(p);
	size_t active = 0;
	int err = 0;

	for (size_t i = 1; i < nthreads; i++) {
		if (tc_profile_thread_total(p, i) > tc_profile_thread_total(p, active))
			active = i;
	}
	fputs("{\"$schema\":\"" TC_SPEEDSCOPE_SCHEMA "\",\n\"exporter\":\"tachyon-c\",\n\"name\":",
	      out);
	tc_speedscope_name(p, out);
	fprintf(out, ",\n\"activeProfileIndex\":%zu,\n\"shared\":{\"frames\":[", active);
	for (size_t id = 0; id < nframes; id++) {
		const struct tc_pframe *f = tc_profile_get_frame(p, (int32_t)id);

		fputs(id ? ",\n{\"name\":" : "\n{\"name\":", out);
		tc_json_str(out, f->qualname);
		fputs(",\"file\":", out);
		tc_json_str(out, f->file);
		/* The schema has no null: an unknown line is left out rather than invented. */
		if (f->line >= 0)
			fprintf(out, ",\"line\":%" PRId32, f->line);
		putc('}', out);
	}
	fputs("]},\n\"profiles\":[", out);
	for (size_t i = 0; i < nthreads; i++) {
		fputs(i ? ",\n" : "\n", out);
		tc_speedscope_thread(p, i, out);
		if (ferror(out))
			break;
	}
	fputs("]}\n", out);
	if (fflush(out) || ferror(out))
		err = -TC_EIO;
	return err;
}

static int tc_speedscope_finish(struct tc_sink *s, const struct tc_profile *p)
{
	return tc_sink_speedscope(p, s->out);
}

const struct tc_sink_format tc_format_speedscope = {
	.name = "speedscope",
	.exts = (const char *const[]){ "json", NULL },
	.help = "JSON for speedscope.app, one profile per thread",
	.finish = tc_speedscope_finish,
};

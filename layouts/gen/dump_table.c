/* SPDX-License-Identifier: MIT */
/* Print every field of the compiled-in layout for one version as `name value` lines, so a test
 * can compare the tables with another source (tests/functional/test_layout_dwarf.py asks gdb).
 *
 *   cc -Iinclude -I. layouts/gen/dump_table.c layouts/tables.c -o dump_table
 *   ./dump_table 0x030c01f0 [debug]
 *
 * Exit status: 0 printed, 1 no table for that version, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layouts/layout.h"

#define P(field) printf("%s %lld\n", #field, (long long)l.field)

int main(int argc, char **argv)
{
	struct tc_layout l;
	char *end;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "debug") != 0)) {
		fprintf(stderr, "usage: %s VERSION_HEX [debug]\n", argv[0]);
		return 2;
	}
	unsigned long hex = strtoul(argv[1], &end, 0);
	if (*end != '\0' || hex > UINT32_MAX) {
		fprintf(stderr, "dump_table: bad version %s\n", argv[1]);
		return 2;
	}
	if (tc_layout_from_table((uint32_t)hex, argc == 3, &l) < 0) {
		fprintf(stderr, "dump_table: no table for 0x%08lx (tables cover %s)\n", hex,
			tc_layout_table_range);
		return 1;
	}
	P(version_hex);
	P(debug);
	P(free_threaded);
	P(frame_model);
	P(linetable);
	P(runtime.interpreters_head);
	P(runtime.main_thread);
	P(runtime.gil);
	P(runtime.tstate_current);
	P(interp.size);
	P(interp.next);
	P(interp.threads_head);
	P(interp.threads_main);
	P(interp.gil_ptr);
	P(gil.locked);
	P(gil.last_holder);
	P(tstate.size);
	P(tstate.next);
	P(tstate.interp);
	P(tstate.frame);
	P(tstate.cframe);
	P(tstate.current_frame);
	P(tstate.thread_id);
	P(tstate.native_thread_id);
	P(tstate.holds_gil);
	P(cframe.current_frame);
	P(frameobj.size);
	P(frameobj.f_back);
	P(frameobj.f_code);
	P(frameobj.f_lasti);
	P(frameobj.f_lineno);
	P(frameobj.f_trace);
	P(iframe.size);
	P(iframe.previous);
	P(iframe.code);
	P(iframe.instr);
	P(iframe.owner);
	P(iframe.tlbc_index);
	P(iframe.owner_generator);
	P(iframe.owner_first_shim);
	P(iframe.code_tag_mask);
	P(code.size);
	P(code.filename);
	P(code.name);
	P(code.qualname);
	P(code.linetable);
	P(code.firstlineno);
	P(code.code_adaptive);
	P(code.firsttraceable);
	P(object.ob_type);
	P(bytes.ob_size);
	P(bytes.ob_sval);
	P(unicode.length);
	P(unicode.state);
	P(unicode.ascii_data);
	P(unicode.compact_data);
	P(unicode.kind_shift);
	P(unicode.compact_bit);
	P(unicode.ascii_bit);
	return 0;
}

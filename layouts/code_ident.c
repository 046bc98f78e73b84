/* SPDX-License-Identifier: MIT */
/* Where a code object's identity can be read: see tc_layout_code_identity in layout.h.
 *
 * A code cache keyed by address is wrong once the code object is freed and another one is
 * allocated at the same address (programs that exec() generated code or build functions per
 * request do this all the time). 3.14+ count the frees (interp->_code_object_generation) and
 * the walker empties the cache when the count moves. Before that, the walker compares a span
 * of the code object, read in the same batch as the frames, with the span it saw when it
 * decoded the object. Offsets below are relative to co_firstlineno and co_linetable, which
 * every layout has, so debug and free-threaded builds (whose headers are larger) follow.
 * Field order from Include/cpython/code.h of each version (checked with gdb `ptype /o
 * PyCodeObject` on the pyenv builds 3.9.18, 3.11.7, 3.12.1, 3.13.0). */
#include "layouts/layout.h"

#include "layouts/version.h"
#include "tc/common.h"

void tc_layout_code_identity(struct tc_layout *l)
{
	const unsigned minor = TC_HEX_MINOR(l->version_hex);
	const int32_t first = l->code.firstlineno, lt = l->code.linetable;

	l->code.flags = -1;
	l->code.ident_off = 0;
	l->code.ident_len = 0;
	l->code.ident_name = false;
	if (first < 0 || lt < 0)
		return;
	if (minor <= 10) {
		/* co_argcount, posonly, kwonly, nlocals, stacksize, flags, firstlineno, then the
		 * pointers co_code .. co_lnotab (co_zombieframe and later change at run time) */
		l->code.flags = first - 4;
		l->code.ident_off = first - 24;
		l->code.ident_len = lt + 8 - l->code.ident_off;
		l->code.ident_name = true;
	} else if (minor == 11) {
		/* co_argcount .. co_linetable (co_warmup, just before, counts calls) */
		l->code.flags = first - 24;
		l->code.ident_off = first - 16;
		l->code.ident_len = lt + 8 - l->code.ident_off;
		l->code.ident_name = true;
	} else if (minor <= 13) {
		/* co_firstlineno .. co_linetable, with co_version at co_firstlineno + 24 */
		l->code.flags = first - 20;
		l->code.ident_off = first;
		l->code.ident_len = lt + 8 - first;
	}
	if (l->code.ident_len < 0 || l->code.ident_len > 128 || l->code.ident_off < 0) {
		l->code.ident_len = 0;
		l->code.ident_name = false;
	}
}

int tc_layout_walkable(const struct tc_layout *l)
{
	if (l->tstate.size <= 0 || l->tstate.size > TC_WALK_TSTATE_MAX ||
	    l->iframe.size > TC_WALK_FRAME_MAX || l->frameobj.size > TC_WALK_FRAME_MAX ||
	    l->code.size <= 0 || l->code.size > TC_WALK_CODE_MAX ||
	    l->unicode.ascii_data <= 0 || l->unicode.ascii_data > TC_WALK_STR_HDR_MAX ||
	    l->unicode.length < 0 || l->unicode.length >= l->unicode.ascii_data ||
	    l->code.ident_len < 0 || l->code.ident_len > TC_WALK_IDENT_MAX)
		return -TC_EINVAL;
	return 0;
}

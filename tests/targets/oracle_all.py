# SPDX-License-Identifier: MIT
"""Oracle target: every scenario of the oracle targets in one process (the short run of
tests/functional/test_oracle.py starts one process per interpreter): generator chains on the
main thread, the call graph, code generation, thread churn, a steady thread and the
70,000-frame recursion next to them on threads of their own.

Usage: python oracle_all.py  (handshake and oracle comments: see oracle_common.py)
"""

import oracle_calls
import oracle_codegen
import oracle_common
import oracle_deep
import oracle_gens
import oracle_threads

if __name__ == "__main__":
    oracle_common.serve([oracle_gens.gens, oracle_calls.calls, oracle_codegen.codegen, oracle_threads.churn, oracle_threads.steady, oracle_deep.deep])  # -> @serve

# SPDX-License-Identifier: MIT
"""Oracle target: the scenarios of the oracle targets in one process (the short run of
tests/functional/test_oracle.py starts one per interpreter): generator chains on the main
thread, the call graph, code generation, thread churn and a steady thread on threads of their
own. The 70,000-frame recursion (oracle_deep.py) runs in a process of its own: reading it makes
every sample slow, which would leave the others a few samples each.

Usage: python oracle_all.py  (handshake and oracle comments: see oracle_common.py)
"""

import oracle_calls
import oracle_codegen
import oracle_common
import oracle_gens
import oracle_threads

if __name__ == "__main__":
    oracle_common.serve([oracle_gens.gens, oracle_calls.calls, oracle_codegen.codegen, oracle_threads.churn, oracle_threads.steady])  # -> @serve

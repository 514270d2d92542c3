// SuiteSparse CHOLMOD (Debian's libsuitesparse-dev), the sparse Cholesky
// factorisation lme4 uses through R's Matrix package. Debian ships no
// pkg-config file for it; the headers are in /usr/include/suitesparse.
#ifndef BAYESGLMM_CCHOLMOD_SHIM_H
#define BAYESGLMM_CCHOLMOD_SHIM_H
#include <suitesparse/cholmod.h>

/// CHOLMOD's constants, as functions Swift can call.
static inline int ccholmod_simplicial(void) { return CHOLMOD_SIMPLICIAL; }
static inline int ccholmod_real(void) { return CHOLMOD_REAL; }
static inline int ccholmod_solve_a(void) { return CHOLMOD_A; }
static inline int ccholmod_ok(void) { return CHOLMOD_OK; }
static inline int ccholmod_not_positive_definite(void) { return CHOLMOD_NOT_POSDEF; }
static inline int ccholmod_out_of_memory(void) { return CHOLMOD_OUT_OF_MEMORY; }
/// Analyse a matrix in the order it is given: one method, the natural
/// ordering, and no postordering of the elimination tree.
static inline void ccholmod_use_natural_ordering(cholmod_common *common) {
    common->nmethods = 1;
    common->method[0].ordering = CHOLMOD_NATURAL;
    common->postorder = 0;
}
#endif

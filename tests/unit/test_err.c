/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the error table (include/pat/err.h): every code has a
 * class, and each class is the one callers rely on. The expected classes
 * are written out here by hand, apart from the table, so that moving a
 * code to another class is a visible change to this file too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pat/err.h"

static const struct {
    int err;
    int cls;
} expected[] = {
    {PAT_EMALFORMED, PAT_CLASS_VERDICT},    {PAT_EUNKNOWN, PAT_CLASS_VERDICT},
    {PAT_EEXPIRED, PAT_CLASS_VERDICT},      {PAT_EREVOKED, PAT_CLASS_VERDICT},
    {PAT_EREUSED, PAT_CLASS_VERDICT},       {PAT_EDISABLED, PAT_CLASS_VERDICT},
    {PAT_EADDRESS, PAT_CLASS_VERDICT},      {PAT_EAUDIENCE, PAT_CLASS_VERDICT},
    {PAT_EINSUFFICIENT, PAT_CLASS_VERDICT}, {PAT_EINVAL, PAT_CLASS_REFUSAL},
    {PAT_ENOTFOUND, PAT_CLASS_REFUSAL},     {PAT_ECONFLICT, PAT_CLASS_REFUSAL},
    {PAT_ELIMIT, PAT_CLASS_REFUSAL},        {PAT_EPOLICY, PAT_CLASS_REFUSAL},
    {PAT_ESCOPE, PAT_CLASS_REFUSAL},        {PAT_EFORBIDDEN, PAT_CLASS_REFUSAL},
    {PAT_EINITED, PAT_CLASS_REFUSAL},       {PAT_ENOTINIT, PAT_CLASS_REFUSAL},
    {PAT_ESCHEMA, PAT_CLASS_REFUSAL},       {PAT_ERANGE, PAT_CLASS_REFUSAL},
    {PAT_EUNAVAIL, PAT_CLASS_TRANSIENT},    {PAT_ESTORE, PAT_CLASS_TRANSIENT},
    {PAT_ENOMEM, PAT_CLASS_TRANSIENT},      {PAT_ERANDOM, PAT_CLASS_TRANSIENT},
    {PAT_ECRYPTO, PAT_CLASS_TRANSIENT},     {PAT_EPENDING, PAT_CLASS_VERDICT},
    {PAT_EEXHAUSTED, PAT_CLASS_VERDICT},    {PAT_ERATE, PAT_CLASS_REFUSAL},
};

#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

static void
test_class_of_each_code(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < NEXPECTED; i++) {
        int got = pat_err_class(expected[i].err);
        if (got != expected[i].cls)
            fail_msg("%s: class %d, expected %d", pat_errname(expected[i].err),
                     got, expected[i].cls);
    }
    assert_int_equal(pat_err_class(PAT_OK), PAT_CLASS_OK);
}

/* Every code of the table has a real class and is in the list above. */
static void
test_table_fully_classed(void **state)
{
    size_t codes = 0, i;
    bool listed;

    (void)state;
#define CHECK_CODE(name, value, cls, msg)                                      \
    codes++;                                                                   \
    assert_int_not_equal(pat_err_class(PAT_##name), PAT_CLASS_BUG);            \
    assert_int_not_equal(pat_err_class(PAT_##name), PAT_CLASS_OK);             \
    assert_int_equal(pat_err_class(PAT_##name), PAT_CLASS_##cls);              \
    listed = false;                                                            \
    for (i = 0; i < NEXPECTED; i++)                                            \
        listed |= expected[i].err == PAT_##name;                               \
    if (!listed)                                                               \
        fail_msg("%s has no expected class in test_err.c", #name);
    PAT_ERR_MAP(CHECK_CODE)
#undef CHECK_CODE
    assert_int_equal(codes, NEXPECTED);
}

/* Codes outside the table, on either side of it, are bugs. */
static void
test_unknown_codes_are_bugs(void **state)
{
    int lowest = 0;

    (void)state;
#define LOWEST(name, value, cls, msg)                                          \
    if (PAT_##name < lowest)                                                   \
        lowest = PAT_##name;
    PAT_ERR_MAP(LOWEST)
#undef LOWEST
    assert_int_equal(pat_err_class(lowest - 1), PAT_CLASS_BUG);
    assert_int_equal(pat_err_class(-999), PAT_CLASS_BUG);
    assert_int_equal(pat_err_class(1), PAT_CLASS_BUG);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_of_each_code),
        cmocka_unit_test(test_table_fully_classed),
        cmocka_unit_test(test_unknown_codes_are_bugs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

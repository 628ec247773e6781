"""Compiler options shared by every aio target (the abseil model: one constant).

The warnings apply to aio's own code only: system headers are included with
-isystem by GCC's default paths, and third-party code does not use these lists.
The language standard is not here: .bazelrc sets -std=c++20 for the whole build,
so a consumer workspace picks its own (C++20 or later).
"""

AIO_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-missing-field-initializers",
]

# Tests use gtest's macros, which trip -Wsign-compare in EXPECT_EQ(size_t, int).
AIO_TEST_COPTS = AIO_COPTS + ["-Wno-sign-compare"]

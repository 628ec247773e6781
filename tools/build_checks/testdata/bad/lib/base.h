// A fixture of include_check_test: a file of a tree with layering mistakes in it.
#pragma once

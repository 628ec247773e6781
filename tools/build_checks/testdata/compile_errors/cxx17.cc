// aio built without C++20.
#include "aio.h"
